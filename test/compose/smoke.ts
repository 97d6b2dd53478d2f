/**
 * The compose smoke test (`npm run test:compose`): builds and runs the stack exactly as shipped
 * (docker-compose.yml and the Dockerfiles), under its own project name, and drives it from outside:
 *   1. no .env: build, start, signup → confirmation → confirm → POST /send → newsletter in the sink;
 *      /metrics refused without the token on the web; then three workers send a 300-recipient
 *      campaign, each recipient exactly once, their /metrics agreeing; then every worker drains
 *      and exits 0 on `docker compose stop worker` within stop_grace_period;
 *   2. a copied .env.example: start, the same journey.
 * `docker compose down -v` runs after each, also when a step failed, and nothing of the project
 * may be left behind. Prints what it measured.
 */
import { composeFor, ensureDocker, leftovers, repoRoot } from './docker.js';
import type { Compose } from './docker.js';
import { check, importAudience, metricsToken, sample, sendAndWait, signupConfirmAndSend, sinkMessages, waitFor, webUrl } from './journey.js';

const project = process.env.COMPOSE_SMOKE_PROJECT ?? 'herald-smoke';
const stopGracePeriodMs = 40_000;
const audience = 300;
const timings: [string, number][] = [];

async function timed<T>(label: string, step: () => Promise<T>): Promise<T> {
  const started = performance.now();
  console.log(`compose-smoke: ${label} ...`);
  const result = await step();
  const ms = performance.now() - started;
  timings.push([label, ms]);
  console.log(`compose-smoke: ${label}: ${(ms / 1000).toFixed(1)} s`);
  return result;
}

/** Runs `scenario` on a fresh stack and always takes it down with its volumes. */
async function withStack(name: string, envFile: string, scenario: (compose: Compose) => Promise<void>): Promise<void> {
  const compose = composeFor(project, envFile);
  try {
    await timed(`${name}: up until /readyz answers`, async () => {
      await compose(['up', '-d', '--build'], { echo: true });
      await waitFor('the web /readyz', async () => (await fetch(`${webUrl}/readyz`)).status === 200, 180_000);
    });
    await scenario(compose);
  } catch (err) {
    console.error(`compose-smoke: ${name} failed; container logs follow`);
    await compose(['logs', '--no-color', '--tail', '80'], { echo: true }).catch(() => undefined);
    throw err;
  } finally {
    await compose(['down', '-v', '--remove-orphans', '--timeout', '45'], { echo: true });
  }
  const left = await leftovers(project);
  check(left.length === 0, `nothing of ${project} left after down -v, found: ${left.join(', ')}`);
}

/** Every container of a service, by compose's own listing (JSON lines, or one array in older versions). */
async function containers(compose: Compose, service: string): Promise<{ Name: string; State: string; ExitCode: number; Health: string }[]> {
  const out = (await compose(['ps', '-a', '--format', 'json', service])).trim();
  if (!out) return [];
  return out.startsWith('[') ? JSON.parse(out) : out.split('\n').map((line) => JSON.parse(line));
}

async function workerMetrics(compose: Compose, index: number): Promise<string> {
  const script = `fetch('http://127.0.0.1:9464/metrics',{headers:{authorization:'Bearer ${metricsToken}'}}).then(async r=>{process.stdout.write(await r.text());process.exit(r.ok?0:1)},()=>process.exit(1))`;
  return compose(['exec', '-T', '--index', String(index), 'worker', 'node', '-e', script]);
}

async function firstRun(compose: Compose): Promise<void> {
  await timed('journey (signup, confirm, send) without .env', () => signupConfirmAndSend('first@smoke.example', 'Smoke issue 1'));

  const open = await fetch(`${webUrl}/metrics`);
  check(open.status === 401, `web /metrics without the token is refused (got ${open.status})`);
  const scraped = await fetch(`${webUrl}/metrics`, { headers: { authorization: `Bearer ${metricsToken}` } });
  check(scraped.status === 200 && (await scraped.text()).includes('herald_http_requests_total'), 'web /metrics with the token');

  await timed('scale to 3 workers', async () => {
    await compose(['up', '-d', '--scale', 'worker=3'], { echo: true });
    await waitFor('3 healthy workers', async () => {
      const workers = await containers(compose, 'worker');
      return workers.length === 3 && workers.every((worker) => worker.Health === 'healthy');
    }, 180_000);
  });
  const emails = await importAudience(audience, 'scale.smoke.example');
  const campaign = await timed(`send ${audience} recipients with 3 workers`, () => sendAndWait('Smoke issue 2', 300_000));
  check(campaign.recipients === audience + 1, `the campaign snapshots ${audience + 1} recipients (got ${campaign.recipients})`);

  const received = (await sinkMessages()).filter((message) => message.subject === 'Smoke issue 2');
  const perRecipient = new Map<string, number>();
  for (const message of received) for (const to of message.recipients) perRecipient.set(to, (perRecipient.get(to) ?? 0) + 1);
  const missing = emails.filter((email) => !perRecipient.has(email));
  const doubled = [...perRecipient].filter(([, count]) => count !== 1);
  check(missing.length === 0, `every recipient got the newsletter (missing ${missing.length}: ${missing.slice(0, 5).join(', ')})`);
  check(doubled.length === 0, `nobody got it twice (${doubled.slice(0, 5).join(', ')})`);

  // The workers' own counters agree with the sink: every send counted by the worker that made it.
  let sent = 0;
  for (const index of [1, 2, 3]) sent += sample(await workerMetrics(compose, index), 'herald_sends_total{outcome="sent"}');
  check(sent >= audience + 1, `the workers' herald_sends_total{outcome="sent"} adds up to the sends (${sent})`);

  await timed('stop 3 workers (drain)', () => compose(['stop', 'worker'], { echo: true }));
  const stopped = await containers(compose, 'worker');
  check(stopped.length === 3, `3 worker containers listed after stop (${stopped.length})`);
  for (const worker of stopped) check(worker.State === 'exited' && worker.ExitCode === 0, `${worker.Name} drained and exited 0 (state ${worker.State}, code ${worker.ExitCode})`);
  const stopMs = timings.at(-1)?.[1] ?? 0;
  check(stopMs < stopGracePeriodMs, `workers stopped within stop_grace_period (${(stopMs / 1000).toFixed(1)} s)`);
}

async function main(): Promise<void> {
  await timed('docker ready', ensureDocker);
  const stale = await leftovers(project);
  check(stale.length === 0, `no earlier ${project} stack is running (found ${stale.join(', ')}); remove it with docker compose -p ${project} down -v`);

  await timed('build', () => composeFor(project, '/dev/null')(['build'], { echo: true }));
  await withStack('no .env', '/dev/null', firstRun);
  await withStack('copied .env.example', `${repoRoot}.env.example`, async () => {
    await timed('journey (signup, confirm, send) with .env.example', () => signupConfirmAndSend('second@smoke.example', 'Smoke issue 3'));
  });

  console.log('\ncompose-smoke: passed. Timings:');
  for (const [label, ms] of timings) console.log(`  ${label.padEnd(52)} ${(ms / 1000).toFixed(1).padStart(7)} s`);
}

main().catch((err: unknown) => {
  console.error('\ncompose-smoke: FAILED');
  console.error(err);
  if (timings.length > 0) console.error(`timings so far: ${timings.map(([label, ms]) => `${label} ${(ms / 1000).toFixed(1)} s`).join('; ')}`);
  process.exit(1);
});
