/**
 * `npm run bench`: Herald's performance figures, in one run on this machine, as ratios within the run.
 *
 * 1. Send throughput at provider latency 0 and 100 ms: bare BullMQ with an empty processor, bare
 *    BullMQ + one @sendgrid/mail call per job, Herald with SEND_BATCH_SIZE=1 and Herald at its
 *    defaults (batched); the bare sender and Herald with SEND_BATCH_SIZE=1 again at a low
 *    concurrency. Each row with the machine's busy CPU per recipient, split by process.
 * 2. A large run: Herald at its defaults at 100 ms, POST /send to the last recipient at the provider.
 * 3. POST /send answer time with every task id, for the audiences in --send-sizes; the same for two
 *    overlapping lists and a segment against the default list, at --scale subscribers; a segment's count.
 * 4. CSV import rate through the real import endpoint.
 * 5. JSON signups/s and p99 latency under concurrent clients while a campaign sends.
 * 6. SendGrid webhook events applied per second, signed POSTs to the web applied by the worker,
 *    against bare INSERTs of the same rows; CPU per 1,000 events by process; then the same while a
 *    campaign is sending (event-ingest.ts).
 * 7. A large campaign's report and recipient pages read over HTTP, seeded in SQL and counted by
 *    `npm run reports:rebuild` (report-reads.ts).
 *
 * Each sending system runs in a process of its own over a private Redis, against a provider
 * stand-in in its own process. Writes bench/results/<YYYY-MM-DD>T<HHMM>.json and .md, prints the
 * Markdown and regenerates, in docs/performance.md, the tables of the phases it ran (readme-table.ts).
 * Flags: see options.ts; an unknown one prints them all.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BenchResult } from './bench-result.js';
import { benchAdminDatabaseUrl } from './bench-web.js';
import { repoRoot } from './child-processes.js';
import { summariseCpuProfile } from './cpu-profile.js';
import { measureImport } from './csv-import.js';
import { measureEventIngest } from './event-ingest.js';
import { describeMachine, loadAverage } from './machine.js';
import { isFullRun, parseOptions } from './options.js';
import { startProvider } from './provider.js';
import { benchTablePage, updateBenchTable } from './readme-table.js';
import { renderReport } from './render-report.js';
import { measureReportReads } from './report-reads.js';
import { measureSegmentCount } from './segment-count.js';
import { measureSendAnswer } from './send-answer.js';
import { measureSendAudienceAnswer } from './send-audience-answer.js';
import { runBare, runHerald } from './send-run.js';
import type { SendRun } from './send-run.js';
import { measureSignupsWhileSending } from './signups-while-sending.js';

const log = (...parts: unknown[]) => console.error(`[${new Date().toISOString().slice(11, 19)}]`, ...parts);

const options = (() => {
  try {
    return parseOptions(process.argv.slice(2));
  } catch (err) {
    console.error((err as Error).message);
    process.exit(2);
  }
})();
const startedAt = new Date();
const result: BenchResult = {
  startedAt: startedAt.toISOString(),
  finishedAt: '',
  fullRun: isFullRun(options),
  options,
  machine: await describeMachine(benchAdminDatabaseUrl),
  throughput: [],
  large: null,
  sendAnswers: [],
  csvImport: null,
  signups: null,
  events: null,
  eventsWhileSending: null,
  reports: null,
  profiles: [],
  failures: [],
};

/** Runs one measurement; a failure is recorded with its reason and the bench goes on. */
async function attempt<T>(what: string, measure: () => Promise<T>): Promise<T | undefined> {
  log(what);
  try {
    return await measure();
  } catch (err) {
    log(`${what} failed:`, err);
    result.failures.push({ what, error: err instanceof Error ? err.message : String(err) });
    return undefined;
  }
}

// The worker and the web run as in production: compiled JavaScript.
const build = spawnSync('npx', ['tsc', '-b', 'apps/worker', 'apps/web'], { cwd: repoRoot, stdio: 'inherit' });
if (build.status !== 0) throw new Error('building the worker and the web failed');

const { recipients, concurrency, lowConcurrency, ratePerSecond } = options;
const single = { concurrency, batchSize: 1, ratePerSecond };
const singleLow = { concurrency: lowConcurrency, batchSize: 1, ratePerSecond };
// Every setting at the worker's own default: what an operator who sets only the API key gets.
const defaults = { ratePerSecond };

if (options.only.includes('throughput')) {
  // BullMQ's own ceiling here; with no provider, latency does not apply.
  const empty = await attempt(`bare BullMQ, empty processor, ${recipients} jobs`, () => runBare({ concurrency, count: recipients }));
  if (empty) result.throughput.push(empty);
  for (const latencyMs of [0, 100]) {
    const provider = await startProvider(latencyMs);
    const runs: [string, () => Promise<SendRun>][] = [
      ['bare BullMQ + @sendgrid/mail', () => runBare({ provider, concurrency, count: recipients })],
      ['Herald, SEND_BATCH_SIZE=1', () => runHerald({ provider, count: recipients, ...single })],
      ['Herald at its defaults', () => runHerald({ provider, count: recipients, ...defaults })],
      // Where the CPU does not bind, in flight should be the configured concurrency.
      [`bare BullMQ + @sendgrid/mail, concurrency ${lowConcurrency}`, () => runBare({ provider, concurrency: lowConcurrency, count: recipients })],
      [`Herald, SEND_BATCH_SIZE=1, concurrency ${lowConcurrency}`, () => runHerald({ provider, count: recipients, ...singleLow })],
    ];
    for (const [name, run] of runs) {
      const done = await attempt(`${name}, latency ${latencyMs} ms, ${recipients} recipients`, run);
      if (done) result.throughput.push(done);
    }
    await provider.close();
  }
}

