import { Prisma, segmentPredicate } from '@herald/shared';
import type { CompileOptions, Db, SegmentRule, SqlClient } from '@herald/shared';
import { asInputError, SegmentInputError } from './segment-input.js';

export type SegmentView = { id: string; name: string; rules: unknown; createdAt: Date; updatedAt: Date };
export type SampleSubscriber = { id: string; email: string; name: string | null; attributes: unknown };

const sampleSize = 10;

/** The Postgres error code under a Prisma error (unique violation 23505, foreign key 23503). */
function postgresCode(err: unknown): string | undefined {
  for (let current: unknown = err, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth++) {
    const meta = (current as { meta?: { code?: unknown; driverAdapterError?: { cause?: { originalCode?: unknown } } } }).meta;
    const code = meta?.driverAdapterError?.cause?.originalCode ?? meta?.code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

/** A duplicate name is the name field's problem. */
function nameTaken(err: unknown): unknown {
  if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002') return new SegmentInputError({ name: 'another segment already has this name' });
  return postgresCode(err) === '23505' ? new SegmentInputError({ name: 'another segment already has this name' }) : err;
}

/**
 * Checks that the rules compile here and now (every list they name exists), so a saved segment is
 * always one that can be counted.
 */
async function checkCompiles(db: SqlClient, rules: SegmentRule): Promise<void> {
  try {
    await segmentPredicate(db, rules);
  } catch (err) {
    throw asInputError(err);
  }
}

export async function createSegment(db: Db, input: { name: string; rules: SegmentRule }): Promise<SegmentView> {
  await checkCompiles(db, input.rules);
  try {
    return await db.segment.create({ data: { name: input.name, rules: input.rules as Prisma.InputJsonValue } });
  } catch (err) {
    throw nameTaken(err);
  }
}

/** Returns the changed segment with how it was before, or null when there is none with that id. */
export async function updateSegment(db: Db, id: string, input: { name?: string; rules?: SegmentRule }): Promise<{ segment: SegmentView; before: SegmentView } | null> {
  if (input.rules) await checkCompiles(db, input.rules);
  try {
    // The CTE locks the row, so `before` is what this update replaced.
    const [row] = await db.$queryRaw<(SegmentView & { beforeName: string; beforeRules: unknown })[]>`
      WITH old AS (SELECT id, name, rules FROM segments WHERE id = ${id}::uuid FOR UPDATE)
      UPDATE segments s SET
        name = COALESCE(${input.name ?? null}::text, s.name),
        rules = COALESCE(${input.rules === undefined ? null : JSON.stringify(input.rules)}::jsonb, s.rules),
        updated_at = now()
      FROM old WHERE s.id = old.id
      RETURNING s.id, s.name, s.rules, s.created_at AS "createdAt", s.updated_at AS "updatedAt", old.name AS "beforeName", old.rules AS "beforeRules"`;
    if (!row) return null;
    const { beforeName, beforeRules, ...segment } = row;
    return { segment, before: { ...segment, name: beforeName, rules: beforeRules } };
  } catch (err) {
    throw nameTaken(err);
  }
}

export async function findSegment(db: Db, id: string): Promise<SegmentView | null> {
  return db.segment.findUnique({ where: { id } });
}

/** A page of segments in id order (keyset: `cursor` is the last id of the page before). */
export async function listSegments(db: Db, { limit, cursor }: { limit: number; cursor?: string }): Promise<{ segments: SegmentView[]; nextCursor: string | null }> {
  const rows = await db.segment.findMany({ where: cursor ? { id: { gt: cursor } } : {}, orderBy: { id: 'asc' }, take: limit + 1 });
  const page = rows.slice(0, limit);
  return { segments: page, nextCursor: rows.length > limit ? (page.at(-1)?.id ?? null) : null };
}

/** Every segment by name, for the admin's list and pickers (an operator keeps a few dozen). */
export async function allSegments(db: Db, limit = 500): Promise<SegmentView[]> {
  return db.segment.findMany({ orderBy: { name: 'asc' }, take: limit });
}

export type DeleteOutcome = { outcome: 'deleted'; segment: { id: string; name: string } } | { outcome: 'not_found' } | { outcome: 'in_use' };

/**
 * Deletes a segment no campaign uses. A campaign created at the same moment holds a key-share
 * lock on the row, so the delete then fails on the foreign key (RESTRICT): also `in_use`.
 */
export async function deleteSegment(db: Db, id: string): Promise<DeleteOutcome> {
  try {
    const [deleted] = await db.$queryRaw<{ id: string; name: string }[]>`
      DELETE FROM segments WHERE id = ${id}::uuid AND NOT EXISTS (SELECT 1 FROM campaigns WHERE segment_id = ${id}::uuid)
      RETURNING id, name`;
    if (deleted) return { outcome: 'deleted', segment: deleted };
  } catch (err) {
    if (postgresCode(err) === '23503') return { outcome: 'in_use' };
    throw err;
  }
  return { outcome: (await findSegment(db, id)) ? 'in_use' : 'not_found' };
}

/**
 * How many subscribers the rules select among those whose own status is `active` (confirmed and
 * not suppressed), whatever their lists; and up to ten of them, in id order. A campaign's audience
 * is further limited to its lists' active subscriptions.
 */
export async function countSegment(db: SqlClient, rules: unknown, options: CompileOptions = {}): Promise<number> {
  const predicate = await compileOrInputError(db, rules, options);
  const [row] = await db.$queryRaw<{ count: number }[]>`
    SELECT count(*)::int AS count FROM subscribers s WHERE s.status = 'active' AND ${predicate}`;
  return row?.count ?? 0;
}

export async function previewSegment(db: SqlClient, rules: unknown, options: CompileOptions = {}): Promise<{ count: number; sample: SampleSubscriber[] }> {
  const predicate = await compileOrInputError(db, rules, options);
  const [count, sample] = await Promise.all([
    db.$queryRaw<{ count: number }[]>`SELECT count(*)::int AS count FROM subscribers s WHERE s.status = 'active' AND ${predicate}`,
    db.$queryRaw<SampleSubscriber[]>`
      SELECT s.id, s.email, s.name, s.attributes FROM subscribers s
      WHERE s.status = 'active' AND ${predicate} ORDER BY s.id LIMIT ${sampleSize}`,
  ]);
  return { count: count[0]?.count ?? 0, sample };
}

async function compileOrInputError(db: SqlClient, rules: unknown, options: CompileOptions = {}): Promise<Prisma.Sql> {
  try {
    return await segmentPredicate(db, rules, options);
  } catch (err) {
    throw asInputError(err);
  }
}
