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
    res.status(201).json(await createEndpoint(db, parseBody(createBody, req.body)));
  });

  router.get('/webhook-endpoints/:id', ...can('webhooks:manage'), async (req, res) => {
    const endpoint = await findEndpoint(db, parseId(req.params.id, 'webhook endpoint'));
    if (!endpoint) throw notFound();
    res.json(endpoint);
  });

  router.patch('/webhook-endpoints/:id', ...can('webhooks:manage'), ...jsonBody, async (req, res) => {
    const id = parseId(req.params.id, 'webhook endpoint');
    const endpoint = await updateEndpoint(db, id, parseBody(updateBody, req.body));
    if (!endpoint) throw notFound();
    res.json(endpoint);
  });

  router.delete('/webhook-endpoints/:id', ...can('webhooks:manage'), async (req, res) => {
    if (!(await deleteEndpoint(db, parseId(req.params.id, 'webhook endpoint')))) throw notFound();
    res.status(204).end();
  });

  router.post('/webhook-endpoints/:id/test', ...can('webhooks:manage'), async (req, res) => {
    const sent = await sendTestEvent(db, parseId(req.params.id, 'webhook endpoint'));
    if (sent === 'not_found') throw notFound();
    if (sent === 'disabled') throw disabled();
    res.status(202).json(sent);
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
    const outcome = await resendDelivery(db, id, deliveryId);
    if (outcome === 'not_found') throw new HttpError(404, 'not_found', 'No delivery with that id for this endpoint.');
    if (outcome === 'disabled') throw disabled();
    res.status(202).json({ id: deliveryId, status: 'pending' });
  });

  return router;
}
