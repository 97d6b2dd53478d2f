import { Router } from 'express';
import type { RequestHandler } from 'express';
import { z } from 'zod';
import type { WebDeps } from '../deps.js';
import { HttpError } from '../http/http-error.js';
import { apiAccess } from '../http/admin-auth.js';
import { requireJsonBody } from '../http/json-body.js';
import { parseId, parseRequest } from '../http/parse-request.js';
import { SegmentInputError, parseCreateSegment, parsePreviewSegment, parseUpdateSegment } from '../segments/segment-input.js';
import { auditRequest, segmentTarget } from '../team/audit.js';
import { auditSegmentChange } from '../team/audit-changes.js';
import { countSegment, createSegment, deleteSegment, findSegment, listSegments, previewSegment, updateSegment } from '../segments/segment-store.js';

export const segmentListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.uuid().optional(),
});

/** Rules are at most 100 small objects; 256 kB holds them with room for 500-value `in` lists. */
const jsonBody = requireJsonBody('256kb');

/** Fields that do not fit are 422 with a message per field, as everywhere in the API. */
const invalid = (err: SegmentInputError) => new HttpError(422, 'invalid_request', 'Some fields need attention.', err.fields);

/** Runs a handler, turning a SegmentInputError into the 422 answer. */
function withInputErrors(handler: RequestHandler): RequestHandler {
  return async (req, res, next) => {
    try {
      await handler(req, res, next);
    } catch (err) {
      throw err instanceof SegmentInputError ? invalid(err) : err;
    }
  };
}

/** Saved segments (rule sets that select subscribers), their live counts and previews. */
export function segmentRoutes(deps: WebDeps): Router {
  const { db } = deps;
  const router = Router();
  const can = apiAccess(deps);
  const notFound = () => new HttpError(404, 'not_found', 'No segment with that id.');

  router.get('/segments', ...can('audiences:read'), async (req, res) => {
    res.json(await listSegments(db, parseRequest(segmentListQuery, req.query, 'query')));
  });

  router.post('/segments', ...can('audiences:write'), ...jsonBody, withInputErrors(async (req, res) => {
    const segment = await createSegment(db, parseCreateSegment(req.body));
    await auditRequest(db, req, res, 'segment.created', segmentTarget(segment));
    res.status(201).json(segment);
  }));

  router.post('/segments/preview', ...can('audiences:read'), ...jsonBody, withInputErrors(async (req, res) => {
    res.json(await previewSegment(db, parsePreviewSegment(req.body)));
  }));

  router.get('/segments/:id', ...can('audiences:read'), async (req, res) => {
    const segment = await findSegment(db, parseId(req.params.id, 'segment'));
    if (!segment) throw notFound();
    res.json(segment);
  });

  router.patch('/segments/:id', ...can('audiences:write'), ...jsonBody, withInputErrors(async (req, res) => {
    const id = parseId(req.params.id, 'segment');
    const updated = await updateSegment(db, id, parseUpdateSegment(req.body));
    if (!updated) throw notFound();
    await auditSegmentChange(db, req, res, updated);
    res.json(updated.segment);
  }));

  router.delete('/segments/:id', ...can('audiences:write'), async (req, res) => {
    const deleted = await deleteSegment(db, parseId(req.params.id, 'segment'));
    if (deleted.outcome === 'not_found') throw notFound();
    if (deleted.outcome === 'in_use') throw new HttpError(409, 'invalid_state', 'A campaign was sent to this segment; it cannot be deleted.');
    await auditRequest(db, req, res, 'segment.deleted', segmentTarget(deleted.segment));
    res.status(204).end();
  });

  router.get('/segments/:id/count', ...can('audiences:read'), withInputErrors(async (req, res) => {
    const segment = await findSegment(db, parseId(req.params.id, 'segment'));
    if (!segment) throw notFound();
    // Saved rules were valid when saved; a list deleted since holds nobody.
    res.json({ count: await countSegment(db, segment.rules, { unknownLists: 'match-nobody' }) });
  }));

  return router;
}
