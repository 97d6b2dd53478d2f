import { z } from 'zod';
import { fieldErrors } from './field-errors.js';
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

/** Parses a JSON body, or answers 422 with a message per field that does not fit, as everywhere in the API. */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new HttpError(422, 'invalid_request', 'Some fields need attention.', fieldErrors(parsed.error));
  return parsed.data;
}

const uuid = z.uuid();

/** A path id: unknown and malformed ids are both simply "not found" (`thing` names it). */
export function parseId(value: unknown, thing: string): string {
  const parsed = uuid.safeParse(value);
  if (!parsed.success) throw new HttpError(404, 'not_found', `No ${thing} with that id.`);
  return parsed.data;
}
