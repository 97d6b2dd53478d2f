import { z } from 'zod';
import type { ZodOpenApiPathsObject } from 'zod-openapi';
import { roleDescriptions, roles } from '../../team/roles.js';
import { createTokenBody, maxTokenYears } from '../../team/token-input.js';
import { bearer, bearerErrors, errorResponse, jsonBodyErrors, jsonResponse, notFound, timestamp, unavailable } from '../common.js';

const roleList = roles.map((role) => `\`${role}\`: ${roleDescriptions[role]}`).join(' ');

const token = z
  .object({
    id: z.uuid(),
    name: z.string(),
    role: z.enum(roles).meta({ description: 'The most the token may do; it acts with the lower of this and its user’s current role.' }),
    prefix: z.string().meta({ description: 'The token’s first characters (`herald_` and six more), to tell it apart.' }),
    createdAt: timestamp,
    expiresAt: timestamp.nullable(),
    lastUsedAt: timestamp.nullable().meta({ description: 'Its latest use, written at most once a minute per address.' }),
    lastUsedFrom: z.string().nullable().meta({ description: 'The client address of that use.' }),
    revokedAt: timestamp.nullable(),
  })
  .meta({ id: 'ApiToken' });

const created = token
  .extend({ token: z.string().regex(/^herald_/).meta({ description: 'The token, `herald_` + 43 characters. Shown only in this answer: Herald keeps its SHA-256 alone.' }) })
  .meta({ id: 'ApiTokenCreated' });

const bootstrapToken = errorResponse('The request was made with ADMIN_TOKEN, which belongs to no user (`invalid_state`): log in as a user, or use one of their tokens.');

export const tokenPaths = {
  '/tokens': {
    get: {
      operationId: 'listTokens',
      tags: ['Tokens'],
      summary: 'Your own API tokens: those in use (newest first), then the revoked ones (latest revoked first)',
      description: 'Revoked tokens stay listed, with when they were last used. The token itself is never shown again.',
      security: bearer,
      responses: { '200': jsonResponse('Your tokens.', z.object({ tokens: z.array(token) })), '409': bootstrapToken, ...bearerErrors, ...unavailable },
    },
    post: {
      operationId: 'createToken',
      tags: ['Tokens'],
      summary: 'Create a token for yourself; the answer holds it, shown only this once',
      description: `Its role is at most your own (a request made with a token: at most that token’s role). Roles: ${roleList} An expiry is optional, in the future and at most ${maxTokenYears} years away. ADMIN_TOKEN belongs to no user and cannot create tokens (409).`,
      security: bearer,
      requestBody: { required: true, content: { 'application/json': { schema: createTokenBody } } },
      responses: {
        ...bearerErrors,
        '201': jsonResponse('The token, with its secret.', created),
        ...jsonBodyErrors,
        '403': errorResponse('The role asked for is above yours (`forbidden`).'),
        '409': bootstrapToken,
        '422': errorResponse('A field does not fit (`invalid_request`; `fields` names it), such as an expiry in the past.'),
        ...unavailable,
      },
    },
  },
  '/tokens/{id}': {
    delete: {
      operationId: 'revokeToken',
      tags: ['Tokens'],
      summary: 'Revoke a token: it stops working at once',
      description: 'Your own tokens; an owner may revoke anyone’s (ADMIN_TOKEN too). The token stays listed as revoked. Revoking a revoked token changes nothing.',
      security: bearer,
      requestParams: { path: z.object({ id: z.uuid() }) },
      responses: { '204': { description: 'Revoked.' }, ...notFound('token of yours'), ...bearerErrors, ...unavailable },
    },
  },
} satisfies ZodOpenApiPathsObject;
