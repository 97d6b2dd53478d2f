import { z } from 'zod';
import { fieldErrors } from '../http/field-errors.js';
import { HttpError } from '../http/http-error.js';

/** A stretch of time a report covers: from `from` (included) to `to` (excluded), in UTC. */
export type ReportRange = { from: Date; to: Date };

const day = 86_400_000;
/** What a report covers when the query names no start. */
export const defaultRangeDays = 30;
/** A year, leap day included: longer ranges would read more than a report page needs. */
export const maxRangeDays = 366;

const dateOnly = z.iso.date();
const dateTime = z.iso.datetime({ offset: true });
const expected = 'expected an ISO date (2026-11-30) or a datetime with a time zone (2026-11-30T12:00:00Z)';
/** The years an edge may fall in: ISO dates have four digits, and `to=9999-12-31` would end in year 10000. */
const earliest = Date.UTC(1970, 0, 1);
const latest = Date.UTC(9999, 0, 1);

/**
 * An edge of the range. A date alone means the whole day, in UTC: as `from` its first instant,
 * as `to` the first instant of the next day, so `from=2026-11-01&to=2026-11-30` includes the 30th.
 */
const edge = (side: 'from' | 'to') =>
  z
    .string({ error: expected })
    .refine((text) => dateOnly.safeParse(text).success || dateTime.safeParse(text).success, { error: expected })
    .transform((text) => {
      if (!dateOnly.safeParse(text).success) return new Date(text);
      const start = new Date(`${text}T00:00:00Z`);
      return side === 'to' ? new Date(start.getTime() + day) : start;
    })
    .refine((at) => at.getTime() >= earliest && at.getTime() < latest, { error: 'must be between 1970 and 9998' });

export const reportRangeQuery = z.object({ from: edge('from').optional(), to: edge('to').optional() });

/**
 * The range a report's query asks for (`from`, `to`), defaulting to the 30 days up to now; a
 * malformed edge, a start not before the end or more than 366 days answer 400 naming the field.
 */
export function parseReportRange(query: unknown, now = new Date()): ReportRange {
  const parsed = reportRangeQuery.safeParse(query);
  if (!parsed.success) throw new HttpError(400, 'invalid_request', 'Some fields need attention.', fieldErrors(parsed.error));
  const to = parsed.data.to ?? now;
  const from = parsed.data.from ?? new Date(to.getTime() - defaultRangeDays * day);
  // An empty range is refused too: with dates, from=2026-05-02&to=2026-05-01 ends where it starts.
  if (from.getTime() >= to.getTime()) {
    throw new HttpError(400, 'invalid_request', 'Some fields need attention.', { from: 'must be before to' });
  }
  if (to.getTime() - from.getTime() > maxRangeDays * day) {
    throw new HttpError(400, 'invalid_request', 'Some fields need attention.', { to: `must be at most ${maxRangeDays} days after from` });
  }
  return { from, to };
}

/** The last `days` UTC days, today's so far included. */
export function lastDays(days: number, now = new Date()): ReportRange {
  const today = Math.floor(now.getTime() / day) * day;
  return { from: new Date(today - (days - 1) * day), to: now };
}

/** The UTC days a range touches, as `YYYY-MM-DD`, oldest first. */
export function daysOf(range: ReportRange): string[] {
  const days: string[] = [];
  const last = Math.max(range.from.getTime(), range.to.getTime() - 1);
  for (let at = Math.floor(range.from.getTime() / day) * day; at <= last; at += day) days.push(new Date(at).toISOString().slice(0, 10));
  return days;
}
