import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BenchResult } from '../scripts/bench/bench-result.js';
import { fullRun } from '../scripts/bench/options.js';
import type { EventIngestResult, EventsWhileSendingResult } from '../scripts/bench/event-ingest.js';
import { benchTablePage, blocksOf, replaceBenchBlock, updateBenchTable } from '../scripts/bench/readme-table.js';
import { eventsBlock, readmeBlock } from '../scripts/bench/render-report.js';
import type { SendRun } from '../scripts/bench/send-run.js';

function sendRun(overrides: Partial<SendRun>): SendRun {
  return {
    system: 'bare-client',
    latencyMs: 100,
    concurrency: 200,
    batchSize: null,
    recipients: 20_000,
    seconds: 20,
    sendsPerSecond: 1_000,
    providerRequests: 20_000,
    inFlightAverage: 100,
    inFlightPeak: 200,
    exactlyOnce: true,
    workerRssPeakMb: 150,
    workerCpuPercent: 90,
    redisPeakMb: 3,
    rssAtSentMb: {},
    sendAnswerMs: null,
    jobsRunningAverage: null,
    dbPoolWaitingAverage: null,
    eventLoopP99MedianMs: null,
    eventLoopP99MaxMs: null,
    ...overrides,
  };
}

function result(overrides: Partial<BenchResult> = {}): BenchResult {
  return {
    startedAt: '2026-12-01T02:00:00.000Z',
    finishedAt: '2026-12-01T03:00:00.000Z',
    fullRun: true,
    options: fullRun,
    machine: { cpuModel: 'Test CPU', cores: 2, memoryGiB: 8, node: 'v20.20.2', postgres: '15.20', redis: '7.0.15', loadAverageStart: [0.1, 0.2, 0.3], loadAverageEnd: [1, 1, 1] },
    throughput: [
      sendRun({ cpu: { machine: 17, worker: 12, web: 0, postgres: 0.5, redis: 2, other: 2.5 } }),
      sendRun({
        system: 'herald-batched',
        batchSize: 1_000,
        concurrency: 1_000,
        sendsPerSecond: 2_500,
        providerRequests: 20,
        exactlyOnce: false,
        cpu: { machine: 13, worker: 6.5, web: 1, postgres: 2.75, redis: 2, other: 0.75 },
      }),
    ],
    large: null,
    sendAnswers: [{ recipients: 100_000, answerMs: 1_350 }],
    csvImport: null,
    signups: null,
    profiles: [],
    failures: [],
    ...overrides,
  };
}

const eventsAlone: EventIngestResult = {
  recipients: 133_334,
  events: 200_000,
  batches: 210,
  duplicates: 10_000,
  seconds: 20,
  eventsPerSecond: 10_000,
  postSeconds: 12,
  cpu: { machine: 30, worker: 2, web: 3, postgres: 22, redis: 0.2, other: 2.8 },
  bareInsertSeconds: 4,
  bareInsertEventsPerSecond: 50_000,
  exact: true,
  mismatches: [],
};

function whileSending(overrides: Partial<EventsWhileSendingResult> = {}): EventsWhileSendingResult {
  return {
    recipients: 133_334,
    campaignRecipients: 400_000,
    sentAtStart: 140_000,
    sentAtEnd: 220_000,
    stillSending: true,
    sendingSeconds: 40,
    sendsPerSecond: 2_000,
    sendsPerSecondAlone: 4_500,
    events: 200_000,
    batches: 210,
    duplicates: 10_000,
    seconds: 40,
    eventsPerSecond: 5_000,
    postSeconds: 25,
    cpu: { machine: 72, worker: 20, web: 4, postgres: 40, redis: 4, other: 4 },
    exact: true,
    mismatches: [],
    ...overrides,
  };
}

const eventsRun = (overrides: Partial<BenchResult> = {}) =>
  result({ options: { ...fullRun, only: ['events'] }, throughput: [], events: eventsAlone, eventsWhileSending: whileSending(), ...overrides });

const repoFile = (name: string) => readFileSync(new URL(`../${name}`, import.meta.url), 'utf8');

