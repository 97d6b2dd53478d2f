export type CoalesceOptions = {
  /** Items per call at most. */
  maxBatch: number;
  /** Calls running at once at most; items arriving meanwhile wait and go together in the next. */
  maxInFlight: number;
};

/**
 * Turns a function of many items into a function of one: items asked for in the same turn of the
 * event loop, or while `maxInFlight` calls are running, go to `run` together. Under load each call
 * then carries many items, so its fixed cost (a round trip, a statement, a commit) is paid once
 * for all of them; a lone item goes at once, on the next turn. `run` answers in the order given.
 *
 * A call that fails is made again item by item, so one item the call refuses cannot fail the
 * others; `run` must therefore change nothing when it fails (one statement, one transaction).
 */
export function coalesceCalls<Item, Result>(run: (items: Item[]) => Promise<Result[]>, { maxBatch, maxInFlight }: CoalesceOptions) {
  type Waiter = { item: Item; resolve(result: Result): void; reject(err: unknown): void };
  let waiting: Waiter[] = [];
  let inFlight = 0;
  let scheduled = false;

  const settle = async (batch: Waiter[]) => {
    try {
      const results = await run(batch.map((waiter) => waiter.item));
      batch.forEach((waiter, i) => waiter.resolve(results[i]!));
    } catch (err) {
      if (batch.length === 1) batch[0]!.reject(err);
      else await Promise.all(batch.map((waiter) => settle([waiter])));
    }
  };
  const flush = () => {
    scheduled = false;
    while (waiting.length > 0 && inFlight < maxInFlight) {
      const batch = waiting.slice(0, maxBatch);
      waiting = waiting.slice(maxBatch);
      inFlight += 1;
      void settle(batch).finally(() => {
        inFlight -= 1;
        schedule();
      });
    }
  };
  const schedule = () => {
    if (scheduled || waiting.length === 0) return;
    scheduled = true;
    setImmediate(flush);
  };

  return (item: Item): Promise<Result> =>
    new Promise<Result>((resolve, reject) => {
      waiting.push({ item, resolve, reject });
      schedule();
    });
}
