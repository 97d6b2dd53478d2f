import { defaultListId, enqueueJob, jobs } from '@herald/shared';
import type { Db, Logger, Queues } from '@herald/shared';
import { enqueueOrDefer } from '../jobs/enqueue-or-defer.js';
import type { ImportRow } from './read-import-csv.js';
import { upsertImportBatch } from './upsert-import-batch.js';
import { validateImportRow } from './validate-import-row.js';

export type ImportReport = {
  imported: number;
  updated: number;
  skipped: number;
  /** Subscriptions to the import's list created or activated. */
  subscribed: number;
  /** The first invalid rows, in file order; invalidCount has them all. */
  invalid: { line: number; reason: string }[];
  invalidCount: number;
};

type Deps = { db: Db; queues: Queues; logger: Logger };

/** Rows per INSERT: big enough that round trips vanish, small enough to keep statements quick. */
const batchSize = 2_000;
const invalidListed = 100;
/** An import holds one connection for as long as its upload takes; a 200 MB file needs minutes. */
const importTimeoutMs = 15 * 60 * 1000;

/**
 * Imports subscribers from `rows` as they arrive, a batch per statement, in ONE transaction: a file
 * that turns out malformed, too large or interrupted halfway changes nothing, and the import can
 * simply be sent again. Confirmation emails for new pending subscribers are not enqueued here, one
 * job per row: after the commit a single reconcile job asks a worker to enqueue them (the
 * reconciler sends every pending subscriber's first confirmation), so a million-row import answers
 * as soon as its rows are written.
 *
 * With `consentConfirmed` (the admin states consent was obtained elsewhere), new subscribers are
 * active and existing pending ones become active; otherwise new ones are pending and get a
 * confirmation email. The first occurrence of an address in the file wins; later ones are skipped.
 * Every pending or active person in the file gets a subscription to `listId` (default: the
 * default list; see
 * upsert-import-batch.ts); the file's other columns become their attributes.
 */
export async function importSubscribers(
  { db, queues, logger }: Deps,
  rows: AsyncIterable<ImportRow>,
  options: { consentConfirmed: boolean; listId?: string },
): Promise<ImportReport> {
  const listId = options.listId ?? (await defaultListId(db));
  const status = options.consentConfirmed ? 'active' : 'pending';
  const report: ImportReport = { imported: 0, updated: 0, skipped: 0, subscribed: 0, invalid: [], invalidCount: 0 };
  // Rows refused after their batch was written (attributes too big once merged), in file order.
  const lateInvalid: { line: number; reason: string }[] = [];
  let newPending = 0;

  await db.$transaction(
    async (tx) => {
      // Address -> row; a Map keeps the file's order and makes in-batch duplicates cheap to spot,
      // which matters because ON CONFLICT cannot touch one row twice in a statement.
      let batch = new Map<string, { name: string | null; attributes: string | null; line: number }>();
      // One statement in flight while the next batch is parsed: Postgres and Node work side by
      // side, about a third faster on two cores. Its failure surfaces at the next flush.
      let inFlight: Promise<void> = Promise.resolve();
      const flush = async () => {
        if (batch.size === 0) return;
        const rowsOfBatch = batch;
        const emails = [...rowsOfBatch.keys()];
        const names: (string | null)[] = [];
        const attributes: (string | null)[] = [];
        for (const row of rowsOfBatch.values()) {
          names.push(row.name);
          attributes.push(row.attributes);
        }
        batch = new Map();
        await inFlight;
        inFlight = upsertImportBatch(tx, { emails, names, attributes }, status, listId).then((result) => {
          report.imported += result.inserted;
          report.updated += result.updated;
          report.subscribed += result.subscribed;
          report.skipped += emails.length - result.inserted - result.updated - result.tooBig.length;
          report.invalidCount += result.tooBig.length;
          for (const email of result.tooBig) {
            lateInvalid.push({ line: rowsOfBatch.get(email)?.line ?? 0, reason: 'attributes would take more than 8 KiB or 50 keys with those the subscriber has' });
          }
          if (status === 'pending') newPending += result.inserted;
        });
        inFlight.catch(() => undefined);
      };

      try {
        for await (const row of rows) {
          const checked = validateImportRow(row.email, row.name, row.attributes);
          if (!checked.valid) {
            report.invalidCount += 1;
            if (report.invalid.length < invalidListed) report.invalid.push({ line: row.line, reason: checked.reason });
          } else if (batch.has(checked.email)) {
            report.skipped += 1;
          } else {
            batch.set(checked.email, {
              name: checked.name,
              attributes: checked.attributes ? JSON.stringify(checked.attributes) : null,
              line: row.line,
            });
            if (batch.size >= batchSize) await flush();
          }
        }
        await flush();
      } finally {
        // Never leave a statement running into the rollback or commit.
        await inFlight.catch(() => undefined);
      }
      await inFlight;
    },
    { maxWait: 10_000, timeout: importTimeoutMs },
  );

  if (lateInvalid.length > 0) {
    report.invalid = [...report.invalid, ...lateInvalid].sort((a, b) => a.line - b.line).slice(0, invalidListed);
  }
  if (newPending > 0) await enqueueOrDefer('confirmation emails for imported subscribers', () => enqueueJob(queues, jobs.reconcile, {}), logger);
  return report;
}
