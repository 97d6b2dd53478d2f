import { Router } from 'express';
import type { WebDeps } from '../deps.js';
import { apiAccess } from '../http/admin-auth.js';
import { fieldErrors } from '../http/field-errors.js';
import { HttpError } from '../http/http-error.js';
import { auditListQuery, listAuditEntries } from '../team/audit-queries.js';
import type { AuditListQuery } from '../team/audit-queries.js';

/**
 * The query as 422 with `fields`, like a body: a filter that does not fit (an unknown action, a
 * cursor not from a previous page) is named, so a client can tell which one to fix.
 */
function parseAuditQuery(query: unknown): AuditListQuery {
  const parsed = auditListQuery.safeParse(query);
  if (!parsed.success) throw new HttpError(422, 'invalid_request', 'Some query parameters need attention.', fieldErrors(parsed.error));
  return parsed.data;
}

/** The audit log: who did what, on what, when and from where; newest first. */
export function auditRoutes(deps: WebDeps): Router {
  const { db } = deps;
  const router = Router();
  const can = apiAccess(deps);

  router.get('/audit', ...can('audit:read'), async (req, res) => {
    res.json(await listAuditEntries(db, parseAuditQuery(req.query)));
  });

  return router;
}
