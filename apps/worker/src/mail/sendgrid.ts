/**
 * Everything Herald knows about SendGrid lives here: how to point the official client at an API
 * URL, and what each kind of failure means for the delivery.
 */
import { Client } from '@sendgrid/client';
import { MailService } from '@sendgrid/mail';
import { toRecipient } from './display-name.js';
import type { EmailTracking, Mailer, OutgoingBatch, OutgoingEmail } from './mailer.js';

export type SendGridOptions = {
  apiKey: string;
  apiUrl: string;
  timeoutMs: number;
  from: { email: string; name?: string };
};

/**
 * The Mail Send API's `tracking_settings` for one message. Always sent, both ways: left out, the
 * account's own settings apply, which may differ from what the campaign asked for. `enable_text`
 * rewrites the links of the text part too, so a click is counted whichever part is read.
 */
export function trackingSettings(tracking: EmailTracking) {
  return {
    click_tracking: { enable: tracking.clicks, enable_text: tracking.clicks },
    open_tracking: { enable: tracking.opens },
  };
}

/** A mailer over the official client, with its own client instance and a request timeout. */
export function createSendGridMailer(options: SendGridOptions): Mailer {
  const client = new Client();
  client.setApiKey(options.apiKey);
  // setApiKey resets the base URL to production, so the URL must be set after it.
  client.setDefaultRequest('baseUrl', options.apiUrl);
  // The Mail Send API answers, it never redirects. Left at the client's default, every request goes
  // through axios's redirect-following wrapper, which keeps a copy of the body to replay (a batch
  // request is ~0.5 MB) and was a tenth of a worker's CPU at one request per recipient.
  // (An axios option, which the client passes on as it is; its typings list only its own options.)
  client.setDefaultRequest({ maxRedirects: 0 } as unknown as Parameters<Client['setDefaultRequest']>[0]);
  const service = new MailService();
  service.setClient(client);
  // The client waits forever by default; a hung request would hold a claimed delivery.
  service.setTimeout(options.timeoutMs);

  const accepted = ([response]: [{ headers: Record<string, unknown> }, unknown]) => {
    const messageId = response.headers['x-message-id'];
    return { messageId: typeof messageId === 'string' ? messageId : null };
  };

  return {
    async send(email: OutgoingEmail) {
      return accepted(
        await service.send({
          from: options.from,
          // The envelope name only: SendGrid refuses `,` and `;` there (see display-name.ts).
          to: toRecipient(email.to),
          subject: email.subject,
          html: email.html,
          text: email.text,
          headers: email.headers,
          customArgs: email.customArgs,
          // The helper's camelCase for trackingSettings(), which it turns into the API's snake_case.
          trackingSettings: {
            clickTracking: { enable: email.tracking.clicks, enableText: email.tracking.clicks },
            openTracking: { enable: email.tracking.opens },
          },
        }),
      );
    },
    // A batch goes to the same client as its v3 Mail Send body, written as the API documents it:
    // the mail helper's copy of every personalization (deep clones, key-case conversions) was a
    // twentieth of a worker's CPU and its largest allocations, and a batch has no field it would
    // fill in. Sent as written, so the keys of headers, custom args and substitutions stay exact.
    async sendBatch(batch: OutgoingBatch) {
      return accepted(
        await client.request({
          method: 'POST',
          url: '/v3/mail/send',
          body: {
            from: options.from,
            subject: batch.subject,
            content: [
              { type: 'text/plain', value: batch.text },
              { type: 'text/html', value: batch.html },
            ],
            personalizations: batch.personalizations.map(({ to, headers, customArgs, substitutions }) => ({
              to: [toRecipient(to)],
              headers,
              custom_args: customArgs,
              substitutions,
            })),
            tracking_settings: trackingSettings(batch.tracking),
          },
        }),
      );
    },
  };
}

/**
 * The recipients a refused batch names, if SendGrid's answer points at any
 * (`personalizations.3.to.0.email`, one error per offending field): those fail and the rest can go
 * together again.
 */
