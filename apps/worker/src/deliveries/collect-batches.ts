import DataLoader from 'dataloader';

/**
 * Hands the items given within `waitMs` of each other (at most `maxSize` at a time) to `run` together
 * (with `waitMs` 0, the items given in the same turn of the event loop, with no timer to wait for),
 * and each caller gets its own item's answer: `run` returns one answer per item, in order, where an
 * Error is that item's failure alone. Nothing is cached: the same item given twice is run twice.
 */
export function collectBatches<In, Out>(
  run: (items: readonly In[]) => Promise<(Out | Error)[]>,
  options: { waitMs: number; maxSize: number },
): (item: In) => Promise<Out> {
  const loader = new DataLoader<In, Out>(run, {
    cache: false,
    maxBatchSize: options.maxSize,
    batchScheduleFn: (dispatch) => (options.waitMs === 0 ? setImmediate(dispatch) : setTimeout(dispatch, options.waitMs)),
  });
  return (item) => loader.load(item);
}
