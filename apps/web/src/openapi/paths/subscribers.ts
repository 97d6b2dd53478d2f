import { z } from 'zod';
import type { ZodOpenApiPathsObject } from 'zod-openapi';
import { exportQuery, importQuery } from '../../routes/subscribers.js';
import { editSubscriberInput } from '../../subscribers/edit-subscriber.js';
import { listSubscribersQuery } from '../../subscribers/list-subscribers.js';
import { subscriberStatuses } from '../../subscribers/subscriber-view.js';
import { bearer, bearerErrors, csvResponse, errorResponse, invalidQuery, jsonBodyErrors, jsonResponse, nextCursor, notFound, timestamp, unavailable } from '../common.js';

export const attributes = z
  .record(z.string(), z.union([z.string(), z.number(), z.boolean()]))
  .meta({ id: 'Attributes', description: 'A flat object of string, number and boolean values.' });

export const subscriptionStatus = z.enum(['pending', 'active', 'unsubscribed']).meta({ id: 'SubscriptionStatus' });
const consentSource = z.string().nullable().meta({ description: 'How consent was given: `form`, `api`, `import`, `admin`, …' });

/** SubscriberView in subscriber-view.ts. */
const subscriberFields = {
  id: z.uuid(),
  email: z.string(),
  name: z.string().nullable(),
  status: z.enum(subscriberStatuses),
  consentAt: timestamp.nullable(),
  consentSource,
  confirmedAt: timestamp.nullable(),
  unsubscribedAt: timestamp.nullable(),
  attributes,
  createdAt: timestamp,
  updatedAt: timestamp,
};
export const subscriber = z.object(subscriberFields).meta({ id: 'Subscriber' });

/** A subscription's status and its history, as the API and the data export both give them. */
const subscriptionState = {
  status: subscriptionStatus,
  consentAt: timestamp.nullable(),
  consentSource,
  confirmedAt: timestamp.nullable(),
  unsubscribedAt: timestamp.nullable(),
  createdAt: timestamp,
};

/** SubscriptionView in list-membership.ts. */
const subscription = z
  .object({
    listId: z.uuid(),
    slug: z.string(),
    name: z.string(),
    visibility: z.enum(['public', 'private']),
    archived: z.boolean(),
    ...subscriptionState,
  })
  .meta({ id: 'Subscription' });

/** SubscriberDataExport in export-subscriber-data.ts, also served by the preference centre. */
export const subscriberData = z
  .object({
    exportedAt: timestamp,
    subscriber: z.object({ ...subscriberFields, confirmationSentAt: timestamp.nullable(), suppressedAt: timestamp.nullable() }),
    subscriptions: z.array(
      z.object({
        list: z.object({ name: z.string(), slug: z.string() }),
        ...subscriptionState,
      }),
    ),
    deliveries: z.array(
      z.object({
        id: z.uuid(),
        campaignId: z.uuid(),
        subject: z.string(),
        status: z.enum(['queued', 'sending', 'sent', 'failed', 'cancelled', 'skipped']),
        attempts: z.int(),
        lastError: z.string().nullable(),
        sentAt: timestamp.nullable(),
        createdAt: timestamp,
      }),
    ),
    events: z.array(
      z.object({
        type: z.string(),
        occurredAt: timestamp,
        payload: z.unknown().meta({ description: 'The event as SendGrid sent it.' }),
      }),
    ),
  })
  .meta({ id: 'SubscriberData', description: 'Everything Herald holds about one person (a GDPR access request).' });

const importReport = z
  .object({
    imported: z.int(),
    updated: z.int(),
    skipped: z.int(),
    subscribed: z.int().meta({ description: 'Subscriptions to the import’s list created or activated.' }),
    invalid: z.array(z.object({ line: z.int(), reason: z.string() })).meta({ description: 'The first invalid rows, in file order.' }),
    invalidCount: z.int(),
  })
  .meta({ id: 'ImportReport' });

const id = z.object({ id: z.uuid() });
const membership = z.object({ id: z.uuid(), listId: z.string().meta({ description: 'The list’s id or slug.' }) });
const noSubscriber = notFound('subscriber');

