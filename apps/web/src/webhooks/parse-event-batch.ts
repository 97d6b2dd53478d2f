import { z } from 'zod';
import { fieldErrors } from '../http/field-errors.js';

/**
 * One Event Webhook event. Loose on purpose: SendGrid adds fields over time and a strict schema
 * would turn that into refused batches it retries for a day. Custom args arrive as top-level keys
 * (`herald_delivery_id` on campaign mail, `herald_subscriber_id` on confirmations); asynchronous
 * bounces may carry neither, nor `sg_message_id`.
 */
export const sendgridEvent = z.looseObject({
  event: z.string().min(1).max(64),
  /** Unix seconds; bounded to what Postgres and Date can both hold. */
  timestamp: z.number().min(0).max(253_402_300_799),
  email: z.string().max(1_000).optional(),
  /** SendGrid's are at most 100 characters; the bound keeps the dedupe key indexable. */
  sg_event_id: z.string().max(255).optional(),
  sg_message_id: z.string().max(1_000).optional(),
  herald_delivery_id: z.string().max(100).optional(),
  herald_subscriber_id: z.string().max(100).optional(),
  /** On `bounce`: `bounce`, `blocked` or `expired`. */
  type: z.string().max(64).optional(),
  reason: z.string().optional(),
});

export type SendGridEvent = z.infer<typeof sendgridEvent>;

const eventBatch = z.array(sendgridEvent);

export type ParsedBatch =
  | { ok: true; events: SendGridEvent[] }
  | { ok: false; code: 'invalid_json' | 'invalid_events'; message: string; fields?: Record<string, string> };

/** The raw webhook body as a list of events, or why it is not one. */
export function parseEventBatch(body: Buffer): ParsedBatch {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'), (_key, value: unknown) => (typeof value === 'string' ? storableText(value) : value));
  } catch {
    return { ok: false, code: 'invalid_json', message: 'The request body is not valid JSON.' };
  }
  const parsed = eventBatch.safeParse(json);
  if (!parsed.success) {
    return { ok: false, code: 'invalid_events', message: 'Expected a JSON array of SendGrid events.', fields: fieldErrors(parsed.error) };
  }
  return { ok: true, events: parsed.data };
}

const loneSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * JSON allows `\u0000` and unpaired surrogates; Postgres text and jsonb refuse both. Left in, one
 * such event would fail its whole batch on every retry SendGrid makes.
 */
function storableText(value: string): string {
  return value.replaceAll('\u0000', '').replace(loneSurrogate, '\ufffd');
}
