import { enqueueJob, jobs } from '@herald/shared';
import type { Db, Logger, Queues } from '@herald/shared';
import { enqueueOrDefer } from '../jobs/enqueue-or-defer.js';
import type { ImportRow } from './read-import-csv.js';
import { upsertImportBatch } from './upsert-import-batch.js';
import { validateImportRow } from './validate-import-row.js';

export type ImportReport = {
  imported: number;
  updated: number;
  skipped: number;
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
 */
export async function importSubscribers(
  { db, queues, logger }: Deps,
  rows: AsyncIterable<ImportRow>,
  options: { consentConfirmed: boolean },
): Promise<ImportReport> {
  const status = options.consentConfirmed ? 'active' : 'pending';
  const report: ImportReport = { imported: 0, updated: 0, skipped: 0, invalid: [], invalidCount: 0 };
  let newPending = 0;

  await db.$transaction(
    async (tx) => {
      // Address -> name; a Map keeps the file's order and makes in-batch duplicates cheap to spot,
      // which matters because ON CONFLICT cannot touch one row twice in a statement.
      let batch = new Map<string, string | null>();
      // One statement in flight while the next batch is parsed: Postgres and Node work side by
      // side, about a third faster on two cores. Its failure surfaces at the next flush.
      let inFlight: Promise<void> = Promise.resolve();
      const flush = async () => {
        if (batch.size === 0) return;
        const emails = [...batch.keys()];
        const names = [...batch.values()];
        batch = new Map();
        await inFlight;
        inFlight = upsertImportBatch(tx, emails, names, status).then((result) => {
          report.imported += result.inserted;
          report.updated += result.updated;
          report.skipped += emails.length - result.inserted - result.updated;
          if (status === 'pending') newPending += result.inserted;
        });
        inFlight.catch(() => undefined);
      };

      try {
        for await (const row of rows) {
          const checked = validateImportRow(row.email, row.name);
          if (!checked.valid) {
            report.invalidCount += 1;
            if (report.invalid.length < invalidListed) report.invalid.push({ line: row.line, reason: checked.reason });
          } else if (batch.has(checked.email)) {
            report.skipped += 1;
          } else {
            batch.set(checked.email, checked.name);
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

  if (newPending > 0) await enqueueOrDefer('confirmation emails for imported subscribers', () => enqueueJob(queues, jobs.reconcile, {}), logger);
  return report;
}