export const subscriberPaths = {
  '/subscribers': {
    get: {
      operationId: 'listSubscribers',
      tags: ['Subscribers'],
      summary: 'List and search subscribers, in id order',
      security: bearer,
      requestParams: { query: listSubscribersQuery },
      responses: {
        '200': jsonResponse('A page of subscribers.', z.object({ subscribers: z.array(subscriber), nextCursor })),
        ...invalidQuery,
        '404': errorResponse('No list or segment with the id given.'),
        ...bearerErrors,
        ...unavailable,
      },
    },
  },
  '/subscribers/import': {
    post: {
      operationId: 'importSubscribers',
      tags: ['Subscribers'],
      summary: 'Upsert subscribers from a CSV file (streamed, one transaction)',
      description: 'Columns `email`, `name`; any others become attributes. Unsubscribed, bounced and complained addresses are never resurrected.',
      security: bearer,
      requestParams: { query: importQuery },
      requestBody: { required: true, content: { 'text/csv': { schema: z.string() } } },
      responses: {
        '200': jsonResponse('What the import did.', importReport),
        '400': errorResponse('A query parameter that does not fit, or a file that cannot be read as CSV (`invalid_csv`, `invalid_csv_header`), or an upload cut short (`request_aborted`).'),
        '404': errorResponse('No list with that id or slug.'),
        '409': errorResponse('Another import changed the same rows at the same moment (`conflict`); send it again.'),
        '413': errorResponse('The file is larger than the import limit (`payload_too_large`).'),
        '415': errorResponse('Not `text/csv`, not UTF-8, or compressed.'),
        '422': errorResponse('The list is archived (`invalid_request`).'),
        ...bearerErrors,
        ...unavailable,
      },
    },
  },
  '/subscribers/export': {
    get: {
      operationId: 'exportSubscribers',
      tags: ['Subscribers'],
      summary: 'Subscribers as a CSV download, attributes as columns',
      security: bearer,
      requestParams: { query: exportQuery },
      responses: {
        '200': csvResponse('The subscribers; with `list`, a `list_status` column.'),
        ...invalidQuery,
        '404': errorResponse('No list or segment with the id given.'),
        ...bearerErrors,
        ...unavailable,
      },
    },
  },
  '/subscribers/{id}': {
    get: {
      operationId: 'getSubscriber',
      tags: ['Subscribers'],
      summary: 'One person with their subscriptions',
      security: bearer,
      requestParams: { path: id },
      responses: {
        '200': jsonResponse('The subscriber.', subscriber.extend({ subscriptions: z.array(subscription) }).meta({ id: 'SubscriberWithSubscriptions' })),
        ...noSubscriber,
        ...bearerErrors,
        ...unavailable,
      },
    },
    patch: {
      operationId: 'editSubscriber',
      tags: ['Subscribers'],
      summary: 'Change a person’s name or attributes (merged; a null value removes a key)',
      security: bearer,
      requestParams: { path: id },
      requestBody: { required: true, content: { 'application/json': { schema: editSubscriberInput } } },
      responses: {
        '200': jsonResponse('The subscriber as changed.', subscriber),
        ...jsonBodyErrors,
        ...noSubscriber,
        '422': errorResponse('A name or attribute that does not fit (`invalid_request`; `fields` names the key).'),
        ...bearerErrors,
        ...unavailable,
      },
    },
    delete: {
      operationId: 'eraseSubscriber',
      tags: ['Subscribers'],
      summary: 'Erase a person and their personal data (their delivery history stays, anonymised)',
      security: bearer,
      requestParams: { path: id },
      responses: { '204': { description: 'Erased.' }, ...noSubscriber, ...bearerErrors, ...unavailable },
    },
  },
  '/subscribers/{id}/export': {
    get: {
      operationId: 'exportSubscriberData',
      tags: ['Subscribers'],
      summary: 'Everything held about one person, as a JSON download',
      security: bearer,
      requestParams: { path: id },
      responses: { '200': jsonResponse('The data.', subscriberData), ...noSubscriber, ...bearerErrors, ...unavailable },
    },
  },
  '/subscribers/{id}/lists/{listId}': {
    put: {
      operationId: 'subscribeToList',
      tags: ['Subscribers'],
      summary: 'Add a person to a list (active, or pending until they confirm their address)',
      security: bearer,
      requestParams: { path: membership },
      responses: {
        '200': jsonResponse('Their subscription to the list.', subscription),
        '404': errorResponse('No subscriber or list with that id.'),
        '409': errorResponse('The list is archived, or the person left everything, bounced or complained (`invalid_state`).'),
        ...bearerErrors,
        ...unavailable,
      },
    },
    delete: {
      operationId: 'unsubscribeFromList',
      tags: ['Subscribers'],
      summary: 'Unsubscribe a person from a list',
      security: bearer,
      requestParams: { path: membership },
      responses: {
        '200': jsonResponse('Their subscription, now unsubscribed.', subscription),
        '404': errorResponse('No subscriber or list with that id, or no subscription to it.'),
        ...bearerErrors,
        ...unavailable,
      },
    },
  },
} satisfies ZodOpenApiPathsObject;
