import { z } from 'zod';
import type { ZodOpenApiPathsObject } from 'zod-openapi';
import { idempotencyKey, sendInput } from '../../campaigns/campaign-schema.js';
import { editInput } from '../../campaigns/edit-campaign.js';
import { campaignActionParams, campaignListQuery, campaignTasksQuery } from '../../routes/campaigns.js';
import { bearer, bearerErrors, errorResponse, invalidQuery, jsonBodyErrors, jsonResponse, nextCursor, notFound, timestamp, unavailable } from '../common.js';
import { segmentRuleSchema } from './segments.js';

export const campaignStatus = z.enum(['draft', 'scheduled', 'sending', 'paused', 'cancelled', 'sent']).meta({ id: 'CampaignStatus' });
export const deliveryStatus = z.enum(['queued', 'sending', 'sent', 'failed', 'cancelled', 'skipped']).meta({ id: 'TaskStatus' });
const uuid = z.uuid();
const id = z.object({ id: uuid });

const campaignLinks = z.object({
  campaign: z.string().meta({ description: 'The campaign, `/campaigns/{id}`.' }),
  tasks: z.string().meta({ description: 'Its tasks, `/campaigns/{id}/tasks`.' }),
});

export const tracking = z
  .object({ opens: z.boolean(), clicks: z.boolean() })
  .meta({ id: 'Tracking', description: 'Whether SendGrid tracks opens and clicks of the campaign’s emails.' });

/** campaignSummary() in campaign-view.ts. */
export const campaignSummary = z
  .object({
    id: uuid,
    subject: z.string(),
    status: campaignStatus,
    statusReason: z.string().nullable().meta({ description: 'Why it is paused or cancelled, when Herald says.' }),
    format: z.enum(['html', 'markdown']),
    inArchive: z.boolean(),
    tracking,
    recipients: z.int().meta({ description: 'The audience fixed when it started (0 before).' }),
    sendAt: timestamp.nullable(),
    createdAt: timestamp,
    startedAt: timestamp.nullable(),
    finishedAt: timestamp.nullable(),
    links: campaignLinks,
  })
  .meta({ id: 'CampaignSummary' });

/** readAudience() in campaign-audience-input.ts. */
export const audienceView = {
  lists: z.array(z.object({ id: uuid, slug: z.string(), name: z.string() })).meta({ description: 'The lists it goes to, in order.' }),
  segment: z
    .union([z.object({ id: uuid, name: z.string() }), z.object({ rules: segmentRuleSchema })])
    .nullable()
    .meta({ description: 'A saved segment, inline rules, or none.' }),
};
export const campaignAudience = z.object(audienceView).meta({ id: 'CampaignAudience' });

const deliveryCounts = z
  .object(Object.fromEntries(deliveryStatus.options.map((status) => [status, z.int()])) as Record<z.infer<typeof deliveryStatus>, z.ZodInt>)
  .meta({ id: 'TaskCounts', description: 'The campaign’s deliveries (tasks) per status.' });

const eventCounts = z
  .object({
    delivered: z.int(),
    bounced: z.int(),
    blocked: z.int(),
    dropped: z.int(),
    complained: z.int(),
    unsubscribed: z.int(),
    opened: z.int(),
    clicked: z.int(),
  })
  .meta({ id: 'CampaignEventCounts', description: 'Recipients with at least one SendGrid event of each kind.' });

const campaignDetail = campaignSummary
  .extend({ ...audienceView, total: z.int(), counts: deliveryCounts, events: eventCounts })
  .meta({ id: 'Campaign' });

const editedCampaign = campaignSummary.extend(audienceView).meta({ id: 'EditedCampaign' });

const actedCampaign = campaignSummary
  .extend({
    changed: z.object({ requeued: z.int(), cancelled: z.int() }).meta({ description: 'The deliveries this action moved.' }),
    counts: deliveryCounts,
  })
  .meta({ id: 'CampaignAfterAction' });

export const task = z
  .object({
    id: uuid,
    campaignId: uuid,
    email: z.string().nullable().meta({ description: 'Null once the subscriber was erased.' }),
    status: deliveryStatus,
    attempts: z.int(),
    lastError: z.string().nullable(),
    providerMessageId: z.string().nullable(),
    sentAt: timestamp.nullable(),
  })
  .meta({ id: 'Task' });

const sendAnswer = z
  .object({
    campaignId: uuid,
    status: campaignStatus,
    recipients: z.int(),
    links: campaignLinks,
    warnings: z.array(z.object({ code: z.enum(['gmail_clipping']), message: z.string() })),
    tasks: z.array(uuid).meta({ description: 'Every task id (one per recipient); empty while scheduled.' }),
  })
  .meta({ id: 'SendAnswer' });

