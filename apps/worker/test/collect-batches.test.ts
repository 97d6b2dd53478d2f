import { afterEach, describe, expect, it, vi } from 'vitest';
import { collectBatches } from '../src/deliveries/collect-batches.js';

/** A collector that records every batch it runs and answers each item with itself doubled. */
function recording(waitMs: number) {
  const batches: number[][] = [];
  const collect = collectBatches<number, number>(
    async (items) => {
      batches.push([...items]);
      return items.map((item) => item * 2);
    },
    { waitMs, maxSize: 3 },
  );
  return { batches, collect };
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('collectBatches', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('with no wait, runs what was given in one turn of the event loop together, without waiting for a timer', async () => {
    // Timers never fire here: a batch that ran waited for none.
    vi.useFakeTimers({ toFake: ['setTimeout', 'setInterval'] });
    const { batches, collect } = recording(0);
    const first = [collect(1), collect(2)];
    await nextTurn();
    const second = collect(3);
    expect(await Promise.all([...first, second])).toEqual([2, 4, 6]);
    expect(batches).toEqual([[1, 2], [3]]);
  });

  it('with a wait, holds the batch until it has passed, then runs at most maxSize items per batch', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'setInterval'] });
    const { batches, collect } = recording(5);
    const answers = Promise.all([1, 2, 3, 4].map((item) => collect(item)));
    await nextTurn();
    expect(batches).toEqual([]);
    await vi.advanceTimersByTimeAsync(5);
    expect(await answers).toEqual([2, 4, 6, 8]);
    expect(batches).toEqual([[1, 2, 3], [4]]);
  });

  it('fails only the item whose answer is an error', async () => {
    const collect = collectBatches<number, number>(async (items) => items.map((item) => (item === 2 ? new Error('two') : item)), {
      waitMs: 0,
      maxSize: 10,
    });
    const results = await Promise.allSettled([collect(1), collect(2), collect(3)]);
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  });
});
