import { enqueueJobs, enqueueWelcomeEmails, jobs } from '@herald/shared';
import type { Db, Logger, Queues } from '@herald/shared';
import { coalesceCalls } from '../batching/coalesce-calls.js';
import { enqueueOrDefer } from '../jobs/enqueue-or-defer.js';
import { registerSubscribers } from './register-subscriber.js';
import type { Registration, Signup } from './register-subscriber.js';

/**
 * Upserts at once. Few, so that under load each carries many signups (one statement and one
 * commit for all of them) and the pool keeps connections for every other route.
 */
const upsertsInFlight = 4;
/**
 * Enqueues at once. Each waits at most enqueueOrDefer's two seconds on a Redis that does not
 * answer; with these many, that still lets 4,000 signups a second through a frozen Redis.
 */
const enqueuesInFlight = 8;
const maxBatch = 1_000;

/**
 * Records public signups and enqueues their confirmations, many per round trip: the signups that
 * arrive together share one upsert, and their confirmation jobs one call to Redis. The two stages
 * are apart so that a slow Redis never holds a Postgres connection. Each signup resolves once its
 * row is committed and its confirmation (and any welcome email) is enqueued or left to the reconciler (the row says it is
 * owed, see registerSubscribers), as a lone signup would.
 */
export function createSignupIntake({ db, queues, logger }: { db: Db; queues: Queues; logger: Logger }) {
  const upsert = coalesceCalls((signups: Signup[]) => registerSubscribers(db, signups), { maxBatch, maxInFlight: upsertsInFlight });
  const enqueueConfirmation = coalesceCalls(
    async (subscriberIds: string[]) => {
      const now = new Date();
      const payloads = [...new Set(subscriberIds)].map((subscriberId) => ({ payload: { subscriberId }, key: now }));
      await enqueueOrDefer('confirmation email', () => enqueueJobs(queues, jobs.sendConfirmation, payloads), logger);
      return subscriberIds.map(() => undefined);
    },
    { maxBatch, maxInFlight: enqueuesInFlight },
  );
  // Welcome emails of lists without double opt-in; the rows are committed, so a Redis that does
  // not answer only delays them (the reconciler enqueues what is left queued).
  const enqueueWelcome = coalesceCalls(
    async (ids: string[][]) => {
      await enqueueOrDefer('welcome email', () => enqueueWelcomeEmails(queues, ids.flat()), logger);
      return ids.map(() => undefined);
    },
    { maxBatch, maxInFlight: enqueuesInFlight },
  );

  return async (signup: Signup): Promise<Registration> => {
    const registration = await upsert(signup);
    await Promise.all([
      registration.needsConfirmation ? enqueueConfirmation(registration.subscriberId) : undefined,
      registration.welcomeEmailIds.length > 0 ? enqueueWelcome(registration.welcomeEmailIds) : undefined,
    ]);
    return registration;
  };
}
