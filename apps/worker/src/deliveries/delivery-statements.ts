/**
 * The send path's statements on `deliveries`, each for any number of rows at once: a batch of send
 * jobs costs one claim and one `sent` mark, however many recipients it holds. Every statement is
 * conditional on the row's status, so a row another worker holds, or one already finished, is left
 * as it is, and finds its rows by primary key (`id = ANY`), so its cost follows the batch, never
 * the campaign.
 *
 * The claim and the `sent` mark, which every send runs, go to node-postgres directly, on the pool
 * Prisma itself runs on: Prisma's raw-query layer around them was 4% of a worker's CPU at one
 * request per recipient, as much as the two statements' own driver work. The rarer statements
 * stay on Prisma with the rest of the worker.
 */
import type { PgPool, SqlClient } from '@herald/shared';

export type ClaimedDelivery = {
  id: string;
  campaign_id: string;
  email: string;
  name: string | null;
  unsubscribe_token: string;
  /** The row was `sending` under this job's own token: a claim its holder abandoned (see send-email.ts). */
  taken_over: boolean;
};

export const takenOverNote = 'worker stopped during the SendGrid call; sent again by the re-run of its job';

/**
 * A value per row, looked up by the row's id: a JSON object parsed once per statement. Joining the
 * rows to `unnest()`ed arrays instead left the join to the planner, and with the statistics of a
 * fresh audience not yet caught up it chose a nested loop comparing every row of a 1,000-row batch
 * with every element (a million comparisons, 0.2 s of Postgres CPU per claim) or a scan of the
 * whole table; `id = ANY` alone always finds the rows by primary key.
 */
function byId(values: [id: string, value: string | null][]): string {
  return JSON.stringify(Object.fromEntries(values));
}

/**
 * Claims (`queued -> sending`) each delivery whose campaign is sending and whose subscriber is still
 * active, under its own job's claim token; returns the rows claimed. SET expressions see the row as
 * it was, so `taken_over` says whether a row was found under its own token rather than queued.
 */
export async function claimDeliveries(pool: PgPool, claims: { id: string; claimToken: string }[]): Promise<ClaimedDelivery[]> {
  // Written so that the only way in is the primary key (`d.id = ANY`, the campaign as a per-row
  // subquery): a join on campaigns lets the planner, with statistics not yet caught up with a fresh
  // audience, walk every delivery of the campaign for each batch.
  const { rows } = await pool.query<ClaimedDelivery>(
    `UPDATE deliveries d
    SET status = 'sending', claimed_at = now(), claim_token = $2::jsonb ->> d.id::text, attempts = d.attempts + 1, updated_at = now(),
      last_error = CASE WHEN d.status = 'sending' THEN $3 ELSE d.last_error END
    FROM subscribers s
    WHERE d.id = ANY($1::uuid[])
      AND (d.status = 'queued' OR (d.status = 'sending' AND d.claim_token = $2::jsonb ->> d.id::text))
      AND (SELECT c.status FROM campaigns c WHERE c.id = d.campaign_id) = 'sending'
      AND s.id = d.subscriber_id AND s.status = 'active'
    RETURNING d.id, d.campaign_id, s.email, s.name, s.unsubscribe_token, d.last_error IS NOT DISTINCT FROM $3 AS taken_over`,
    [claims.map((claim) => claim.id), byId(claims.map((claim) => [claim.id, claim.claimToken])), takenOverNote],
  );
  return rows;
}

/** SendGrid accepted these deliveries, each under the message id of its request. */
export async function markSent(pool: PgPool, sent: { id: string; messageId: string | null }[]): Promise<number> {
  const { rowCount } = await pool.query(
    `UPDATE deliveries d SET status = 'sent', sent_at = now(), provider_message_id = $2::jsonb ->> d.id::text, last_error = NULL,
      claim_token = NULL, updated_at = now()
    WHERE d.id = ANY($1::uuid[]) AND d.status = 'sending'`,
    [sent.map((row) => row.id), byId(sent.map((row) => [row.id, row.messageId]))],
  );
  return rowCount ?? 0;
}

/**
 * One more provider call for rows still held, without a new claim: the rest of a refused batch sent
 * again. `attempts` counts the calls made for a delivery that were not rate limited.
 */
export function countAttempt(db: SqlClient, ids: string[]): Promise<number> {
  return db.$executeRaw`UPDATE deliveries SET attempts = attempts + 1, updated_at = now() WHERE id = ANY(${ids}::uuid[]) AND status = 'sending'`;
}

/**
 * Back to `queued` for another attempt; `attemptsDelta` -1 gives back the attempt the claim counted.
 * In a campaign cancelled meanwhile, the requeue trigger makes the row `cancelled` instead.
 */
export function releaseDeliveries(db: SqlClient, ids: string[], lastError: string, attemptsDelta = 0): Promise<number> {
  return db.$executeRaw`
    UPDATE deliveries SET status = 'queued', claimed_at = NULL, claim_token = NULL, last_error = ${lastError},
      attempts = attempts + ${attemptsDelta}, updated_at = now()
    WHERE id = ANY(${ids}::uuid[]) AND status = 'sending'`;
}

/** Failed for good, each with its own reason. */
export function failDeliveries(db: SqlClient, failures: { id: string; reason: string }[]): Promise<number> {
  const reasons = byId(failures.map((failure) => [failure.id, failure.reason]));
  return db.$executeRaw`
    UPDATE deliveries d SET status = 'failed', last_error = ${reasons}::jsonb ->> d.id::text, updated_at = now()
    WHERE d.id = ANY(${failures.map((failure) => failure.id)}::uuid[]) AND d.status = 'sending'`;
}

/**
 * The queued deliveries among `ids` whose subscriber left (unsubscribed, bounced, complained,
 * erased) become `skipped`; returns those rows. The others (paused campaign, finished row, claimed
 * by another job) are left as they are.
 */
export function skipInactive(db: SqlClient, ids: string[]): Promise<{ id: string; campaign_id: string }[]> {
  return db.$queryRaw<{ id: string; campaign_id: string }[]>`
    UPDATE deliveries d SET status = 'skipped', last_error = 'subscriber is no longer active', updated_at = now()
    WHERE d.id = ANY(${ids}::uuid[]) AND d.status = 'queued'
      AND (SELECT c.status FROM campaigns c WHERE c.id = d.campaign_id) = 'sending'
      AND NOT EXISTS (SELECT 1 FROM subscribers s WHERE s.id = d.subscriber_id AND s.status = 'active')
    RETURNING d.id, d.campaign_id`;
}

/**
 * The attributes `keys` of the subscribers of `ids` (claimed deliveries), by delivery id: only for a
 * campaign whose content uses `{{attributes.KEY}}`, and only those keys, so the claim itself, which
 * every send runs, reads no attributes. By primary key, like the claim.
 */
export async function readRecipientAttributes(pool: PgPool, ids: string[], keys: string[]): Promise<Map<string, Record<string, unknown>>> {
  const { rows } = await pool.query<{ id: string; attributes: Record<string, unknown> | null }>(
    `SELECT d.id, (SELECT jsonb_object_agg(k, s.attributes -> k) FROM unnest($2::text[]) AS k WHERE s.attributes ? k) AS attributes
    FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id
    WHERE d.id = ANY($1::uuid[])`,
    [ids, keys],
  );
  return new Map(rows.map((row) => [row.id, row.attributes ?? {}]));
}
