import { domainErrorCodes } from '../domain-error.js';

/**
 * Every error code Herald answers with, listed once. A request whose fields fail validation is
 * always `invalid_request`, with the problem per field in `fields`, whatever the endpoint; the
 * other codes name a problem with the request as a whole.
 */
export const errorCodes = [
  ...domainErrorCodes,
  // The request as sent cannot be read.
  'bad_request',
  'malformed_url',
  'invalid_json',
  'invalid_encoding',
  'unsupported_media_type',
  'unsupported_charset',
  'unsupported_encoding',
  'too_many_parameters',
  'invalid_idempotency_key',
  'invalid_events',
  // Who is asking.
  'unauthorized',
  'forbidden',
  'invalid_csrf_token',
  'too_many_attempts',
  'metrics_disabled',
  'missing_signature',
  'stale_timestamp',
  'invalid_signature',
  // Herald's side.
  'conflict',
  'unavailable',
  'webhook_not_configured',
  'internal',
] as const;

export type ErrorCode = (typeof errorCodes)[number];

/** An error whose status, code and message are safe to show the client. */
export class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly fields?: Record<string, string>,
    /** Response headers that belong to the answer (e.g. `Retry-After` on a 429). */
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }
}

export type ErrorBody = { error: { code: ErrorCode; message: string; fields?: Record<string, string> } };

export function errorBody(code: ErrorCode, message: string, fields?: Record<string, string>): ErrorBody {
  return { error: fields ? { code, message, fields } : { code, message } };
}
