import { z } from 'zod';
import type { MailSendRequest } from './mail-send-request.js';
import { createErrorBody, INVALID_GRANT_MESSAGE, type SendGridError, type SendGridErrorBody } from './sendgrid-error.js';

const rateLimitSchema = z.strictObject({
  /** Requests left to answer 429; decremented per request, cleared at 0. */
  count: z.int().min(0),
  retryAfterSeconds: z.int().min(0).optional(),
  /** X-RateLimit-Reset = now + resetSeconds (unix seconds); SendGrid sends the three headers on every 429. */
  resetSeconds: z.int().min(0).default(1),
  limit: z.int().min(1).default(600),
});

const serverErrorSchema = z.strictObject({
  /** Requests left to answer with `status`; decremented per request, cleared at 0. */
  count: z.int().min(0),
  status: z.int().min(500).max(599).default(500),
  /** `html` imitates a proxy error page, which the client surfaces as a string `response.body`. */
  body: z.enum(['json', 'html']).default('json'),
});

export const faultSettingsSchema = z.strictObject({
  latencyMs: z.int().min(0).max(600_000).default(0),
  rateLimit: rateLimitSchema.nullable().default(null),
  serverError: serverErrorSchema.nullable().default(null),
  rejectRecipients: z.array(z.string().min(1).transform((email) => email.toLowerCase())).default([]),
  /** Refuse `rejectRecipients` with an error that names no field, as SendGrid does for some refusals: the sender cannot tell which recipient it was. */
  rejectUnnamed: z.boolean().default(false),
  revokedKey: z.boolean().default(false),
});

export type FaultSettings = z.output<typeof faultSettingsSchema>;
export type FaultSettingsInput = z.input<typeof faultSettingsSchema>;
export type FaultResponse = { status: number; headers: Record<string, string>; body: SendGridErrorBody | string };

export type Faults = {
  get(): FaultSettings;
  /** Missing members take their defaults. Throws a ZodError on invalid input. */
  replace(input: FaultSettingsInput): FaultSettings;
  /** Changes only the given members. Throws a ZodError on invalid input. */
  update(input: FaultSettingsInput): FaultSettings;
  reset(): void;
  /** The request-wide fault for this request, if any, consuming one unit of its count. */
  takeFault(): FaultResponse | null;
  /** Errors for every to/cc/bcc address listed in `rejectRecipients`. */
  findRejectedRecipients(request: MailSendRequest): SendGridError[];
};

export function createFaults(): Faults {
  let settings = faultSettingsSchema.parse({});

  return {
    get: () => structuredClone(settings),
    replace(input) {
      settings = faultSettingsSchema.parse(input);
      return structuredClone(settings);
    },
    update(input) {
      settings = faultSettingsSchema.parse({ ...settings, ...input });
      return structuredClone(settings);
    },
    reset() {
      settings = faultSettingsSchema.parse({});
    },
    takeFault() {
      if (settings.revokedKey) return { status: 401, headers: {}, body: createErrorBody(INVALID_GRANT_MESSAGE) };
      const { rateLimit, serverError } = settings;
      if (rateLimit && rateLimit.count > 0) {
        settings.rateLimit = rateLimit.count > 1 ? { ...rateLimit, count: rateLimit.count - 1 } : null;
        return { status: 429, headers: rateLimitHeaders(rateLimit), body: createErrorBody('too many requests') };
      }
      if (serverError && serverError.count > 0) {
        settings.serverError = serverError.count > 1 ? { ...serverError, count: serverError.count - 1 } : null;
        const body =
          serverError.body === 'html'
            ? `<html><head><title>${serverError.status}</title></head><body><h1>${serverError.status} Server Error</h1></body></html>`
            : createErrorBody('Internal server error');
        return { status: serverError.status, headers: {}, body };
      }
      return null;
    },
    findRejectedRecipients(request) {
      const rejected = new Set(settings.rejectRecipients);
      const errors: SendGridError[] = [];
      request.personalizations.forEach((personalization, index) => {
        for (const kind of ['to', 'cc', 'bcc'] as const) {
          personalization[kind]?.forEach((address, position) => {
            if (rejected.has(address.email.toLowerCase())) {
              const field = settings.rejectUnnamed ? null : `personalizations.${index}.${kind}.${position}.email`;
              errors.push({ message: 'Does not contain a valid address.', field, help: null });
            }
          });
        }
      });
      return errors;
    },
  };
}

function rateLimitHeaders(rateLimit: NonNullable<FaultSettings['rateLimit']>): Record<string, string> {
  const headers: Record<string, string> = {};
  if (rateLimit.retryAfterSeconds !== undefined) headers['Retry-After'] = String(rateLimit.retryAfterSeconds);
  headers['X-RateLimit-Limit'] = String(rateLimit.limit);
  headers['X-RateLimit-Remaining'] = '0';
  headers['X-RateLimit-Reset'] = String(Math.floor(Date.now() / 1000) + rateLimit.resetSeconds);
  return headers;
}