describe('the performance page\'s bench tables', () => {
  it('replaces only what stands between the markers', () => {
    const page = 'intro\n<!-- bench:start -->\nold table\n<!-- bench:end -->\nprose after\n';
    expect(replaceBenchBlock(page, 'new table')).toBe('intro\n<!-- bench:start -->\nnew table\n<!-- bench:end -->\nprose after\n');
  });

  it('refuses a page without both markers, or with either twice', () => {
    expect(() => replaceBenchBlock('no markers', 'x')).toThrow(/bench:start/);
    expect(() => replaceBenchBlock('<!-- bench:end --> <!-- bench:start -->', 'x')).toThrow(/bench:start/);
    expect(() => replaceBenchBlock('<!-- bench:start --><!-- bench:start --><!-- bench:end -->', 'x')).toThrow(/bench:start/);
  });

  it('are written into docs/performance.md, which holds the markers once and is linked from the README; the README holds none', () => {
    expect(benchTablePage).toBe('docs/performance.md');
    const page = repoFile(benchTablePage);
    expect(() => replaceBenchBlock(page, 'x')).not.toThrow();
    const readme = repoFile('README.md');
    expect(readme).not.toContain('<!-- bench:');
    expect(readme).toContain('](docs/performance.md)');
  });

  it('are rewritten from the newest result file, the prose around them left alone', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'herald-bench-table-'));
    try {
      const results = path.join(dir, 'results');
      const page = path.join(dir, 'performance.md');
      mkdirSync(results);
      writeFileSync(path.join(results, '2026-11-30T0100.json'), JSON.stringify(result({ startedAt: '2026-11-30T01:00:00.000Z' })));
      writeFileSync(path.join(results, '2026-12-01T0200.json'), JSON.stringify(result()));
      writeFileSync(path.join(results, 'notes.txt'), 'not a result');
      writeFileSync(page, '# Performance\n\n<!-- bench:start -->\nold\n<!-- bench:end -->\n\nWhat binds.\n');
      expect(updateBenchTable(page, results)).toBe(path.join(results, '2026-12-01T0200.json'));
      const written = readFileSync(page, 'utf8');
      expect(written).toBe(`# Performance\n\n<!-- bench:start -->\n${readmeBlock(result())}\n<!-- bench:end -->\n\nWhat binds.\n`);
      expect(written).toContain('Run of 2026-12-01 02:00 UTC');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('shows each system against bare BullMQ + the client at the same latency, and a recipient not sent exactly once', () => {
    const block = readmeBlock(result());
    expect(block).toContain('| Herald at its defaults (batched) | 100 ms | 1000 | 1000 | 2,500 | 2.50× | 20 |');
    expect(block).toMatch(/\| Herald at its defaults \(batched\) .*\| \*\*NO\*\* \| 650 µs \| 325 \/ 50 \/ 138 \/ 100 \/ 38 \|$/m);
    expect(block).toMatch(/\| bare BullMQ \+ @sendgrid\/mail .*\| yes \| 850 µs \| 600 \/ 0 \/ 25 \/ 100 \/ 125 \|$/m);
    expect(block).toContain('| machine CPU / recipient | of which worker / web / Postgres / Redis / rest |');
    expect(block).toContain('| Machine CPU per recipient, provider latency 100 ms | Herald at its defaults 650 µs: 0.76× the hand-written sender (850 µs) |');
    expect(block).toContain('100,000 recipients: 1.35 s');
    expect(block).toContain('load average 0.1 0.2 0.3 at the start, 1 1 1 at the end');
    expect(block).not.toContain('Reduced-size');
  });

  it('labels a reduced-size run and its note', () => {
    const block = readmeBlock(result({ fullRun: false, options: { ...fullRun, note: 'a busy machine' } }));
    expect(block).toMatch(/^\*\*Reduced-size run\*\* of 2026-12-01 02:00 UTC .*Note: a busy machine\./);
  });

  it('shows the events applied alone and while a campaign sends, each against the same run\'s bare INSERTs', () => {
    const block = eventsBlock(eventsRun());
    expect(block).toContain('| 10,000 events/s (20.00 s; every POST answered after 12.00 s): 0.20× bare INSERTs of the same batches into a copy of email_events (50,000/s); aggregates equal what was posted: yes |');
    expect(block).toContain('| Machine CPU per 1,000 events applied | 150 ms; web / worker / Postgres / Redis / rest: 15 ms / 10 ms / 110 ms / 1 ms / 14 ms |');
    expect(block).toContain('| The same while a campaign sends: 200,000 fresh events about 133,334 recipients already sent to of a 400,000-recipient campaign (140,000 sent at the first POST), posted the same way');
    expect(block).toContain('| 5,000 events/s (40.00 s; every POST answered after 25.00 s): 0.10× the bare INSERTs above (50,000/s), 0.50× the events applied alone; the campaign sent 2,000/s meanwhile (4,500/s alone, the first campaign), still sending when the last event was applied: yes (220,000 of 400,000 sent); aggregates equal what was posted: yes |');
    expect(block).toContain('| Machine CPU per 1,000 events applied while the campaign sends (its sends\' CPU included) | 360 ms, the machine 90% busy over the 2 cores; web / worker (sending too) / Postgres / Redis / rest: 20 ms / 100 ms / 200 ms / 20 ms / 20 ms |');
    expect(blocksOf(eventsRun())).toEqual([{ marker: 'bench:events', block }]);
  });

  it('says so when the campaign finished before the last event was applied, or an aggregate differs', () => {
    const block = eventsBlock(eventsRun({ eventsWhileSending: whileSending({ stillSending: false, sendingSeconds: 30, sentAtEnd: 400_000, exact: false, mismatches: ['opened events: 1, posted 2'] }) }));
    expect(block).toContain('still sending when the last event was applied: **NO**, it finished 10.00 s before (sent for 30.00 of 40.00 s)');
    expect(block).toContain('aggregates equal what was posted: **NO** (opened events: 1, posted 2) |');
  });

  it('shows the events alone from a result without the measurement while sending, and its failure when it failed', () => {
    const older = eventsBlock(eventsRun({ eventsWhileSending: undefined }));
    expect(older).toContain('| SendGrid events applied: 200,000 events');
    expect(older).not.toContain('while a campaign sends');
    const failed = eventsBlock(eventsRun({ eventsWhileSending: null, failures: [{ what: 'SendGrid events applied while a campaign sends, 200000 events', error: 'timeout' }] }));
    expect(failed).not.toContain('| The same while a campaign sends');
    expect(failed).toContain('Failed in this run: SendGrid events applied while a campaign sends, 200000 events (see the result file).');
  });
});
