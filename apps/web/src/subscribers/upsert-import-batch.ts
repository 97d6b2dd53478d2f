import type { Prisma } from '@herald/shared';
import { maxAttributeKeys, maxAttributesBytes } from '@herald/shared';

export type ImportStatus = 'active' | 'pending';

export type ImportBatch = {
  emails: string[];
  names: (string | null)[];
  /** Each row's attributes as JSON text, or null for a row that sets none. */
  attributes: (string | null)[];
};

export type ImportBatchResult = {
  inserted: number;
  updated: number;
  /** Subscriptions to the import's list created or activated. */
  subscribed: number;
  /** Addresses whose attributes, merged with what they hold, would pass the size limit: left alone. */
  tooBig: string[];
};

/**
 * Writes one batch of distinct, validated addresses in a single statement. New addresses are
 * inserted as `status`. An existing row is changed only if it is pending or active and the file
 * gives it a new name, new attribute values (merged into what it holds: columns left empty in the
 * file change nothing) or confirms consent for a pending one (pending -> active, recording the
 * consent); active is never downgraded, and unsubscribed, bounced and complained rows are never
 * touched. Rows the statement leaves alone are not counted; the caller counts them as skipped.
 * A row whose merged attributes would pass the limits is left alone entirely and reported.
 *
 * In the same statement every pending or active person of the batch gets a subscription to
 * `listId` (consent source `import`) in their own status; an existing pending subscription becomes
 * active only when the import confirms consent, and an unsubscribed one stays unsubscribed (an
 * import never undoes a person's unsubscribe). No welcome emails: they are for a person's own act.
 *
 * The whole import runs in one transaction, so a row whose xmin is this transaction was written by
 * an earlier batch of the same file: a later duplicate of an address is skipped, as it is within
 * a batch, without remembering every address of the file.
 */
export async function upsertImportBatch(
  tx: Prisma.TransactionClient,
  batch: ImportBatch,
  status: ImportStatus,
  listId: string,
): Promise<ImportBatchResult> {
  const [result] = await tx.$queryRaw<ImportBatchResult[]>`
    WITH input AS (
      SELECT i.email, i.name, i.attributes
      FROM unnest(${batch.emails}::text[], ${batch.names}::text[], ${batch.attributes}::jsonb[]) AS i(email, name, attributes)
    ), written AS (
      INSERT INTO subscribers AS s (email, name, status, consent_at, consent_source, confirmed_at, attributes)
      SELECT i.email, i.name, ${status}::subscriber_status, now(), 'import',
             CASE WHEN ${status} = 'active' THEN now() END, coalesce(i.attributes, '{}'::jsonb)
      FROM input i
      ON CONFLICT (email) DO UPDATE SET
        name = COALESCE(EXCLUDED.name, s.name),
        attributes = s.attributes || EXCLUDED.attributes,
        status = CASE WHEN s.status = 'pending' AND EXCLUDED.status = 'active' THEN 'active'::subscriber_status ELSE s.status END,
        consent_at = CASE WHEN s.status = 'pending' AND EXCLUDED.status = 'active' THEN now() ELSE s.consent_at END,
        consent_source = CASE WHEN s.status = 'pending' AND EXCLUDED.status = 'active' THEN 'import' ELSE s.consent_source END,
        confirmed_at = CASE WHEN s.status = 'pending' AND EXCLUDED.status = 'active' THEN now() ELSE s.confirmed_at END,
        -- An activated subscriber has nothing left to confirm; an old link must not linger.
        confirm_token_hash = CASE WHEN s.status = 'pending' AND EXCLUDED.status = 'active' THEN NULL ELSE s.confirm_token_hash END,
        confirm_token_expires_at = CASE WHEN s.status = 'pending' AND EXCLUDED.status = 'active' THEN NULL ELSE s.confirm_token_expires_at END,
        updated_at = now()
      WHERE s.status IN ('pending', 'active')
        AND s.xmin <> pg_current_xact_id()::xid
        AND ((EXCLUDED.name IS NOT NULL AND EXCLUDED.name IS DISTINCT FROM s.name)
             OR (s.status = 'pending' AND EXCLUDED.status = 'active')
             OR NOT s.attributes @> EXCLUDED.attributes)
        AND (EXCLUDED.attributes = '{}'::jsonb
             OR (octet_length((s.attributes || EXCLUDED.attributes)::text) <= ${maxAttributesBytes}
                 AND (SELECT count(*) FROM jsonb_object_keys(s.attributes || EXCLUDED.attributes)) <= ${maxAttributeKeys}))
      RETURNING s.id, s.email, s.status, (s.xmax = 0) AS inserted
    ), existing AS (
      -- The people of the batch the upsert left alone, as they were (the statement's snapshot).
      SELECT s.id, s.email, s.status, s.attributes, i.attributes AS wanted, s.xmin = pg_current_xact_id()::xid AS this_import
      FROM input i JOIN subscribers s ON s.email = i.email
      WHERE NOT EXISTS (SELECT 1 FROM written w WHERE w.email = i.email)
    ), too_big AS (
      SELECT e.email FROM existing e
      WHERE e.wanted IS NOT NULL AND e.status IN ('pending', 'active') AND NOT e.this_import
        AND (octet_length((e.attributes || e.wanted)::text) > ${maxAttributesBytes}
             OR (SELECT count(*) FROM jsonb_object_keys(e.attributes || e.wanted)) > ${maxAttributeKeys})
    ), people AS (
      SELECT w.id, w.status FROM written w
      UNION ALL
      SELECT e.id, e.status FROM existing e WHERE NOT EXISTS (SELECT 1 FROM too_big t WHERE t.email = e.email)
    ), subscribed AS (
      INSERT INTO subscriptions AS sub (subscriber_id, list_id, status, consent_at, consent_source, confirmed_at)
      SELECT p.id, ${listId}::uuid, p.status::text::subscription_status, now(), 'import', CASE WHEN p.status = 'active' THEN now() END
      FROM people p WHERE p.status IN ('pending', 'active')
      ORDER BY p.id
      ON CONFLICT (subscriber_id, list_id) DO UPDATE SET
        status = 'active', consent_at = now(), consent_source = 'import', confirmed_at = now(), updated_at = now()
      WHERE sub.status = 'pending' AND EXCLUDED.status = 'active' AND ${status} = 'active'
      RETURNING 1
    )
    SELECT (SELECT count(*) FROM written WHERE inserted)::int AS inserted,
           (SELECT count(*) FROM written WHERE NOT inserted)::int AS updated,
           (SELECT count(*) FROM subscribed)::int AS subscribed,
           coalesce((SELECT array_agg(email) FROM too_big), '{}') AS "tooBig"`;
  if (!result) throw new Error('import batch returned no summary');
  return result;
}