// The send profiles go with the sending phases; --only=events,reports --profile profiles the events alone.
if (options.profile && options.only.some((phase) => phase !== 'events' && phase !== 'reports')) {
  const provider = await startProvider(100);
  for (const [system, settings] of [['herald', single], ['herald-batched', defaults]] as const) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'herald-profile-'));
    await attempt(`CPU profile of ${system}, latency 100 ms`, async () => {
      await runHerald({ provider, count: recipients, ...settings, profileDir: dir });
      result.profiles.push({ system, top: summariseCpuProfile(dir) });
    });
  }
  await provider.close();
}

if (options.only.includes('large')) {
  const provider = await startProvider(100);
  const milestones = [10_000, 100_000, 1_000_000].filter((milestone) => milestone < options.scale);
  result.large =
    (await attempt(`large run: Herald at its defaults, latency 100 ms, ${options.scale} recipients`, () =>
      runHerald({ provider, count: options.scale, ...defaults, milestones: [...milestones, options.scale] }),
    )) ?? null;
  await provider.close();
}

if (options.only.includes('send')) {
  for (const size of options.sendSizes) {
    if (result.large?.recipients === size) continue;
    const answer = await attempt(`POST /send answer time, ${size} recipients`, () => measureSendAnswer(size));
    if (answer) result.sendAnswers.push(answer);
  }
  result.sendAudience = (await attempt(`POST /send to two overlapping lists and a segment, ${options.scale} subscribers`, () => measureSendAudienceAnswer(options.scale))) ?? null;
  result.segmentCount = (await attempt(`segment count, ${options.scale} subscribers`, () => measureSegmentCount(options.scale))) ?? null;
}

if (options.only.includes('import')) {
  result.csvImport = (await attempt(`CSV import, ${options.importRows} rows × ${options.importRuns}`, () => measureImport(options.importRows, options.importRuns))) ?? null;
}

if (options.only.includes('signups')) {
  result.signups =
    (await attempt(`signups, ${options.signupClients} clients for ${options.signupSeconds} s while ${options.signupCampaign} recipients send`, () =>
      measureSignupsWhileSending({ clients: options.signupClients, seconds: options.signupSeconds, campaignRecipients: options.signupCampaign, ratePerSecond }),
    )) ?? null;
}

if (options.only.includes('events')) {
  const events = await attempt(`SendGrid events applied, ${options.eventCount} events, then again while a campaign sends`, () =>
    measureEventIngest(options.eventCount, { whileSending: true }),
  );
  result.events = events?.alone ?? null;
  // Recorded as a failure of its own: the events applied alone still count.
  const whileSending = events?.whileSending ?? null;
  if (whileSending && 'error' in whileSending) {
    log('SendGrid events applied while a campaign sends failed:', whileSending.error);
    result.failures.push({ what: `SendGrid events applied while a campaign sends, ${options.eventCount} events`, error: whileSending.error });
  } else result.eventsWhileSending = whileSending;
  if (options.profile) {
    // A run of its own under --cpu-prof, whose figures are not kept: profiling slows what it profiles.
    const dirs = { worker: mkdtempSync(path.join(os.tmpdir(), 'herald-profile-')), web: mkdtempSync(path.join(os.tmpdir(), 'herald-profile-')) };
    await attempt(`CPU profile of the worker and the web applying ${options.eventCount} events`, async () => {
      await measureEventIngest(options.eventCount, { profileDirs: dirs });
      result.profiles.push({ system: 'events: worker', top: summariseCpuProfile(dirs.worker) }, { system: 'events: web', top: summariseCpuProfile(dirs.web) });
    });
  }
}

if (options.only.includes('reports')) {
  result.reports =
    (await attempt(`report reads, ${options.reportRecipients} recipients, ${options.reportEvents} events`, () =>
      measureReportReads(options.reportRecipients, options.reportEvents),
    )) ?? null;
}

result.machine.loadAverageEnd = loadAverage();
result.finishedAt = new Date().toISOString();
const resultsDir = path.join(repoRoot, 'bench/results');
const name = startedAt.toISOString().slice(0, 16).replaceAll(':', '');
mkdirSync(resultsDir, { recursive: true });
writeFileSync(path.join(resultsDir, `${name}.json`), `${JSON.stringify(result, null, 2)}\n`);
const report = renderReport(result);
writeFileSync(path.join(resultsDir, `${name}.md`), report);
console.log(report);
console.log(`written: bench/results/${name}.json and .md`);
if (!options.noReadme) {
  updateBenchTable(path.join(repoRoot, benchTablePage), resultsDir);
  console.log(`${benchTablePage}: performance tables regenerated`);
}
process.exit(result.failures.length > 0 ? 1 : 0);
