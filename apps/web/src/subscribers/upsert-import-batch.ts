import type { Prisma } from '@herald/shared';

export type ImportStatus = 'active' | 'pending';

export type ImportBatchResult = { inserted: number; updated: number };

/**
 * Writes one batch of distinct, validated addresses in a single statement. New addresses are
 * inserted as `status`. An existing row is changed only if it is pending or active and either the
 * file gives it a new name or confirms consent for a pending one (pending -> active, recording the
 * consent); active is never downgraded, and unsubscribed, bounced and complained rows are never
 * touched. Rows the statement leaves alone are not returned; the caller counts them as skipped.
 *
 * The whole import runs in one transaction, so a row whose xmin is this transaction was written by
 * an earlier batch of the same file: a later duplicate of an address is skipped, as it is within
 * a batch, without remembering every address of the file.
 */
export async function upsertImportBatch(
  tx: Prisma.TransactionClient,
  emails: string[],
  names: (string | null)[],
  status: ImportStatus,
): Promise<ImportBatchResult> {
  const [result] = await tx.$queryRaw<ImportBatchResult[]>`
    WITH written AS (
      INSERT INTO subscribers AS s (email, name, status, consent_at, consent_source, confirmed_at)
      SELECT i.email, i.name, ${status}::subscriber_status, now(), 'import',
             CASE WHEN ${status} = 'active' THEN now() END
      FROM unnest(${emails}::text[], ${names}::text[]) AS i(email, name)
      ON CONFLICT (email) DO UPDATE SET
        name = COALESCE(EXCLUDED.name, s.name),
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
             OR (s.status = 'pending' AND EXCLUDED.status = 'active'))
      RETURNING (s.xmax = 0) AS inserted
    )
    SELECT count(*) FILTER (WHERE inserted)::int AS inserted,
           count(*) FILTER (WHERE NOT inserted)::int AS updated
    FROM written`;
  if (!result) throw new Error('import batch returned no summary');
  return result;
}
