import { describe, expect, it } from 'vitest';
import { coalesceCalls } from '../src/batching/coalesce-calls.js';

/** A `run` that records each call's items and answers each item doubled, after `delayMs`. */
function recordingRun(delayMs = 5, refuse = (_item: number) => false) {
  const calls: number[][] = [];
  let running = 0;
  let mostAtOnce = 0;
  const run = async (items: number[]) => {
    calls.push(items);
    running += 1;
    mostAtOnce = Math.max(mostAtOnce, running);
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    running -= 1;
    if (items.some(refuse)) throw new Error(`refused ${items.filter(refuse).join(',')}`);
    return items.map((item) => item * 2);
  };
  return { run, calls, mostAtOnce: () => mostAtOnce };
}

describe('coalesceCalls', () => {
  it('sends items asked for together in one call and answers each its own result', async () => {
    const { run, calls } = recordingRun();
    const double = coalesceCalls(run, { maxBatch: 100, maxInFlight: 4 });
    expect(await Promise.all([1, 2, 3, 4, 5].map(double))).toEqual([2, 4, 6, 8, 10]);
    expect(calls).toEqual([[1, 2, 3, 4, 5]]);
  });

  it('sends a lone item at once', async () => {
    const { run, calls } = recordingRun(0);
    const double = coalesceCalls(run, { maxBatch: 100, maxInFlight: 4 });
    expect(await double(7)).toBe(14);
    expect(await double(8)).toBe(16);
    expect(calls).toEqual([[7], [8]]);
  });

  it('keeps to maxInFlight calls and maxBatch items; what waits goes together in the next call', async () => {
    const { run, calls, mostAtOnce } = recordingRun(20);
    const double = coalesceCalls(run, { maxBatch: 3, maxInFlight: 2 });
    const first = [1, 2, 3, 4, 5, 6, 7].map(double);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const later = [8, 9].map(double);
    expect(await Promise.all([...first, ...later])).toEqual([2, 4, 6, 8, 10, 12, 14, 16, 18]);
    expect(mostAtOnce()).toBe(2);
    expect(calls).toEqual([[1, 2, 3], [4, 5, 6], [7, 8, 9]]);
  });

  it('makes a failed call again item by item, so only the refused item fails', async () => {
    const { run, calls } = recordingRun(1, (item) => item === 3);
    const double = coalesceCalls(run, { maxBatch: 100, maxInFlight: 4 });
    const outcomes = await Promise.allSettled([1, 2, 3, 4].map(double));
    expect(outcomes.map((outcome) => (outcome.status === 'fulfilled' ? outcome.value : (outcome.reason as Error).message))).toEqual([2, 4, 'refused 3', 8]);
    expect(calls).toEqual([[1, 2, 3, 4], [1], [2], [3], [4]]);
  });
});
