import { z } from 'zod';
import type { ZodOpenApiPathsObject } from 'zod-openapi';
import { auditActions } from '../../team/audit.js';
import { auditQueryFields } from '../../team/audit-queries.js';
import { bearer, bearerErrors, errorResponse, jsonResponse, timestamp, unavailable } from '../common.js';

const entry = z
  .object({
    id: z.string().regex(/^\d+$/).meta({ description: 'Increasing with time.' }),
    at: timestamp,
    actor: z.string().meta({ description: 'Who acted, as the log shows them: an email, `email (token name)`, or `ADMIN_TOKEN`; for a failed login, the email tried.' }),
    actorUserId: z.uuid().nullable(),
    actorTokenId: z.uuid().nullable().meta({ description: 'The API token used, if one was.' }),
    action: z.string().meta({ description: `One of: ${auditActions.map((action) => `\`${action}\``).join(', ')}.` }),
    target: z
      .object({
        type: z.string(),
        id: z.string().nullable(),
        label: z.string().nullable().meta({ description: 'How it was named then (a subject, an email, a list’s or segment’s name, a webhook endpoint’s scheme and host); cleared when a subscriber is erased.' }),
      })
      .nullable(),
    address: z.string().nullable().meta({ description: 'The client address the request came from.' }),
    details: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'AuditEntry' });

export const auditPaths = {
  '/audit': {
    get: {
      operationId: 'listAuditEntries',
      tags: ['Audit'],
      summary: 'The audit log, newest first',
      description: 'Entries are never changed or removed (but an erasure clears the erased person’s label and details). Owners and admins only.',
      security: bearer,
      requestParams: { query: auditQueryFields },
      responses: {
        ...bearerErrors,
        '200': jsonResponse('A page of entries.', z.object({ entries: z.array(entry), nextCursor: z.string().nullable().meta({ description: 'The `cursor` of the next page; null on the last page.' }) })),
        '403': errorResponse('Your role cannot read the audit log (`forbidden`).'),
        '422': errorResponse('A query parameter does not fit (`invalid_request`; `fields` names it), such as an unknown action or a cursor not from a previous page.'),
        ...unavailable,
      },
    },
  },
} satisfies ZodOpenApiPathsObject;
