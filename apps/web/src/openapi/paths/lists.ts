import { z } from 'zod';
import type { ZodOpenApiPathsObject } from 'zod-openapi';
import { createListInput, editListInput } from '../../lists/list-schema.js';
import { listsQuery, membersQuery } from '../../routes/lists.js';
import { bearer, bearerErrors, errorResponse, invalidQuery, jsonBodyErrors, jsonResponse, nextCursor, timestamp, unavailable } from '../common.js';
import { subscriber, subscriptionStatus } from './subscribers.js';

/** ListView in list-queries.ts. */
const list = z
  .object({
    id: z.uuid(),
    name: z.string(),
    slug: z.string(),
    description: z.string().nullable(),
    visibility: z.enum(['public', 'private']),
    doubleOptIn: z.boolean(),
    isDefault: z.boolean(),
    welcome: z.object({ subject: z.string(), body: z.string(), format: z.enum(['html', 'markdown']) }).nullable(),
    archivedAt: timestamp.nullable(),
    createdAt: timestamp,
    updatedAt: timestamp,
    counts: z.object({ pending: z.int(), active: z.int(), unsubscribed: z.int() }).meta({ description: 'Subscriptions per status.' }),
  })
  .meta({ id: 'List' });

const member = subscriber
  .extend({
    subscription: z.object({
      status: subscriptionStatus,
      consentAt: timestamp.nullable(),
      consentSource: z.string().nullable(),
      confirmedAt: timestamp.nullable(),
      unsubscribedAt: timestamp.nullable(),
    }),
  })
  .meta({ id: 'ListMember' });

const ref = z.object({ id: z.string().meta({ description: 'The list’s id or slug.' }) });
const noList = { '404': errorResponse('No list with that id or slug.') };
const invalidFields = errorResponse('Fields that do not fit (`invalid_request` with `fields`).');
const slugTaken = errorResponse('Another list has the slug (`conflict`, `fields.slug`).');

export const listPaths = {
  '/lists': {
    get: {
      operationId: 'listLists',
      tags: ['Lists'],
      summary: 'The lists with their counts, the default first',
      security: bearer,
      requestParams: { query: listsQuery },
      responses: { '200': jsonResponse('Every list.', z.object({ lists: z.array(list) })), ...invalidQuery, ...bearerErrors, ...unavailable },
    },
    post: {
      operationId: 'createList',
      tags: ['Lists'],
      summary: 'Create a list (its slug made from the name when absent)',
      security: bearer,
      requestBody: { required: true, content: { 'application/json': { schema: createListInput } } },
      responses: {
        '201': { ...jsonResponse('The list created.', list), headers: { Location: { description: '`/lists/{id}`', schema: { type: 'string' } } } },
        ...jsonBodyErrors,
        '409': slugTaken,
        '422': invalidFields,
        ...bearerErrors,
        ...unavailable,
      },
    },
  },
  '/lists/{id}': {
    get: {
      operationId: 'getList',
      tags: ['Lists'],
      summary: 'One list, archived ones included',
      security: bearer,
      requestParams: { path: ref },
      responses: { '200': jsonResponse('The list.', list), ...noList, ...bearerErrors, ...unavailable },
    },
    patch: {
      operationId: 'editList',
      tags: ['Lists'],
      summary: 'Change the fields given (`description: null`, `welcome: null` remove them)',
      security: bearer,
      requestParams: { path: ref },
      requestBody: { required: true, content: { 'application/json': { schema: editListInput } } },
      responses: {
        '200': jsonResponse('The list as changed.', list),
        ...jsonBodyErrors,
        ...noList,
        '409': errorResponse('The slug is taken (`conflict`), or the list is archived (`invalid_state`).'),
        '422': invalidFields,
        ...bearerErrors,
        ...unavailable,
      },
    },
    delete: {
      operationId: 'deleteList',
      tags: ['Lists'],
      summary: 'Delete a list no campaign went to; archive one that campaigns went to',
      security: bearer,
      requestParams: { path: ref },
      responses: {
        '200': jsonResponse('Archived: the list.', list),
        '204': { description: 'Deleted.' },
        ...noList,
        '409': errorResponse('The default list cannot be deleted (`invalid_state`).'),
        ...bearerErrors,
        ...unavailable,
      },
    },
  },
  '/lists/{id}/subscribers': {
    get: {
      operationId: 'listListMembers',
      tags: ['Lists'],
      summary: 'A list’s subscribers with their subscription to it, in subscriber id order',
      security: bearer,
      requestParams: { path: ref, query: membersQuery },
      responses: {
        '200': jsonResponse('A page of the list’s subscribers.', z.object({ subscribers: z.array(member), nextCursor })),
        ...invalidQuery,
        ...noList,
        ...bearerErrors,
        ...unavailable,
      },
    },
  },
} satisfies ZodOpenApiPathsObject;
