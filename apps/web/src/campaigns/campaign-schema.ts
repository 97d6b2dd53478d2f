import { z } from 'zod';
import { storableText } from '@herald/shared';
import { audienceFields } from './campaign-audience-input.js';
import { trackingInput } from './campaign-tracking.js';

const maxBodyBytes = 1_000_000;

export const sendInput = z.strictObject({
  subject: storableText('subject', 'subject is required')
    .min(1, 'subject is required')
    .max(200, 'subject must be at most 200 characters')
    // A line break in a subject is header injection.
    .refine((subject) => !/[\r\n]/.test(subject), 'subject must be one line')
    .refine((subject) => subject.trim().length > 0, 'subject must not be blank'),
  body: storableText('body', 'body is required (HTML or Markdown)')
    .min(1, 'body is required (HTML or Markdown)')
    .refine((body) => Buffer.byteLength(body, 'utf8') <= maxBodyBytes, 'body must be at most 1 MB'),
  format: z.enum(['html', 'markdown'], { error: 'format must be "html" or "markdown"' }).default('html'),
  text: storableText('text')
    .min(1, 'text, when given, must not be empty')
    .refine((text) => Buffer.byteLength(text, 'utf8') <= maxBodyBytes, 'text must be at most 1 MB')
    .optional(),
  preheader: z
    .string()
    .max(200, 'preheader must be at most 200 characters')
    .refine((preheader) => !/[\r\n]/.test(preheader), 'preheader must be one line')
    .optional(),
  sendAt: z.iso
    .datetime({ offset: true, error: 'sendAt must be an ISO 8601 time with a time zone' })
    .transform((value) => new Date(value))
    .refine((date) => date.getTime() > Date.now(), 'sendAt must be in the future')
    .refine((date) => date.getTime() < Date.now() + 366 * 24 * 60 * 60 * 1000, 'sendAt must be within a year')
    .optional(),
  /** Whether the sent issue is listed in the public archive and its feed. */
  inArchive: z.boolean({ error: 'inArchive must be true or false' }).default(true),
  /** Lists by id or slug, in order (the first names the List-Id); the default list when absent. */
  lists: audienceFields.lists,
  /** A saved segment's id or inline rules narrowing the lists' audience. */
  segment: audienceFields.segment,
  /** SendGrid open and click tracking; each setting left out takes TRACK_OPENS / TRACK_CLICKS. */
  tracking: trackingInput.optional(),
});

export type SendInput = z.infer<typeof sendInput>;

/** Printable ASCII, as the IETF idempotency-key draft suggests; long enough for a UUID or hash. */
export const idempotencyKey = z.string().regex(/^[\x21-\x7e]{1,255}$/, 'Idempotency-Key must be 1-255 printable ASCII characters');