export function refusedPersonalizations(err: unknown): number[] {
  if (!isResponseError(err)) return [];
  const errors = (err.response.body as { errors?: unknown } | null)?.errors;
  if (!Array.isArray(errors)) return [];
  const named = new Set<number>();
  for (const { field } of errors as { field?: unknown }[]) {
    const match = typeof field === 'string' ? /^personalizations\.(\d+)\./.exec(field) : null;
    if (match) named.add(Number(match[1]));
  }
  return [...named];
}

export type SendFailure =
  /** 429: the whole queue waits `waitMs`; the delivery has not used up an attempt. */
  | { kind: 'rate-limited'; waitMs: number; reason: string }
  /** 5xx, timeouts, resets, refused connections: retry with backoff. */
  | { kind: 'transient'; reason: string }
  /** 401/403: the key or sender is wrong; every other send would fail the same way. */
  | { kind: 'unauthorized'; reason: string }
  /** Any other 4xx, or a message the client refused to send: retrying cannot help. */
  | { kind: 'rejected'; reason: string };

type ResponseErrorShape = { code: number; response: { headers?: Record<string, unknown>; body?: unknown } };

function isResponseError(err: unknown): err is ResponseErrorShape {
  // `ResponseError` is not exported at runtime by @sendgrid/mail, so test the shape.
  const candidate = err as Partial<ResponseErrorShape> | null;
  return typeof candidate?.code === 'number' && typeof candidate.response === 'object' && candidate.response !== null;
}

/** SendGrid's `{errors: [{message, field}]}`, or whatever text a proxy put in the body. */
function describeBody(body: unknown): string {
  const first = (body as { errors?: { message?: unknown; field?: unknown }[] } | null)?.errors?.[0];
  if (first && typeof first.message === 'string') {
    return typeof first.field === 'string' ? `${first.message} (${first.field})` : first.message;
  }
  return typeof body === 'string' ? body.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim() : '';
}

const maxRateLimitWaitMs = 10 * 60 * 1000;
const defaultRateLimitWaitMs = 5_000;

/** How long to wait after a 429: Retry-After, else X-RateLimit-Reset, else a short default; plus jitter. */
export function rateLimitWaitMs(headers: Record<string, unknown>, now = Date.now(), random = Math.random): number {
  const jitter = Math.floor(random() * 1_000);
  const retryAfter = headers['retry-after'];
  if (typeof retryAfter === 'string' && retryAfter.trim() !== '') {
    const seconds = Number(retryAfter);
    const untilMs = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(retryAfter) - now;
    if (Number.isFinite(untilMs)) return Math.min(Math.max(untilMs, 0) + jitter, maxRateLimitWaitMs);
  }
  const reset = Number(headers['x-ratelimit-reset']);
  if (Number.isFinite(reset) && reset > 0) {
    return Math.min(Math.max(reset * 1000 - now, 0) + jitter, maxRateLimitWaitMs);
  }
  return defaultRateLimitWaitMs + jitter;
}

/** Classifies a failed send into what Herald should do about it. */
export function classifySendError(err: unknown, now = Date.now()): SendFailure {
  if (isResponseError(err)) {
    const status = err.code;
    const reason = `SendGrid ${status}: ${describeBody(err.response.body) || 'no details'}`.slice(0, 500);
    if (status === 429) return { kind: 'rate-limited', waitMs: rateLimitWaitMs(err.response.headers ?? {}, now), reason };
    if (status === 401 || status === 403) return { kind: 'unauthorized', reason };
    if (status >= 400 && status < 500 && status !== 408) return { kind: 'rejected', reason };
    return { kind: 'transient', reason };
  }
  const code = (err as { code?: unknown } | null)?.code;
  const message = err instanceof Error ? err.message : String(err);
  if (typeof code === 'string') return { kind: 'transient', reason: `network error ${code}: ${message}`.slice(0, 500) };
  // No status and no network code: the client refused the message itself (validation).
  return { kind: 'rejected', reason: `not sent: ${message}`.slice(0, 500) };
}

/** The class of SendGrid's answer to a failed send, for metrics: what came back, not what it means. */
export function failureStatusClass(err: unknown): '4xx' | '5xx' | 'network' | 'refused' {
  if (isResponseError(err)) return err.code >= 500 ? '5xx' : '4xx';
  // A string code is a transport error (timeout, reset, refused); none means the client refused.
  return typeof (err as { code?: unknown } | null)?.code === 'string' ? 'network' : 'refused';
}
