import { z } from 'zod';
import { HttpError } from './http-error.js';

/** Parses a query string or body part, or answers 400 naming the field and what was wrong. */
export function parseRequest<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.length ? `${issue.path.join('.')}: ` : '';
    throw new HttpError(400, 'invalid_request', `Invalid ${what}: ${field}${issue?.message}`);
  }
  return parsed.data;
}

const uuid = z.uuid();

/** A path id: unknown and malformed ids are both simply "not found" (`thing` names it). */
export function parseId(value: unknown, thing: string): string {
  const parsed = uuid.safeParse(value);
  if (!parsed.success) throw new HttpError(404, 'not_found', `No ${thing} with that id.`);
  return parsed.data;
}
