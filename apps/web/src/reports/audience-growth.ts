import { Prisma } from '@herald/shared';
import type { Db } from '@herald/shared';
import { daysOf } from './report-range.js';
import type { ReportRange } from './report-range.js';

const facts = ['signups', 'confirmations', 'unsubscribes', 'suppressions'] as const;
type Fact = (typeof facts)[number];

/**
 * One UTC day of the audience. `net` is confirmations less unsubscribes and suppressions: the
 * change in who can be mailed (a signup still waiting for its confirmation receives nothing yet).
 */
export type AudienceDay = Record<Fact, number> & { day: string; net: number };
export type AudienceTotals = Record<Fact | 'net', number>;
export type ListGrowth = { id: string; slug: string; name: string; days: AudienceDay[]; totals: AudienceTotals };
export type AudienceGrowth = { days: AudienceDay[]; totals: AudienceTotals; lists: ListGrowth[] };

type FactRow = { list_id: string | null; fact: Fact; day: string; count: number };

const utc = (at: Date) => Prisma.sql`(${at.toISOString()}::timestamptz AT TIME ZONE 'UTC')`;

/** Every day of the range, zero where nothing happened, from the rows that counted something. */
function daysFrom(days: string[], rows: FactRow[]): { days: AudienceDay[]; totals: AudienceTotals } {
  const byDay = new Map(days.map((day) => [day, { day, signups: 0, confirmations: 0, unsubscribes: 0, suppressions: 0, net: 0 }]));
  for (const row of rows) {
    const day = byDay.get(row.day);
    if (day) day[row.fact] += row.count;
  }
  const totals: AudienceTotals = { signups: 0, confirmations: 0, unsubscribes: 0, suppressions: 0, net: 0 };
  for (const day of byDay.values()) {
    day.net = day.confirmations - day.unsubscribes - day.suppressions;
    for (const key of [...facts, 'net'] as const) totals[key] += day[key];
  }
  return { days: [...byDay.values()], totals };
}

const within = (column: Prisma.Sql, range: ReportRange) => Prisma.sql`${column} >= ${utc(range.from)} AND ${column} < ${utc(range.to)}`;
const dayOf = (column: Prisma.Sql) => Prisma.sql`to_char(date_trunc('day', ${column}), 'YYYY-MM-DD')`;

/**
 * The audience's growth per UTC day of the range. Each fact is a time on a current row: the
 * person's (created, confirmed, unsubscribed from everything, suppressed) and, per list, each
 * subscription's (created, confirmed, unsubscribed from that list). A row keeps its latest time of
 * each, so someone who left and came back counts on the day they came back, and erased people are
 * not counted at all. Each fact is a GROUP BY over its column's index limited to the range: it
 * reads the rows that changed in the range, not the whole audience.
 */
export async function readAudienceDays(db: Db, range: ReportRange): Promise<{ days: AudienceDay[]; totals: AudienceTotals }> {
  const people = (fact: Fact, column: string) => {
    const at = Prisma.raw(column);
    return Prisma.sql`SELECT NULL::text AS list_id, ${fact}::text AS fact, ${dayOf(at)} AS day, count(*)::int AS count FROM subscribers WHERE ${within(at, range)} GROUP BY 3`;
  };
  const rows = await db.$queryRaw<FactRow[]>`
    ${people('signups', 'created_at')} UNION ALL ${people('confirmations', 'confirmed_at')}
    UNION ALL ${people('unsubscribes', 'unsubscribed_at')} UNION ALL ${people('suppressions', 'suppressed_at')}`;
  return daysFrom(daysOf(range), rows);
}

/** readAudienceDays per list, from the subscriptions; a suppression counts under each list the person was on. */
export async function readListGrowth(db: Db, range: ReportRange): Promise<ListGrowth[]> {
  const subscriptions = (fact: Fact, column: string) => {
    const at = Prisma.raw(column);
    return Prisma.sql`SELECT list_id::text, ${fact}::text AS fact, ${dayOf(at)} AS day, count(*)::int AS count FROM subscriptions WHERE ${within(at, range)} GROUP BY 1, 3`;
  };
  const suppressedAt = Prisma.raw('s.suppressed_at');
  const [rows, lists] = await Promise.all([
    db.$queryRaw<FactRow[]>`
      ${subscriptions('signups', 'created_at')} UNION ALL ${subscriptions('confirmations', 'confirmed_at')}
      UNION ALL ${subscriptions('unsubscribes', 'unsubscribed_at')}
      UNION ALL
      SELECT sub.list_id::text, 'suppressions', ${dayOf(suppressedAt)}, count(*)::int
      FROM subscribers s JOIN subscriptions sub ON sub.subscriber_id = s.id
      WHERE ${within(suppressedAt, range)} AND sub.created_at <= s.suppressed_at
        AND (sub.unsubscribed_at IS NULL OR sub.unsubscribed_at >= s.suppressed_at)
      GROUP BY 1, 3`,
    // Archived lists too when archived since the range began: they may have counted something in it.
    db.$queryRaw<{ id: string; slug: string; name: string }[]>`
      SELECT id::text, slug, name FROM lists WHERE archived_at IS NULL OR archived_at >= ${utc(range.from)}
      ORDER BY is_default DESC, name, id`,
  ]);
  const days = daysOf(range);
  const rowsOf = new Map<string, FactRow[]>();
  for (const row of rows) rowsOf.set(row.list_id!, [...(rowsOf.get(row.list_id!) ?? []), row]);
  return lists.map((list) => ({ ...list, ...daysFrom(days, rowsOf.get(list.id) ?? []) }));
}

/** The audience's growth over the range, overall and per list. */
export async function readAudienceGrowth(db: Db, range: ReportRange): Promise<AudienceGrowth> {
  const [overall, lists] = await Promise.all([readAudienceDays(db, range), readListGrowth(db, range)]);
  return { ...overall, lists };
}
