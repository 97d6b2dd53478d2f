import { z } from 'zod';
import type { ZodOpenApiPathsObject } from 'zod-openapi';
import { webhookEventDescriptions, webhookEventTypes } from '@herald/shared';
import { createEndpointBody, deliveryListQuery, updateEndpointBody, webhookEventType } from '../../webhook-endpoints/endpoint-schema.js';
import { bearer, bearerErrors, errorResponse, invalidQuery, jsonBodyErrors, jsonResponse, nextCursor, notFound, timestamp, unavailable } from '../common.js';

const eventList = webhookEventTypes.map((type) => `\`${type}\`: ${webhookEventDescriptions[type]}`).join(' ');

const endpoint = z
  .object({
    id: z.uuid(),
    url: z.string(),
    description: z.string().nullable(),
    events: z.array(webhookEventType),
    enabled: z.boolean(),
    disabledReason: z.string().nullable().meta({ description: 'Why it is disabled: by an admin, or after every attempt failed for a day.' }),
    disabledAt: timestamp.nullable(),
    failingSince: timestamp.nullable().meta({ description: 'The first failed attempt since the last success; null while it answers.' }),
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .meta({ id: 'WebhookEndpoint' });

const created = endpoint
  .extend({ secret: z.string().regex(/^whsec_/).meta({ description: 'The signing secret, `whsec_` + base64. Shown only in this answer.' }) })
  .meta({ id: 'WebhookEndpointCreated' });

const delivery = z
  .object({
    id: z.uuid(),
    eventId: z.uuid().meta({ description: 'The `webhook-id` header the endpoint received.' }),
    type: z.string(),
    status: z.enum(['pending', 'delivered', 'failed']).meta({ description: 'pending: to be attempted (again); delivered: a 2xx answered; failed: given up.' }),
    attempts: z.int().min(0),
    nextAttemptAt: timestamp.nullable(),
    lastAttemptAt: timestamp.nullable(),
    deliveredAt: timestamp.nullable(),
    createdAt: timestamp,
    lastAttempt: z
      .object({
        attemptedAt: timestamp,
        durationMs: z.int().min(0),
        statusCode: z.int().nullable().meta({ description: 'The endpoint’s status; null when it never answered.' }),
        error: z.string().nullable().meta({ description: 'Why there was no answer: refused address, timeout, reset...' }),
        responseExcerpt: z.string().nullable().meta({ description: 'The first 1 KiB of the answer.' }),
      })
      .nullable(),
  })
  .meta({ id: 'WebhookDelivery' });

const id = z.object({ id: z.uuid() });
const invalidEndpoint = errorResponse('A field does not fit (`invalid_request`; `fields` names it), such as a URL that is not http(s) or names a private address.');
const disabled = errorResponse('The endpoint is disabled; enable it first (`invalid_state`).');

export const webhookEndpointPaths = {
  '/webhook-endpoints': {
    get: {
      operationId: 'listWebhookEndpoints',
      tags: ['Webhooks'],
      summary: 'Every outbound webhook endpoint, oldest first',
      security: bearer,
      responses: { '200': jsonResponse('The endpoints.', z.object({ endpoints: z.array(endpoint) })), ...bearerErrors, ...unavailable },
    },
    post: {
      operationId: 'createWebhookEndpoint',
      tags: ['Webhooks'],
      summary: 'Register an endpoint; the answer holds its secret, shown only this once',
      description: `Events: ${eventList}`,
      security: bearer,
      requestBody: { required: true, content: { 'application/json': { schema: createEndpointBody(false) } } },
      responses: { '201': jsonResponse('The endpoint, with its signing secret.', created), ...jsonBodyErrors, '422': invalidEndpoint, ...bearerErrors, ...unavailable },
    },
  },
  '/webhook-endpoints/{id}': {
    get: {
      operationId: 'getWebhookEndpoint',
      tags: ['Webhooks'],
      summary: 'One endpoint (never its secret)',
      security: bearer,
      requestParams: { path: id },
      responses: { '200': jsonResponse('The endpoint.', endpoint), ...notFound('webhook endpoint'), ...bearerErrors, ...unavailable },
    },
    patch: {
      operationId: 'editWebhookEndpoint',
      tags: ['Webhooks'],
      summary: 'Change the URL, events or description; disable or enable',
      description: 'Enabling a disabled endpoint clears its run of failures and attempts its pending deliveries now.',
      security: bearer,
      requestParams: { path: id },
      requestBody: { required: true, content: { 'application/json': { schema: updateEndpointBody(false) } } },
      responses: {
        '200': jsonResponse('The endpoint as changed.', endpoint),
        ...jsonBodyErrors,
        ...notFound('webhook endpoint'),
        '422': invalidEndpoint,
        ...bearerErrors,
        ...unavailable,
      },
    },
    delete: {
      operationId: 'deleteWebhookEndpoint',
      tags: ['Webhooks'],
      summary: 'Delete an endpoint with its deliveries',
      security: bearer,
      requestParams: { path: id },
      responses: { '204': { description: 'Deleted.' }, ...notFound('webhook endpoint'), ...bearerErrors, ...unavailable },
    },
  },
  '/webhook-endpoints/{id}/test': {
    post: {
      operationId: 'testWebhookEndpoint',
      tags: ['Webhooks'],
      summary: 'Send a `webhook.test` event to this endpoint alone',
      security: bearer,
      requestParams: { path: id },
      responses: {
        '202': jsonResponse('Queued; it is delivered like any event.', z.object({ eventId: z.uuid(), deliveryId: z.uuid() })),
        ...notFound('webhook endpoint'),
        '409': disabled,
        ...bearerErrors,
        ...unavailable,
      },
    },
  },
  '/webhook-endpoints/{id}/deliveries': {
    get: {
      operationId: 'listWebhookDeliveries',
      tags: ['Webhooks'],
      summary: 'What was sent to an endpoint, newest first, each with its latest attempt',
      security: bearer,
      requestParams: { path: id, query: deliveryListQuery },
      responses: {
        '200': jsonResponse('A page of deliveries.', z.object({ deliveries: z.array(delivery), nextCursor })),
        ...invalidQuery,
        ...notFound('webhook endpoint'),
        ...bearerErrors,
        ...unavailable,
      },
    },
  },
  '/webhook-endpoints/{id}/deliveries/{deliveryId}/resend': {
    post: {
      operationId: 'resendWebhookDelivery',
      tags: ['Webhooks'],
      summary: 'Send a delivery again (one more attempt, now)',
      security: bearer,
      requestParams: { path: z.object({ id: z.uuid(), deliveryId: z.uuid() }) },
      responses: {
        '202': jsonResponse('Queued.', z.object({ id: z.uuid(), status: z.literal('pending') })),
        ...notFound('webhook endpoint or delivery'),
        '409': disabled,
        ...bearerErrors,
        ...unavailable,
      },
    },
  },
} satisfies ZodOpenApiPathsObject;
