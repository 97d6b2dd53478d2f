import { Router } from 'express';
import { z } from 'zod';
import type { WebDeps } from '../deps.js';
import { HttpError } from '../http/http-error.js';
import { apiAccess } from '../http/admin-auth.js';
import { requireJsonBody } from '../http/json-body.js';
import { parseBody, parseRequest } from '../http/parse-request.js';
import { createListInput, editListInput, listRefOf } from '../lists/list-schema.js';
import { createList, editList, findList, listLists, listMembers, removeList, subscriptionStatuses } from '../lists/list-queries.js';
import { auditRequest, listTarget } from '../team/audit.js';
import { auditListChange } from '../team/audit-changes.js';

export const listsQuery = z.object({
  archived: z.enum(['include', 'exclude'], { error: 'archived must be "include" or "exclude"' }).default('exclude'),
});
export const membersQuery = z.object({
  status: z.enum(subscriptionStatuses, { error: 'status must be pending, active or unsubscribed' }).optional(),
  cursor: z.uuid().optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});

const noList = () => new HttpError(404, 'not_found', 'No list with that id or slug.');

/** The `:id` of a list route: its id or slug. */
function listRef(value: unknown): string {
  const ref = listRefOf(value);
  if (ref === undefined) throw noList();
  return ref;
}

/** The admin JSON API for lists, behind the bearer token. `:id` is a list's id or its slug. */
export function listRoutes(deps: WebDeps): Router {
  const { db } = deps;
  const router = Router();
  const can = apiAccess(deps);

  router.get('/lists', ...can('audiences:read'), async (req, res) => {
    const { archived } = parseRequest(listsQuery, req.query, 'query');
    res.json({ lists: await listLists(db, { includeArchived: archived === 'include' }) });
  });

  router.post('/lists', ...can('audiences:write'), ...requireJsonBody('2mb'), async (req, res) => {
    const result = await createList(db, parseBody(createListInput, req.body));
    if (!result.created) throw new HttpError(409, 'conflict', `Another list already has the slug "${result.slug}".`, { slug: 'is taken' });
    await auditRequest(db, req, res, 'list.created', listTarget(result.list), { slug: result.list.slug });
    res.status(201).location(`/lists/${result.list.id}`).json(result.list);
  });

  router.get('/lists/:id', ...can('audiences:read'), async (req, res) => {
    const list = await findList(db, listRef(req.params.id));
    if (!list) throw noList();
    res.json(list);
  });

  router.patch('/lists/:id', ...can('audiences:write'), ...requireJsonBody('2mb'), async (req, res) => {
    const input = parseBody(editListInput, req.body);
    if (Object.values(input).every((value) => value === undefined)) {
      throw new HttpError(422, 'invalid_request', 'Send at least one field to change.');
    }
    const result = await editList(db, listRef(req.params.id), input);
    if (result.outcome === 'not_found') throw noList();
    if (result.outcome === 'archived') throw new HttpError(409, 'invalid_state', 'The list is archived; an archived list cannot be edited.');
    if (result.outcome === 'slug_taken') throw new HttpError(409, 'conflict', `Another list already has the slug "${result.slug}".`, { slug: 'is taken' });
    await auditListChange(db, req, res, result);
    res.json(result.list);
  });

  // A list that campaigns went to is archived (200 with the list), any other is deleted (204).
  router.delete('/lists/:id', ...can('audiences:write'), async (req, res) => {
    const result = await removeList(db, listRef(req.params.id));
    if (result.outcome === 'not_found') throw noList();
    if (result.outcome === 'default') throw new HttpError(409, 'invalid_state', 'The default list cannot be deleted.');
    await auditRequest(db, req, res, result.outcome === 'archived' ? 'list.archived' : 'list.deleted', listTarget(result.list));
    if (result.outcome === 'archived') {
      res.json(result.list);
      return;
    }
    res.status(204).end();
  });

  router.get('/lists/:id/subscribers', ...can('audiences:read'), async (req, res) => {
    const query = parseRequest(membersQuery, req.query, 'query');
    const list = await findList(db, listRef(req.params.id));
    if (!list) throw noList();
    res.json(await listMembers(db, list.id, query));
  });

  return router;
}
