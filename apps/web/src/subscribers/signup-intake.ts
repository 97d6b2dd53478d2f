import { enqueueJobs, jobs } from '@herald/shared';
import type { Db, Logger, Queues } from '@herald/shared';
import { coalesceCalls } from '../batching/coalesce-calls.js';
import { enqueueOrDefer } from '../jobs/enqueue-or-defer.js';
import { registerSubscribers } from './register-subscriber.js';
import type { Registration, Signup } from './register-subscriber.js';

/**
 * Statements at once. Few, so that under load each carries many signups (one statement, one
 * commit, one Redis call for all of them) and the pool keeps connections for every other route.
 */
const maxInFlight = 4;
const maxBatch = 500;

/**
 * Records public signups and enqueues their confirmations, many per round trip: the signups that
 * arrive together share one upsert and one enqueue of their confirmation jobs. Each resolves once
 * its row is committed and its confirmation is enqueued or left to the reconciler (the row says
 * it is owed, see registerSubscribers), as a lone signup would.
 */
export function createSignupIntake({ db, queues, logger }: { db: Db; queues: Queues; logger: Logger }) {
  return coalesceCalls<Signup, Registration>(
    async (signups) => {
      const registrations = await registerSubscribers(db, signups);
      const owed = [...new Set(registrations.filter((r) => r.needsConfirmation).map((r) => r.subscriberId))];
      if (owed.length > 0) {
        const now = new Date();
        await enqueueOrDefer(
          'confirmation email',
          () => enqueueJobs(queues, jobs.sendConfirmation, owed.map((subscriberId) => ({ payload: { subscriberId }, key: now }))),
          logger,
        );
      }
      return registrations;
    },
    { maxBatch, maxInFlight },
  );
}
