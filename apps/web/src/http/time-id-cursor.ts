import { z } from 'zod';

/**
 * A keyset page position over rows ordered by (time, id): the last row shown, as
 * `<ISO time>_<uuid>`. Readable in a URL, and refused (400) unless it is exactly that.
 */
export const timeIdCursor = z
  .string()
  .regex(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z_[0-9a-f-]{36}$/i, 'expected a cursor from a previous page')
  .transform((value) => ({ at: new Date(value.slice(0, 24)), id: value.slice(25) }))
  .refine((cursor) => !Number.isNaN(cursor.at.getTime()) && z.uuid().safeParse(cursor.id).success, 'expected a cursor from a previous page');

export function encodeTimeIdCursor(at: Date, id: string): string {
  return `${at.toISOString()}_${id}`;
}
