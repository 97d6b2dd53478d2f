/**
 * What went wrong, in the domain's words. Domain code (campaigns/, subscribers/) throws these and
 * knows nothing of HTTP; http/error-status.ts gives each code its status, in one table.
 */
export const domainErrorCodes = [
  /** The thing asked for does not exist. */
  'not_found',
  /** The request does not fit the current state (a campaign action in the wrong status). */
  'invalid_state',
  /** An idempotency key already used with a different request. */
  'idempotency_key_reused',
  /** Input that cannot be used, with the problem per field when there are fields. */
  'invalid_request',
  /** An import file that cannot be read as CSV. */
  'invalid_csv',
  /** An import file whose header row is missing or unusable. */
  'invalid_csv_header',
  /** More data than allowed. */
  'payload_too_large',
  /** The client stopped sending halfway. */
  'request_aborted',
] as const;

export type DomainErrorCode = (typeof domainErrorCodes)[number];

export class DomainError extends Error {
  override name = 'DomainError';
  constructor(
    readonly code: DomainErrorCode,
    message: string,
    readonly fields?: Record<string, string>,
  ) {
    super(message);
  }
}
