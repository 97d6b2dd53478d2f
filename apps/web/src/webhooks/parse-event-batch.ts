import { z } from 'zod';
import { toStorableJson } from './storable-json.js';

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
  /** On `click`: the link, and which of several identical links (`url_offset`). */
  url: z.string().optional(),
});

export type SendGridEvent = z.infer<typeof sendgridEvent>;

/** An element of a batch that is not a usable event, kept as it arrived for inspection. */
export type MalformedEvent = {
  /** Position in the batch. */
  index: number;
  /** The element as JSON text; escapes keep NUL and lone surrogates storable. */
  raw: string;
  /** Field path within the event → what is wrong. */
  problems: Record<string, string>;
  /** The element's `email`, normalised, when it had a usable one. */
  email: string | null;
};

export type ParsedBatch =
  | { ok: true; events: SendGridEvent[]; malformed: MalformedEvent[] }
  | { ok: false; code: 'invalid_json' | 'invalid_events'; message: string };

/**
 * The raw webhook body as events. Only a body that is not a JSON array is refused: one bad event
 * must never cost the others, since SendGrid retries a refused batch whole and then drops it, bounces
 * and spam reports included. Each element is made storable (keys and values, see storable-json.ts),
 * read leniently where SendGrid's own examples differ from its reference (a timestamp as a string of
 * digits, a capitalised event name), and otherwise set aside as malformed.
 */
export function parseEventBatch(body: Buffer): ParsedBatch {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    return { ok: false, code: 'invalid_json', message: 'The request body is not valid JSON.' };
  }
  if (!Array.isArray(json)) return { ok: false, code: 'invalid_events', message: 'Expected a JSON array of SendGrid events.' };

  const events: SendGridEvent[] = [];
  const malformed: MalformedEvent[] = [];
  json.forEach((element: unknown, index) => {
    const storable = toStorableJson(element);
    if (!storable.ok) {
      malformed.push(toMalformed(index, element, { event: storable.problem }));
      return;
    }
    const parsed = sendgridEvent.safeParse(readLeniently(storable.value));
    if (parsed.success) events.push(parsed.data);
    else malformed.push(toMalformed(index, element, problemsOf(parsed.error)));
  });
  return { ok: true, events, malformed };
}

const digits = /^\s*\d{1,12}(\.\d+)?\s*$/;

/** SendGrid's reference shows `"timestamp": "123456789"` and `"event": "Processed"`. */
function readLeniently(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const event = value as Record<string, unknown>;
  const read: Record<string, unknown> = { ...event };
  if (typeof event.timestamp === 'string' && digits.test(event.timestamp)) read.timestamp = Number(event.timestamp);
  if (typeof event.event === 'string') read.event = event.event.trim().toLowerCase();
  return read;
}

function problemsOf(error: z.ZodError): Record<string, string> {
  const problems: Record<string, string> = {};
  for (const issue of error.issues) problems[issue.path.length > 0 ? issue.path.join('.') : 'event'] ??= issue.message;
  return problems;
}

function toMalformed(index: number, element: unknown, problems: Record<string, string>): MalformedEvent {
  let raw: string;
  try {
    raw = JSON.stringify(element) ?? 'null';
  } catch {
    // Nesting deep enough to exhaust the stack: the problem says so, the text cannot be kept.
    raw = '"(too deeply nested to keep)"';
  }
  const email = typeof element === 'object' && element !== null ? (element as { email?: unknown }).email : undefined;
  const normalised = typeof email === 'string' ? toStorableJson(email.trim().toLowerCase()) : undefined;
  return {
    index,
    raw,
    problems,
    email: normalised?.ok && typeof normalised.value === 'string' && normalised.value.length <= 1_000 ? normalised.value : null,
  };
}
