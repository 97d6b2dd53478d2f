/**
 * The statements on `welcome_emails`: the send job's claim and marks (see handlers/send-welcome.ts)
 * and what the reconciler counts, recovers and pages through. Each is conditional on the row's
 * status, so a row another job holds, or one already finished, is left as it is; a `sent` row is
 * never claimed again.
 */
import { keysetPages } from '@herald/shared';
import type { CampaignFormat, SqlClient } from '@herald/shared';

/** A claimed welcome email, with what its email needs, read in the statement that claimed it. */
export type ClaimedWelcome = {
  id: string;
  /** `sending`: send it; `skipped`: it no longer reaches the person, `last_error` says why. */
  status: 'sending' | 'skipped';
  last_error: string | null;
  subscriber_id: string;
  list_id: string;
  email: string;
  name: string | null;
  unsubscribe_token: string;
  attributes: Record<string, unknown>;
  list_name: string;
  list_slug: string;
  welcome_subject: string | null;
  welcome_body: string | null;
  welcome_format: CampaignFormat;
};

/**
 * Claims a queued welcome email (`queued -> sending`, one more attempt) and, in the same statement,
 * reads the person, their subscription and the list as they are now. When the email no longer
 * reaches the person (they left the list or everything, their address bounced or complained, the
 * list was archived or its welcome email removed), the row becomes `skipped` instead, with the
 * reason. Returns nothing when the row is not queued: another job has it, or it is finished.
 *
 * Two jobs for one row: the second's update waits for the first's row lock, then finds the row no
 * longer `queued` and claims nothing, so at most one of them sends.
 */
export async function claimWelcomeEmail(db: SqlClient, welcomeEmailId: string): Promise<ClaimedWelcome | null> {
  const [row] = await db.$queryRaw<ClaimedWelcome[]>`
    WITH now_true AS (
      SELECT w.id,
        CASE
          WHEN s.status <> 'active' THEN 'subscriber is ' || s.status::text
          WHEN sub.status IS NULL THEN 'no subscription to the list any more'
          WHEN sub.status <> 'active' THEN 'subscription is ' || sub.status::text
          WHEN l.archived_at IS NOT NULL THEN 'list archived'
          WHEN l.welcome_subject IS NULL OR l.welcome_body IS NULL THEN 'list has no welcome email any more'
        END AS skip_reason
      FROM welcome_emails w
      JOIN subscribers s ON s.id = w.subscriber_id
      JOIN lists l ON l.id = w.list_id
      LEFT JOIN subscriptions sub ON sub.subscriber_id = w.subscriber_id AND sub.list_id = w.list_id
      WHERE w.id = ${welcomeEmailId}::uuid
    )
    UPDATE welcome_emails w
    SET status = CASE WHEN t.skip_reason IS NULL THEN 'sending' ELSE 'skipped' END::delivery_status,
        claimed_at = now(), attempts = w.attempts + 1, last_error = t.skip_reason, updated_at = now()
    FROM now_true t, subscribers s, lists l
    WHERE w.id = t.id AND w.status = 'queued' AND s.id = w.subscriber_id AND l.id = w.list_id
    RETURNING w.id, w.status::text AS status, w.last_error, w.subscriber_id, w.list_id, s.email, s.name, s.unsubscribe_token,
      s.attributes, l.name AS list_name, l.slug AS list_slug, l.welcome_subject, l.welcome_body, l.welcome_format::text AS welcome_format`;
  return row ?? null;
}

/** SendGrid accepted the email: `sending -> sent`, with its message id. */
export async function markWelcomeSent(db: SqlClient, welcomeEmailId: string, providerMessageId: string | null): Promise<void> {
  await db.$executeRaw`
    UPDATE welcome_emails SET status = 'sent', sent_at = now(), provider_message_id = ${providerMessageId}, last_error = NULL, updated_at = now()
    WHERE id = ${welcomeEmailId}::uuid AND status = 'sending'`;
}

/**
 * Back to `queued` for the same job's next run, with the reason. `attemptDelta: -1` hands the
 * claim's attempt back (a 429 or a credential hold is no fault of this email).
 */
export async function releaseWelcomeEmail(db: SqlClient, welcomeEmailId: string, reason: string, attemptDelta: 0 | -1 = 0): Promise<void> {
  await db.$executeRaw`
    UPDATE welcome_emails SET status = 'queued', claimed_at = NULL, last_error = ${reason}, attempts = attempts + ${attemptDelta}::int, updated_at = now()
    WHERE id = ${welcomeEmailId}::uuid AND status = 'sending'`;
}

/** Given up for good (SendGrid refused it, or the retries ran out): `sending -> failed`. */
export async function failWelcomeEmail(db: SqlClient, welcomeEmailId: string, reason: string): Promise<void> {
  await db.$executeRaw`
    UPDATE welcome_emails SET status = 'failed', last_error = ${reason}, updated_at = now()
    WHERE id = ${welcomeEmailId}::uuid AND status = 'sending'`;
}

/**
 * Welcome emails left `sending` since before `staleBefore` by a worker that stopped mid-call go back
 * to `queued`, to be sent again: as with deliveries, a possible duplicate (SendGrid may have accepted
 * the message) is preferred to a welcome that silently never comes. Returns their ids, to enqueue.
 */
export async function recoverStuckWelcomeEmails(db: SqlClient, staleBefore: Date): Promise<string[]> {
  const rows = await db.$queryRaw<{ id: string }[]>`
    UPDATE welcome_emails SET status = 'queued', claimed_at = NULL, updated_at = now(),
      last_error = 'worker stopped during the SendGrid call; sending again'
    WHERE status = 'sending' AND claimed_at < ${staleBefore}
    RETURNING id`;
  return rows.map((row) => row.id);
}

/**
 * Queued welcome emails written before `before`: rows that should have a job by now (the web
 * enqueues right after its commit). Through the (status, created_at) index.
 */
export async function countQueuedWelcomeEmails(db: SqlClient, before: Date): Promise<number> {
  const [row] = await db.$queryRaw<{ count: number }[]>`
    SELECT count(*)::int AS count FROM welcome_emails WHERE status = 'queued' AND created_at < ${before}`;
  return row?.count ?? 0;
}

/** The same rows, `pageSize` at a time in id order. */
export function queuedWelcomeEmailPages(db: SqlClient, before: Date, pageSize: number): AsyncIterable<{ id: string }[]> {
  return keysetPages(
    (after, limit) => db.$queryRaw<{ id: string }[]>`
      SELECT id FROM welcome_emails
      WHERE status = 'queued' AND created_at < ${before} AND id > ${after}::uuid
      ORDER BY id LIMIT ${limit}`,
    { pageSize },
  );
}
