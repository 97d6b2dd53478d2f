import { finishCampaignIfDone } from '@herald/shared';
import type { Db, Logger } from '@herald/shared';

/**
 * Marks campaigns `sent` soon after their last send, with one campaign-done check per campaign
 * per `delayMs` in this process instead of one per send (it was one of the three statements of
 * every send). `touch` after a delivery's final state has committed; a check then starts after that
 * commit, within `delayMs`: a check already scheduled has not started yet, and one already running
 * (it may have read the rows before this commit) is followed by another. So whichever send finishes
 * last is always followed by a check that sees the campaign done. A crash loses at most the pending
 * checks, which the reconciler's own check makes up for.
 */
export type CampaignFinisher = {
  touch(campaignId: string): void;
  /** Runs every pending check now and waits for them (on shutdown). */
  flush(): Promise<void>;
};

type Pending = { timer?: NodeJS.Timeout; running?: Promise<void>; again: boolean };

export function createCampaignFinisher(db: Db, logger: Logger, delayMs = 200): CampaignFinisher {
  const pending = new Map<string, Pending>();

  const run = (campaignId: string, state: Pending) => {
    state.timer = undefined;
    state.running = finishCampaignIfDone(db, campaignId)
      .then(() => undefined)
      .catch((err: unknown) => logger.warn({ campaignId, err: (err as Error).message }, 'campaign-done check failed; the reconciler will make it'))
      .finally(() => {
        state.running = undefined;
        if (state.again) {
          state.again = false;
          schedule(campaignId, state);
        } else if (!state.timer) {
          pending.delete(campaignId);
        }
      });
  };
  const schedule = (campaignId: string, state: Pending) => {
    state.timer = setTimeout(() => run(campaignId, state), delayMs);
    state.timer.unref();
  };

  return {
    touch(campaignId) {
      let state = pending.get(campaignId);
      if (!state) pending.set(campaignId, (state = { again: false }));
      if (state.timer) return;
      if (state.running) state.again = true;
      else schedule(campaignId, state);
    },
    async flush() {
      for (const [campaignId, state] of pending) {
        if (state.timer) {
          clearTimeout(state.timer);
          run(campaignId, state);
        }
      }
      await Promise.all([...pending.values()].map((state) => state.running));
    },
  };
}
