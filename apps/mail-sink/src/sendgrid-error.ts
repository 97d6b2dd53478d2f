/** One entry of SendGrid's error body; clients read `field` to tell which part of the payload is wrong. */
export type SendGridError = { message: string; field: string | null; help: string | null };

export type SendGridErrorBody = { errors: SendGridError[] };

export function createErrorBody(message: string, field: string | null = null): SendGridErrorBody {
  return { errors: [{ message, field, help: null }] };
}

/** SendGrid's wording for a missing, wrong or revoked API key. */
export const INVALID_GRANT_MESSAGE = 'The provided authorization grant is invalid, expired, or revoked';
