import type { ErrorRequestHandler, RequestHandler } from 'express';
import { Prisma } from '@herald/shared';
import { DomainError } from '../domain-error.js';
import type { DomainErrorCode } from '../domain-error.js';
import { HttpError, errorBody } from './http-error.js';
import type { ErrorCode } from './http-error.js';

/** body-parser and friends mark client mistakes with `type`, `status` and `expose`. */
type ClientErrorLike = { status?: number; statusCode?: number; expose?: boolean; type?: string };

const parserErrors: Record<string, { code: ErrorCode; message: string }> = {
  'entity.parse.failed': { code: 'invalid_json', message: 'The request body is not valid JSON.' },
  'entity.too.large': { code: 'payload_too_large', message: 'The request body is too large.' },
  'encoding.unsupported': { code: 'unsupported_encoding', message: 'The content encoding is not supported.' },
  'charset.unsupported': { code: 'unsupported_charset', message: 'The charset is not supported.' },
  'parameters.too.many': { code: 'too_many_parameters', message: 'The form has too many fields.' },
  'entity.encoding.invalid': { code: 'invalid_encoding', message: 'The request body is not valid UTF-8.' },
  'request.aborted': { code: 'request_aborted', message: 'The request was interrupted.' },
  'request.size.invalid': { code: 'bad_request', message: 'The request body does not match its Content-Length.' },
};

/** The one place a domain error gets its HTTP status. */
const domainErrorStatus: Record<DomainErrorCode, number> = {
  not_found: 404,
  invalid_state: 409,
  idempotency_key_reused: 422,
  invalid_request: 400,
  invalid_csv: 400,
  invalid_csv_header: 400,
  payload_too_large: 413,
  request_aborted: 400,
};

/**
 * Error codes that mean Postgres or Redis cannot be reached: socket errors, Prisma's P1001 (cannot
 * reach the server), P1002 (timed out), P1017 (connection closed), P2024 (pool timeout), and
 * Postgres refusing connections (shutting down, starting up, too many clients).
 */
const outageCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EPIPE', 'P1001', 'P1002', 'P1017', 'P2024', '57P01', '57P03', '53300']);

/** Driver adapter error kinds that mean the database cannot be reached. */
const outageKinds = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections', 'TlsConnectionError']);

/**
 * Postgres or Redis being unreachable is an outage to report as 503, not a bug in Herald. Known by
 * the error's type or code anywhere in its cause chain (drivers wrap each other's errors), never
 * by its message. ioredis's MaxRetriesPerRequestError is not exported from the package root, so it
 * is known by its class name.
 */
function isDependencyOutage(err: unknown): boolean {
  for (let current: unknown = err, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth++) {
    if (current instanceof Prisma.PrismaClientInitializationError || current.name === 'MaxRetriesPerRequestError') return true;
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && outageCodes.has(code)) return true;
    const cause = driverCause(current);
    if (cause.kind && outageKinds.has(cause.kind)) return true;
    if (cause.originalCode && outageCodes.has(cause.originalCode)) return true;
  }
  return false;
}

/** What the Postgres driver adapter reported under a Prisma error: a kind, and Postgres's own code. */
function driverCause(err: unknown): { kind?: string; originalCode?: string } {
  if (!(err instanceof Prisma.PrismaClientKnownRequestError)) return {};
  const cause = (err.meta?.driverAdapterError as { cause?: { kind?: unknown; originalCode?: unknown } } | undefined)?.cause;
  return {
    kind: typeof cause?.kind === 'string' ? cause.kind : undefined,
    originalCode: typeof cause?.originalCode === 'string' ? cause.originalCode : undefined,
  };
}

/** Two requests writing the same rows (e.g. overlapping imports): safe to retry, not a server fault. */
function isWriteConflict(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  const cause = driverCause(err);
  return (
    code === 'P2034' || code === '40P01' || code === '40001' ||
    cause.kind === 'TransactionWriteConflict' || cause.originalCode === '40P01' || cause.originalCode === '40001'
  );
}

function unavailable(): HttpError {
  return new HttpError(503, 'unavailable', 'Herald is temporarily unavailable. Please try again shortly.');
}

/** The HTTP answer for an error a client caused or Herald can name; undefined for a bug. */
export function toHttpError(err: unknown): HttpError | undefined {
  if (err instanceof HttpError) return err;
  if (err instanceof DomainError) return new HttpError(domainErrorStatus[err.code], err.code, err.message, err.fields);
  if ((err as { code?: unknown }).code === 'EBADCSRFTOKEN') {
    return new HttpError(403, 'invalid_csrf_token', 'This form has expired. Reload the page and try again.');
  }
  // Every error that carries a 4xx status is the client's mistake, whoever raised it (body parsers,
  // the router decoding a path parameter, a mounted third-party router): never a 500.
  const clientError = (err ?? {}) as ClientErrorLike;
  const status = clientError.status ?? clientError.statusCode;
  if (typeof status === 'number' && Number.isInteger(status) && status >= 400 && status < 500) {
    const known = clientError.type ? parserErrors[clientError.type] : undefined;
    if (known) return new HttpError(status, known.code, known.message);
    // The router's decodeURIComponent failing on a path parameter such as `%E0%A4%A`.
    if (err instanceof URIError) return new HttpError(status, 'malformed_url', 'The address contains a malformed percent-encoding.');
    const message = clientError.expose && err instanceof Error ? err.message : 'The request could not be understood.';
    return new HttpError(status, 'bad_request', message);
  }
  if (isWriteConflict(err)) {
    return new HttpError(409, 'conflict', 'Another request changed the same rows at the same moment. Send it again.');
  }
  if (isDependencyOutage(err)) return unavailable();
  return undefined;
}

export type ErrorHandlerOptions = {
  /**
   * Whether Redis is unreachable right now. ioredis rejects commands on a down connection with
   * plain errors that carry neither a type nor a code; while this says Redis is down, an error
   * nothing else explains is reported as the outage it most likely is (503), not as a bug.
   */
  redisDown?: () => boolean;
};

/** The one place errors become responses: JSON for API clients, a page for browsers, never a stack. */
export function errorHandler(options: ErrorHandlerOptions = {}): ErrorRequestHandler {
  return (err, req, res, next) => {
    if (res.headersSent) return next(err);
    const known = toHttpError(err) ?? (options.redisDown?.() ? unavailable() : undefined);
    if (!known || known.status >= 500) req.log.error({ err }, 'request failed');
    const error = known ?? new HttpError(500, 'internal', 'Something went wrong on our side.');
    res.status(error.status);
    if (error.headers) res.set(error.headers);
    if (req.accepts(['json', 'html']) === 'html' && !req.is('json')) {
      // A router may name its own error page: the admin's keeps its layout and the way back.
      const view = typeof res.locals.errorView === 'string' ? res.locals.errorView : 'error';
      res.render(view, { title: 'Error', status: error.status, message: error.message }, (renderError, html) => {
        if (renderError) {
          req.log.error({ err: renderError }, 'error page failed to render');
          res.type('text/plain').send(error.message);
          return;
        }
        res.type('html').send(html);
      });
      return;
    }
    res.json(errorBody(error.code, error.message, error.fields));
  };
}

/** The error handler for an app without Redis of its own to watch. */
export const handleErrors = errorHandler();

export const handleNotFound: RequestHandler = () => {
  throw new HttpError(404, 'not_found', 'Nothing here.');
};
