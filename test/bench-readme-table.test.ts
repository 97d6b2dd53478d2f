import { describe, expect, it } from 'vitest';
import type { BenchResult } from '../scripts/bench/bench-result.js';
import { fullRun } from '../scripts/bench/options.js';
import { replaceBenchBlock } from '../scripts/bench/readme-table.js';
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
      sendRun({}),
      sendRun({ system: 'herald-batched', batchSize: 1_000, concurrency: 1_000, sendsPerSecond: 2_500, providerRequests: 20, exactlyOnce: false }),
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

describe('the README performance table', () => {
  it('replaces only what stands between the markers', () => {
    const readme = 'intro\n<!-- bench:start -->\nold table\n<!-- bench:end -->\nprose after\n';
    expect(replaceBenchBlock(readme, 'new table')).toBe('intro\n<!-- bench:start -->\nnew table\n<!-- bench:end -->\nprose after\n');
  });

  it('refuses a README without both markers, or with either twice', () => {
    expect(() => replaceBenchBlock('no markers', 'x')).toThrow(/bench:start/);
    expect(() => replaceBenchBlock('<!-- bench:end --> <!-- bench:start -->', 'x')).toThrow(/bench:start/);
    expect(() => replaceBenchBlock('<!-- bench:start --><!-- bench:start --><!-- bench:end -->', 'x')).toThrow(/bench:start/);
  });

  it('shows each system against bare BullMQ + the client at the same latency, and a recipient not sent exactly once', () => {
    const block = readmeBlock(result());
    expect(block).toContain('| Herald, batched | 100 ms | 1000 | 1000 | 2,500 | 2.50× | 20 |');
    expect(block).toMatch(/\| Herald, batched .*\| \*\*NO\*\* \|/);
    expect(block).toContain('100,000 recipients: 1.35 s');
    expect(block).toContain('load average 0.1 0.2 0.3 at the start, 1 1 1 at the end');
    expect(block).not.toContain('Reduced-size');
  });

  it('labels a reduced-size run and its note', () => {
    const block = readmeBlock(result({ fullRun: false, options: { ...fullRun, note: 'a busy machine' } }));
    expect(block).toMatch(/^\*\*Reduced-size run\*\* of 2026-12-01 02:00 UTC .*Note: a busy machine\./);
  });
});
