import type { Db, Queues } from '@herald/shared';

/** A hold the worker recorded in `mail_holds`, with what the queue behind it says now. */
export type MailHoldNotice = {
  kind: string;
  /** `Confirmation emails`: what the operator reads as the subject of the notice. */
  label: string;
  /** SendGrid's answer, as the worker wrote it. */
  reason: string;
  heldSince: Date;
  lastRefusedAt: Date;
  /**
   * How often SendGrid refused mail of this kind since the hold began (`held_count`). A held email
   * is tried again later, so this counts tries, not emails.
   */
  refusals: number;
  /** Emails of this kind waiting in their queue to go out, or null for a kind without a queue here. */
  waiting: number | null;
  /** When the worker next tries, or null when its queue is not held back right now. */
  nextTryAt: Date | null;
};

const labels: Record<string, string> = { confirmations: 'Confirmation emails' };

/**
 * The worker holds back a queue after a credential refusal with `Queue#rateLimit`, which sets the
 * limiter key to this value; asking for the TTL at this threshold leaves out an ordinary rate limit.
 */
const heldLimiterValue = Number.MAX_SAFE_INTEGER;

/**
 * The mail the worker has stopped sending, for the admin's front page. Postgres says what is held
 * and why; Redis adds how many emails wait behind the hold and when the worker tries again. No
 * hold (the usual case) costs one read of an empty table and nothing from Redis.
 */
export async function readMailHoldNotices(db: Db, queues: Queues, now = new Date()): Promise<MailHoldNotice[]> {
  const holds = await db.mailHold.findMany({ orderBy: { heldSince: 'asc' } });
  return Promise.all(
    holds.map(async (hold) => {
      const queue = hold.kind === 'confirmations' ? queues.confirmations : null;
      const [counts, ttl] = queue
        ? await Promise.all([queue.getJobCounts('waiting', 'prioritized', 'delayed', 'active'), queue.getRateLimitTtl(heldLimiterValue)])
        : [null, 0];
      return {
        kind: hold.kind,
        label: labels[hold.kind] ?? `Emails of kind “${hold.kind}”`,
        reason: hold.reason,
        heldSince: hold.heldSince,
        lastRefusedAt: hold.updatedAt,
        refusals: hold.heldCount,
        waiting: counts ? Object.values(counts).reduce((sum, count) => sum + count, 0) : null,
        nextTryAt: ttl > 0 ? new Date(now.getTime() + ttl) : null,
      };
    }),
  );
}
