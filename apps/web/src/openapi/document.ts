import { createDocument } from 'zod-openapi';
import type { ZodOpenApiPathItemObject, ZodOpenApiPathsObject } from 'zod-openapi';
import { bearerSchemeName, errorResponse, malformedUrl } from './common.js';
import { auditPaths } from './paths/audit.js';
import { campaignPaths } from './paths/campaigns.js';
import { healthPaths } from './paths/health.js';
import { listPaths } from './paths/lists.js';
import { pagePaths } from './paths/pages.js';
import { reportPaths } from './paths/reports.js';
import { segmentPaths } from './paths/segments.js';
import { sendgridWebhookPaths } from './paths/sendgrid-webhook.js';
import { signupPaths } from './paths/signup.js';
import { subscriberPaths } from './paths/subscribers.js';
import { userPaths } from './paths/users.js';
import { tokenPaths } from './paths/tokens.js';
import { webhookEndpointPaths } from './paths/webhook-endpoints.js';

/**
 * Every area of the HTTP surface, in the order the reference lists them. A new area adds its
 * `paths/<area>.ts` here; two areas never describe the same path.
 */
const areas: ZodOpenApiPathsObject[] = [
  campaignPaths,
  reportPaths,
  subscriberPaths,
  listPaths,
  segmentPaths,
  webhookEndpointPaths,
  userPaths,
  tokenPaths,
  auditPaths,
  signupPaths,
  sendgridWebhookPaths,
  pagePaths,
  healthPaths,
];

const tags = [
  { name: 'Campaigns', description: 'Send newsletters and follow their tasks (one delivery per recipient).' },
  { name: 'Reports', description: 'What SendGrid reported back, per campaign and across campaigns.' },
  { name: 'Subscribers', description: 'People: list, search, import, export, edit, erase, and their lists.' },
  { name: 'Lists', description: 'Lists people subscribe to, each with its own consent.' },
  { name: 'Segments', description: 'Saved rules that select subscribers.' },
  { name: 'Webhooks', description: 'Outbound webhooks: endpoints Herald reports events to, signed as Standard Webhooks says, and what it sent them.' },
  { name: 'Team', description: 'The people who log in, each with a role: invitations, roles, disabling and removing.' },
  { name: 'Tokens', description: 'Your personal API tokens: each acts with at most your role, and can be revoked at once.' },
  { name: 'Audit', description: 'Who did what, on what, when and from where; append-only.' },
  { name: 'Signup', description: 'The public signup, as JSON or the form.' },
  { name: 'SendGrid', description: 'SendGrid’s signed Event Webhook.' },
  { name: 'Pages', description: 'Public HTML pages, for people; described so every answer outside the admin is.' },
  { name: 'Operations', description: 'Health, readiness, metrics and this description.' },
];

/** The version of the API as described; bumped when an answer changes incompatibly. */
export const apiVersion = '1.0.0';

const methods = ['get', 'put', 'post', 'patch', 'delete'] as const;

function mergeAreas(list: ZodOpenApiPathsObject[]): ZodOpenApiPathsObject {
  const paths: ZodOpenApiPathsObject = {};
  for (const area of list) {
    for (const [path, item] of Object.entries(area)) {
      if (paths[path]) throw new Error(`${path} is described by two areas of the API description`);
      paths[path] = path.includes('{') ? withMalformedUrl(item) : item;
    }
  }
  return paths;
}

/**
 * The router decodes path parameters before any route runs, and answers 400 for one it cannot
 * decode, on every route that has one: said here once rather than by each route.
 */
function withMalformedUrl(item: ZodOpenApiPathItemObject): ZodOpenApiPathItemObject {
  const described = { ...item };
  for (const method of methods) {
    const operation = item[method];
    if (!operation?.responses) continue;
    const existing = operation.responses['400'] as { description: string } | undefined;
    const answer = existing ? { ...existing, description: `${existing.description} Or: ${malformedUrl}` } : errorResponse(malformedUrl);
    described[method] = { ...operation, responses: { ...operation.responses, '400': answer } };
  }
  return described;
}

/**
 * The OpenAPI 3.1 description of Herald's HTTP API, built from the zod schemas that validate the
 * requests. `publicUrl` is the server it names (PUBLIC_URL).
 */
// Annotated so the web's build can emit declarations for it (zod-openapi's own type is not exported by name).
export function buildOpenApiDocument(publicUrl: string): ReturnType<typeof createDocument> {
  return createDocument({
    openapi: '3.1.0',
    info: {
      title: 'Herald',
      version: apiVersion,
      description:
        'The admin API (`Authorization: Bearer <token>`: a personal API token, which acts with its role, or ADMIN_TOKEN, the owner\'s bootstrap token) and the public JSON routes of a Herald installation. Errors are always `{"error": {"code", "message", "fields"?}}`.',
    },
    servers: [{ url: publicUrl }],
    tags,
    paths: mergeAreas(areas),
    components: {
      securitySchemes: {
        [bearerSchemeName]: {
          type: 'http',
          scheme: 'bearer',
          description:
            'A personal API token (`herald_…`, made on the account page or with POST /tokens), which acts with its role (never above its user\'s current one), or ADMIN_TOKEN, the owner\'s bootstrap token. A route the role may not use answers 403 `forbidden`. Five wrong tokens from one address within 15 minutes answer 429 until the window ends.',
        },
      },
    },
  });
}

export type OpenApiDocument = ReturnType<typeof buildOpenApiDocument>;
