import type { JobsOptions } from 'bullmq';
import type { AnyJobDefinition, JobKey, JobPayload } from './job-catalog.js';
import type { Queues } from './queues.js';

/** Per-call additions to an entry's default options (e.g. the send backoff base from config). */
export type EnqueueOptions = Omit<JobsOptions, 'jobId'>;

function jobOptions<J extends AnyJobDefinition>(job: J, payload: JobPayload<J>, key: JobKey<J>, options: EnqueueOptions): JobsOptions {
  const jobId = job.jobId?.(payload, key);
  return { ...job.options, ...options, ...(jobId === undefined ? {} : { jobId }) };
}

/** The key an entry's id is made from, then options; jobs without a key take no key argument. */
type NoKey = [key?: undefined, options?: EnqueueOptions];
type KeyAndOptions<J extends AnyJobDefinition> = [JobKey<J>] extends [void]
  ? NoKey
  : unknown extends JobKey<J>
    ? NoKey
    : [key: JobKey<J>, options?: EnqueueOptions];

/**
 * Adds one job through its catalog entry: the payload is parsed before it is enqueued, so a worker
 * never meets a malformed one, and the id comes from the entry, so a repeat is harmless.
 */
export async function enqueueJob<J extends AnyJobDefinition>(
  queues: Queues,
  job: J,
  payload: JobPayload<J>,
  ...[key, options = {}]: KeyAndOptions<J>
): Promise<void> {
  const data = job.schema.parse(payload) as JobPayload<J>;
  await queues[job.queue].add(job.name, data, jobOptions(job, data, key as JobKey<J>, options));
}

/** Adds many jobs of one entry in a single round trip; each keeps its deterministic id. */
export async function enqueueJobs<J extends AnyJobDefinition>(
  queues: Queues,
  job: J,
  items: { payload: JobPayload<J>; key: JobKey<J> }[],
  options: EnqueueOptions = {},
): Promise<void> {
  if (items.length === 0) return;
  await queues[job.queue].addBulk(
    items.map(({ payload, key }) => {
      const data = job.schema.parse(payload) as JobPayload<J>;
      return { name: job.name, data, opts: jobOptions(job, data, key, options) };
    }),
  );
}
