import { Job } from 'bullmq';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkerConnection, enqueueJob, jobCatalog, jobs } from '@herald/shared';
import type { JobDefinition } from '@herald/shared';
import type { Redis } from 'ioredis';
import { jobHandlers, startWorkers } from '../src/workers.js';
import type { Workers } from '../src/workers.js';
import { createStack, waitFor } from '../../../test/support/stack.js';
import type { Stack } from '../../../test/support/stack.js';
import { redisUrl } from '../../../test/support/services.js';

let stack: Stack;
let connection: Redis;

beforeAll(async () => {
  stack = await createStack();
  connection = createWorkerConnection(redisUrl);
});
afterAll(async () => {
  connection.disconnect();
  await stack.close();
});

const campaignId = '0190a3e4-0000-7000-8000-000000000001';

describe('the job catalog', () => {
  it('names a queue, a job name, a schema and options for every job, with unique names per queue', () => {
    const seen = new Set<string>();
    for (const job of jobCatalog) {
      expect(job.schema.safeParse).toBeTypeOf('function');
      expect(job.options).toBeTypeOf('object');
      const name = `${job.queue}/${job.name}`;
      expect(seen.has(name), name).toBe(false);
      seen.add(name);
    }
    expect(seen.size).toBe(Object.keys(jobHandlers).length);
  });

  it('refuses a payload its schema does not accept before it reaches Redis', async () => {
    const deps = stack.workerDeps();
    await expect(enqueueJob(deps.queues, jobs.fanOut, { campaignId: 'not-a-uuid' }, new Date())).rejects.toThrow();
    expect(await deps.queues.campaigns.count()).toBe(0);
  });

  it('gives one fan-out per start of a campaign: a repeat is ignored, a later start (a resume) runs again', async () => {
    const deps = stack.workerDeps();
    const workers = await stack.startWorker();
    const completed = async () => (await deps.queues.campaigns.getJobs(['completed'])).map((job) => job.id).sort();
    try {
      const started = new Date('2026-01-01T10:00:00Z');
      const resumed = new Date('2026-01-01T11:00:00Z');
      await enqueueJob(deps.queues, jobs.fanOut, { campaignId }, started);
      await enqueueJob(deps.queues, jobs.fanOut, { campaignId }, started);
      await waitFor('the fan-out to finish', async () => (await completed()).length === 1);
      expect(await deps.queues.campaigns.getJobCounts('waiting', 'active', 'delayed', 'failed')).toEqual({ waiting: 0, active: 0, delayed: 0, failed: 0 });

      // BullMQ still remembers the finished job: the same start is ignored, a resume is not.
      await enqueueJob(deps.queues, jobs.fanOut, { campaignId }, started);
      await enqueueJob(deps.queues, jobs.fanOut, { campaignId }, resumed);
      await waitFor('the resumed fan-out to finish', async () => {
        const live = await deps.queues.campaigns.getJobCounts('waiting', 'active', 'delayed');
        return (await completed()).length >= 2 && Object.values(live).every((count) => count === 0);
      });
      expect(await completed()).toEqual([`fan-out-${campaignId}-${started.getTime()}`, `fan-out-${campaignId}-${resumed.getTime()}`]);
    } finally {
      await workers.close();
    }
  });
});

describe('the worker', () => {
  it('refuses to start when a catalog entry has no handler, naming the entry', () => {
    const deps = stack.workerDeps();
    const extra: JobDefinition<'orphan-job', { id: string }> = {
      queue: 'maintenance',
      name: 'orphan-job',
      schema: z.object({ id: z.string() }),
      options: {},
    };
    expect(() => startWorkers(deps, connection, { catalog: { ...jobs, orphan: extra }, handlers: jobHandlers })).toThrow(
      /No handler for catalog entries: orphan \(job "orphan-job" on queue "maintenance"\)/,
    );
  });

  it('dispatches on the job name, so two jobs on one queue are each parsed with their own schema', async () => {
    const deps = stack.workerDeps();
    const seen: { job: string; payload: unknown }[] = [];
    const catalog = {
      first: { queue: 'maintenance', name: 'first', schema: z.object({ word: z.string() }), options: {} },
      second: { queue: 'maintenance', name: 'second', schema: z.object({ count: z.number() }), options: {} },
    } satisfies Record<string, JobDefinition<string, object>>;
    const workers: Workers = startWorkers(deps, connection, {
      catalog,
      handlers: {
        first: async (payload: unknown) => seen.push({ job: 'first', payload }),
        second: async (payload: unknown) => seen.push({ job: 'second', payload }),
      },
    });
    try {
      await enqueueJob(deps.queues, catalog.first, { word: 'hello' });
      await enqueueJob(deps.queues, catalog.second, { count: 3 });
      // A job name no entry claims fails at once instead of being parsed with another job's schema.
      const stranger = await deps.queues.maintenance.add('stranger', { word: 'hello' }, { attempts: 5 });
      await waitFor('both jobs to run', () => seen.length === 2);
      expect(seen).toEqual(expect.arrayContaining([
        { job: 'first', payload: { word: 'hello' } },
        { job: 'second', payload: { count: 3 } },
      ]));
      const failed = await waitFor('the unknown job to fail', async () => {
        const job = await Job.fromId(deps.queues.maintenance, stranger.id!);
        return job?.failedReason ? job : null;
      });
      expect(failed.failedReason).toMatch(/No job named "stranger" on queue "maintenance"/);
      expect(failed.attemptsMade).toBe(1);
    } finally {
      await workers.close();
    }
  });
});
