import type { Compose } from './docker.js';
import { reportBody, reportJourney } from './report-journey.js';
import { check, importAudience, metricsToken, sample, sendAndWait, signupConfirmAndSend, sinkMessages, waitFor, webUrl } from './journey.js';

const stopGracePeriodMs = 40_000;
const audience = 300;

export type Timed = <T>(label: string, step: () => Promise<T>) => Promise<T>;

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

/**
 * On the stack started without .env: the journey, /metrics protection, a 300-recipient campaign on
 * three workers (each recipient once), then every worker draining to exit 0 on stop.
 */
export async function firstRun(compose: Compose, timed: Timed): Promise<void> {
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
  const campaign = await timed(`send ${audience} recipients with 3 workers`, () => sendAndWait('Smoke issue 2', 300_000, reportBody));
  check(campaign.recipients === audience + 1, `the campaign snapshots ${audience + 1} recipients (got ${campaign.recipients})`);

  const received = (await sinkMessages()).filter((message) => message.subject === 'Smoke issue 2');
  const perRecipient = new Map<string, number>();
  for (const message of received) for (const to of message.recipients) perRecipient.set(to, (perRecipient.get(to) ?? 0) + 1);
  const missing = emails.filter((email) => !perRecipient.has(email));
  const doubled = [...perRecipient].filter(([, count]) => count !== 1);
  check(missing.length === 0, `every recipient got the newsletter (missing ${missing.length}: ${missing.slice(0, 5).join(', ')})`);
  check(doubled.length === 0, `nobody got it twice (${doubled.slice(0, 5).join(', ')})`);
  await timed('report filled by the sink\'s signed events (timeline, links, people)', () => reportJourney(campaign.campaignId, campaign.recipients));

  // The workers' own counters agree with the sink: every send counted by the worker that made it.
  let sent = 0;
  for (const index of [1, 2, 3]) sent += sample(await workerMetrics(compose, index), 'herald_sends_total{outcome="sent"}');
  check(sent >= audience + 1, `the workers' herald_sends_total{outcome="sent"} adds up to the sends (${sent})`);

  const stopStarted = performance.now();
  await timed('stop 3 workers (drain)', () => compose(['stop', 'worker'], { echo: true }));
  const stopMs = performance.now() - stopStarted;
  const stopped = await containers(compose, 'worker');
  check(stopped.length === 3, `3 worker containers listed after stop (${stopped.length})`);
  for (const worker of stopped) check(worker.State === 'exited' && worker.ExitCode === 0, `${worker.Name} drained and exited 0 (state ${worker.State}, code ${worker.ExitCode})`);
  check(stopMs < stopGracePeriodMs, `workers stopped within stop_grace_period (${(stopMs / 1000).toFixed(1)} s)`);
}

