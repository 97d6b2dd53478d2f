/**
 * The compose smoke test (`npm run test:compose`): builds and runs the stack exactly as shipped
 * (docker-compose.yml and the Dockerfiles), under its own project name, and drives it from outside:
 *   1. no .env: build, start, signup → confirmation → confirm → POST /send → newsletter in the sink
 *      → its delivery in the campaign's report (the sink's signed events reach the web);
 *      /metrics refused without the token on the web; then three workers send a 300-recipient
 *      campaign, each recipient exactly once, their /metrics agreeing; then every worker drains
 *      and exits 0 on `docker compose stop worker` within stop_grace_period;
 *   2. a copied .env.example: start, the same journey, then the audiences journey
 *      (audience-journey.ts: lists, a list's embedded form and welcome email, campaigns to two
 *      lists and a segment, one-click unsubscribe from one list, a bounce signed with a key the
 *      web is given in SENDGRID_WEBHOOK_PUBLIC_KEY), then outbound webhooks (webhook-journey.ts:
 *      an endpoint at the sink's receiver, signed events verified there), then the team
 *      (team-journey.ts: the first owner logs in, an editor invited with POST /users joins through
 *      the emailed link, logs in, makes an API token on the account page whose editor routes
 *      answer and owner routes answer 403; the audit log records the invitation, join and token).
 * `docker compose down -v` runs after each, also when a step failed, and nothing of the project
 * may be left behind. Prints what it measured.
 *
 * Needs a Docker engine that can build the images from node:22-bookworm-slim, postgres:17 and
 * redis:7; OFFLINE_DOCKER_SETUP may name a script that provides one (see ensureDocker).
 */
import { spawnSync } from 'node:child_process';
import { audienceJourney } from './audience-journey.js';
import { composeFor, ensureDocker, leftovers, repoRoot } from './docker.js';
import type { Compose } from './docker.js';
import { check, signupConfirmAndSend, waitFor, webUrl } from './journey.js';
import { firstRun } from './scenarios.js';
import { teamJourney } from './team-journey.js';
import { webhookJourney } from './webhook-journey.js';

const project = process.env.COMPOSE_SMOKE_PROJECT ?? 'herald-smoke';
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

async function main(): Promise<void> {
  await timed('docker ready', ensureDocker);
  const stale = await leftovers(project);
  check(stale.length === 0, `no earlier ${project} stack is running (found ${stale.join(', ')}); remove it with docker compose -p ${project} down -v`);

  await timed('build', () => composeFor(project, '/dev/null')(['build'], { echo: true }));
  await withStack('no .env', '/dev/null', (compose) => firstRun(compose, timed));
  await withStack('copied .env.example', `${repoRoot}.env.example`, async (compose) => {
    await timed('journey (signup, confirm, send) with .env.example', () => signupConfirmAndSend('second@smoke.example', 'Smoke issue 3'));
    await timed('audiences (lists, segment, unsubscribe, bounce)', () => audienceJourney(compose));
    await timed('outbound webhooks (signed events at the sink receiver)', webhookJourney);
    await timed('team (invite, join, token, roles, audit log)', () => teamJourney());
  });

  console.log('\ncompose-smoke: passed. Timings:');
  for (const [label, ms] of timings) console.log(`  ${label.padEnd(52)} ${(ms / 1000).toFixed(1).padStart(7)} s`);
}

// Node exits 0 when its event loop empties, even with a step still pending: never a silent pass.
let finished = false;
process.on('exit', (code) => {
  if (!finished && code === 0) {
    console.error('compose-smoke: FAILED: exited before the last step finished; taking the stack down');
    spawnSync('docker', ['compose', '--project-name', project, '--project-directory', repoRoot, 'down', '-v', '--remove-orphans'], { stdio: 'inherit' });
    process.exitCode = 1;
  }
});

main().then(() => {
  finished = true;
}, (err: unknown) => {
  console.error('\ncompose-smoke: FAILED');
  console.error(err);
  if (timings.length > 0) console.error(`timings so far: ${timings.map(([label, ms]) => `${label} ${(ms / 1000).toFixed(1)} s`).join('; ')}`);
  process.exit(1);
});