const idempotencyHeader = z.object({
  'Idempotency-Key': idempotencyKey.optional().meta({
    description: 'Repeating a request with the same key answers the first campaign again instead of creating another (the answer then carries `Idempotent-Replayed: true`).',
  }),
});

export const campaignPaths = {
  '/send': {
    post: {
      operationId: 'sendCampaign',
      tags: ['Campaigns'],
      summary: 'Create a campaign and send it (now or at `sendAt`)',
      description:
        'In one transaction: the campaign, and one task (delivery) per recipient of its audience. Answers at once; workers send.',
      security: bearer,
      requestParams: { header: idempotencyHeader },
      requestBody: { required: true, content: { 'application/json': { schema: sendInput } } },
      responses: {
        '202': {
          ...jsonResponse('Accepted: the campaign and its task ids.', sendAnswer),
          headers: { 'Idempotent-Replayed': { description: '`true` when the answer is the first campaign of this Idempotency-Key.', schema: { type: 'string', enum: ['true'] } } },
        },
        ...jsonBodyErrors,
        '400': errorResponse('Fields that do not fit (`invalid_request` with `fields`), a malformed Idempotency-Key (`invalid_idempotency_key`), or a body that is not JSON.'),
        '422': errorResponse('An unknown or archived list, unknown segment or rules that do not fit (`invalid_request` with `fields`), or an Idempotency-Key used before with another request (`idempotency_key_reused`).'),
        ...bearerErrors,
        ...unavailable,
      },
    },
  },
  '/campaigns': {
    get: {
      operationId: 'listCampaigns',
      tags: ['Campaigns'],
      summary: 'Campaigns, newest first',
      security: bearer,
      requestParams: { query: campaignListQuery },
      responses: {
        '200': jsonResponse('A page of campaigns.', z.object({ campaigns: z.array(campaignSummary), nextCursor })),
        ...invalidQuery,
        ...bearerErrors,
        ...unavailable,
      },
    },
  },
  '/campaigns/{id}': {
    get: {
      operationId: 'getCampaign',
      tags: ['Campaigns'],
      summary: 'A campaign with its counts per task status and SendGrid events',
      security: bearer,
      requestParams: { path: id },
      responses: { '200': jsonResponse('The campaign.', campaignDetail), ...notFound('campaign'), ...bearerErrors, ...unavailable },
    },
    patch: {
      operationId: 'editCampaign',
      tags: ['Campaigns'],
      summary: 'Edit a campaign that has not started',
      security: bearer,
      requestParams: { path: id },
      requestBody: { required: true, content: { 'application/json': { schema: editInput } } },
      responses: {
        '200': jsonResponse('The campaign as edited.', editedCampaign),
        ...jsonBodyErrors,
        ...notFound('campaign'),
        '409': errorResponse('It has started (or is a draft): only a scheduled campaign that has not started can be edited (`invalid_state`).'),
        '422': errorResponse('An unknown or archived list, unknown segment or rules that do not fit (`invalid_request` with `fields`).'),
        ...bearerErrors,
        ...unavailable,
      },
    },
  },
  '/campaigns/{id}/tasks': {
    get: {
      operationId: 'listCampaignTasks',
      tags: ['Campaigns'],
      summary: 'A campaign’s tasks, in task id order',
      description: 'Ids never change, so paging while workers send lists each task once.',
      security: bearer,
      requestParams: { path: id, query: campaignTasksQuery },
      responses: {
        '200': jsonResponse('A page of tasks.', z.object({ tasks: z.array(task), nextCursor })),
        ...invalidQuery,
        ...notFound('campaign'),
        ...bearerErrors,
        ...unavailable,
      },
    },
  },
  '/campaigns/{id}/{action}': {
    post: {
      operationId: 'actOnCampaign',
      tags: ['Campaigns'],
      summary: 'Pause, resume, cancel, or retry the failed tasks of a campaign',
      description: 'Each action is one transaction holding the campaign row, so actions racing each other or the workers apply one after another.',
      security: bearer,
      requestParams: { path: campaignActionParams },
      responses: {
        '200': jsonResponse('The campaign after the action.', actedCampaign),
        '404': errorResponse('No campaign with that id, or an unknown action.'),
        '409': errorResponse('Its state does not allow the action (`invalid_state`); `retry-failed` with nothing failed included.'),
        ...bearerErrors,
        ...unavailable,
      },
    },
  },
  '/tasks/{id}': {
    get: {
      operationId: 'getTask',
      tags: ['Campaigns'],
      summary: 'One task: the delivery of a campaign to one recipient',
      security: bearer,
      requestParams: { path: id },
      responses: { '200': jsonResponse('The task.', task), ...notFound('task'), ...bearerErrors, ...unavailable },
    },
  },
} satisfies ZodOpenApiPathsObject;
