import { z } from 'zod';
import { webhookEventTypes, webhookUrlProblem } from '@herald/shared';

export const webhookEventType = z.enum(webhookEventTypes).meta({ id: 'WebhookEventType' });

/** An endpoint URL, checked as webhook-addresses.ts says (public addresses unless WEBHOOK_ALLOW_PRIVATE). */
function endpointUrl(allowPrivate: boolean) {
  return z
    .string()
    .trim()
    .min(1, 'is required')
    .max(2000, 'must be at most 2000 characters')
    .superRefine((url, ctx) => {
      const problem = webhookUrlProblem(url, allowPrivate);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .meta({ description: 'An http(s) URL. Loopback, private and link-local addresses are refused unless the server sets WEBHOOK_ALLOW_PRIVATE=true.' });
}

const events = z
  .array(webhookEventType)
  .min(1, 'pick at least one event')
  .max(webhookEventTypes.length)
  .transform((types) => [...new Set(types)])
  .meta({ description: 'The event types to receive (repeats are ignored).' });
const description = z.string().trim().max(500, 'must be at most 500 characters').nullable().meta({ description: 'A note for the team: what receives these.' });

/** `POST /webhook-endpoints`. */
export function createEndpointBody(allowPrivate: boolean) {
  return z.strictObject({ url: endpointUrl(allowPrivate), events, description: description.optional(), enabled: z.boolean().optional() });
}

/** `PATCH /webhook-endpoints/:id`: any of the fields; `enabled: true` turns a disabled endpoint back on. */
export function updateEndpointBody(allowPrivate: boolean) {
  return z
    .strictObject({ url: endpointUrl(allowPrivate), events, description, enabled: z.boolean() })
    .partial()
    .refine((body) => Object.keys(body).length > 0, 'change at least one field');
}

export type CreateEndpointInput = z.output<ReturnType<typeof createEndpointBody>>;
export type UpdateEndpointInput = z.output<ReturnType<typeof updateEndpointBody>>;

export const deliveryListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.uuid().optional(),
  status: z.enum(['pending', 'delivered', 'failed']).optional(),
});
