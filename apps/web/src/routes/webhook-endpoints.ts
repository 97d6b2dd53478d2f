import { Router } from 'express';
import type { WebDeps } from '../deps.js';
import { HttpError } from '../http/http-error.js';
import { apiAccess } from '../http/admin-auth.js';
import { requireJsonBody } from '../http/json-body.js';
import { parseBody, parseId, parseRequest } from '../http/parse-request.js';
import { createEndpointBody, deliveryListQuery, updateEndpointBody } from '../webhook-endpoints/endpoint-schema.js';
import {
  createEndpoint,
  deleteEndpoint,
  findEndpoint,
  listDeliveries,
  listEndpoints,
  resendDelivery,
  sendTestEvent,
  updateEndpoint,
} from '../webhook-endpoints/endpoint-store.js';
import { auditRequest, webhookEndpointTarget } from '../team/audit.js';
import { auditEndpointChange } from '../team/audit-changes.js';

const jsonBody = requireJsonBody('16kb');

const disabled = () => new HttpError(409, 'invalid_state', 'The endpoint is disabled; enable it first.');

/** Outbound webhook endpoints: where Herald reports what happened, and what it sent them. */
export function webhookEndpointRoutes(deps: WebDeps): Router {
  const { db, config } = deps;
  const router = Router();
  const can = apiAccess(deps);
  const notFound = () => new HttpError(404, 'not_found', 'No webhook endpoint with that id.');
  const createBody = createEndpointBody(config.webhookAllowPrivate);
  const updateBody = updateEndpointBody(config.webhookAllowPrivate);

  router.get('/webhook-endpoints', ...can('webhooks:manage'), async (_req, res) => {
    res.json({ endpoints: await listEndpoints(db) });
  });

  router.post('/webhook-endpoints', ...can('webhooks:manage'), ...jsonBody, async (req, res) => {
    const created = await createEndpoint(db, parseBody(createBody, req.body));
    await auditRequest(db, req, res, 'webhook_endpoint.created', webhookEndpointTarget(created), { events: created.events, enabled: created.enabled });
    res.status(201).json(created);
  });

  router.get('/webhook-endpoints/:id', ...can('webhooks:manage'), async (req, res) => {
    const endpoint = await findEndpoint(db, parseId(req.params.id, 'webhook endpoint'));
    if (!endpoint) throw notFound();
    res.json(endpoint);
  });

  router.patch('/webhook-endpoints/:id', ...can('webhooks:manage'), ...jsonBody, async (req, res) => {
    const id = parseId(req.params.id, 'webhook endpoint');
    const updated = await updateEndpoint(db, id, parseBody(updateBody, req.body));
    if (!updated) throw notFound();
    await auditEndpointChange(db, req, res, updated);
    res.json(updated.endpoint);
  });

  router.delete('/webhook-endpoints/:id', ...can('webhooks:manage'), async (req, res) => {
    const deleted = await deleteEndpoint(db, parseId(req.params.id, 'webhook endpoint'));
    if (!deleted) throw notFound();
    await auditRequest(db, req, res, 'webhook_endpoint.deleted', webhookEndpointTarget(deleted));
    res.status(204).end();
  });

  router.post('/webhook-endpoints/:id/test', ...can('webhooks:manage'), async (req, res) => {
    const sent = await sendTestEvent(db, parseId(req.params.id, 'webhook endpoint'));
    if (sent === 'not_found') throw notFound();
    if (sent === 'disabled') throw disabled();
    await auditRequest(db, req, res, 'webhook_endpoint.tested', webhookEndpointTarget(sent.endpoint), { deliveryId: sent.deliveryId });
    res.status(202).json({ eventId: sent.eventId, deliveryId: sent.deliveryId });
  });

  router.get('/webhook-endpoints/:id/deliveries', ...can('webhooks:manage'), async (req, res) => {
    const id = parseId(req.params.id, 'webhook endpoint');
    const query = parseRequest(deliveryListQuery, req.query, 'query');
    if (!(await findEndpoint(db, id))) throw notFound();
    res.json(await listDeliveries(db, id, query));
  });

  router.post('/webhook-endpoints/:id/deliveries/:deliveryId/resend', ...can('webhooks:manage'), async (req, res) => {
    const id = parseId(req.params.id, 'webhook endpoint');
    const deliveryId = parseId(req.params.deliveryId, 'delivery');
    const resent = await resendDelivery(db, id, deliveryId);
    if (resent.outcome === 'not_found') throw new HttpError(404, 'not_found', 'No delivery with that id for this endpoint.');
    if (resent.outcome === 'disabled') throw disabled();
    await auditRequest(db, req, res, 'webhook_delivery.resent', webhookEndpointTarget(resent.endpoint), { deliveryId });
    res.status(202).json({ id: deliveryId, status: 'pending' });
  });

  return router;
}
