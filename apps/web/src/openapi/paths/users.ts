import { z } from 'zod';
import type { ZodOpenApiPathsObject } from 'zod-openapi';
import { inviteUserBody, updateUserBody, userRole } from '../../team/user-schema.js';
import { bearer, bearerErrors, errorResponse, jsonBodyErrors, jsonResponse, notFound, timestamp, unavailable } from '../common.js';

const user = z
  .object({
    id: z.uuid(),
    email: z.string(),
    name: z.string().nullable(),
    role: userRole,
    status: z.enum(['invited', 'active', 'disabled']).meta({ description: 'invited: has not chosen a password yet; active: can log in; disabled: cannot, nor can their tokens.' }),
    createdAt: timestamp,
    lastLoginAt: timestamp.nullable(),
    invitedAt: timestamp.nullable().meta({ description: 'When the (latest) invitation was asked for; null for the first owner.' }),
  })
  .meta({ id: 'User' });

const id = z.object({ id: z.uuid() });
const forbidden = { '403': errorResponse('Only owners manage the team (`forbidden`).') };
const invalidUser = errorResponse('A field does not fit (`invalid_request`; `fields` names it).');
const lastOwner = 'At least one enabled owner with a password must remain (`invalid_state`).';

export const userPaths = {
  '/users': {
    get: {
      operationId: 'listUsers',
      tags: ['Team'],
      summary: 'Everyone on the team: owners first, then by role and email',
      security: bearer,
      responses: { '200': jsonResponse('The users.', z.object({ users: z.array(user) })), ...bearerErrors, ...forbidden, ...unavailable },
    },
    post: {
      operationId: 'inviteUser',
      tags: ['Team'],
      summary: 'Invite someone: they get an email with a link to choose a password, valid for 7 days',
      security: bearer,
      requestBody: { required: true, content: { 'application/json': { schema: inviteUserBody } } },
      responses: {
        '201': jsonResponse('The invited user; the invitation email is on its way.', user),
        ...jsonBodyErrors,
        '409': errorResponse('Someone on the team already has this email (`conflict`).'),
        '422': invalidUser,
        ...bearerErrors,
        ...forbidden,
        ...unavailable,
      },
    },
  },
  '/users/{id}': {
    patch: {
      operationId: 'editUser',
      tags: ['Team'],
      summary: 'Change a user’s role, or disable or enable them',
      description: 'Disabling ends their sessions and stops their API tokens at once; enabling lets both work again.',
      security: bearer,
      requestParams: { path: id },
      requestBody: { required: true, content: { 'application/json': { schema: updateUserBody } } },
      responses: {
        '200': jsonResponse('The user as changed.', user),
        ...jsonBodyErrors,
        ...notFound('user'),
        '409': errorResponse(lastOwner),
        '422': invalidUser,
        ...bearerErrors,
        ...forbidden,
        ...unavailable,
      },
    },
    delete: {
      operationId: 'removeUser',
      tags: ['Team'],
      summary: 'Remove a user with their API tokens; the audit log keeps what they did',
      security: bearer,
      requestParams: { path: id },
      responses: { '204': { description: 'Removed.' }, ...notFound('user'), '409': errorResponse(lastOwner), ...bearerErrors, ...forbidden, ...unavailable },
    },
  },
  '/users/{id}/invitation': {
    post: {
      operationId: 'resendInvitation',
      tags: ['Team'],
      summary: 'Send the invitation again, with a new link; the old link stops working at once',
      security: bearer,
      requestParams: { path: id },
      responses: {
        '202': jsonResponse('The user; the new invitation email is on its way.', user),
        ...notFound('user'),
        '409': errorResponse('The user has joined already, or is disabled (`invalid_state`).'),
        ...bearerErrors,
        ...forbidden,
        ...unavailable,
      },
    },
  },
} satisfies ZodOpenApiPathsObject;
