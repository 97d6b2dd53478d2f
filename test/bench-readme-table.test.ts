import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BenchResult } from '../scripts/bench/bench-result.js';
import { fullRun } from '../scripts/bench/options.js';
import { benchTablePage, replaceBenchBlock, updateBenchTable } from '../scripts/bench/readme-table.js';
import { readmeBlock } from '../scripts/bench/render-report.js';
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
});
