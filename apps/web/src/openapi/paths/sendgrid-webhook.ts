import { z } from 'zod';
import type { ZodOpenApiPathsObject } from 'zod-openapi';
import { errorResponse, jsonResponse } from '../common.js';

const signatureHeaders = z.object({
  'x-twilio-email-event-webhook-signature': z.string().optional().meta({ description: 'Base64 ECDSA signature over timestamp + raw body.' }),
  'x-twilio-email-event-webhook-timestamp': z.string().optional().meta({ description: 'Unix seconds, signed with the body.' }),
});

export const sendgridWebhookPaths = {
  '/webhooks/sendgrid': {
    post: {
      operationId: 'receiveSendgridEvents',
      tags: ['SendGrid'],
      summary: 'SendGrid’s signed Event Webhook',
      description:
        'Verified against SENDGRID_WEBHOOK_PUBLIC_KEY, stored once per event and answered at once; a worker applies them. An event in a signed batch that is not a usable event is kept apart and counted in `malformed`, never costing the rest of its batch.',
      requestParams: { header: signatureHeaders },
      requestBody: { required: true, content: { 'application/json': { schema: z.array(z.record(z.string(), z.unknown())).meta({ description: 'SendGrid’s batch of events.' }) } } },
      responses: {
        '200': jsonResponse(
          'Received.',
          z.object({
            received: z.int().meta({ description: 'Events in the batch.' }),
            stored: z.int().meta({ description: 'Events not seen before.' }),
            malformed: z.int().meta({ description: 'Events kept aside as unusable.' }),
          }),
        ),
        '400': errorResponse('The body is not a JSON array (`invalid_events`).'),
        '403': errorResponse('A missing, stale or wrong signature (`missing_signature`, `stale_timestamp`, `invalid_signature`).'),
        '413': errorResponse('Over 5 MB (`payload_too_large`).'),
        '503': errorResponse('No public key is set (`webhook_not_configured`), or Postgres is unreachable (`unavailable`): SendGrid retries.'),
      },
    },
  },
} satisfies ZodOpenApiPathsObject;
