import { Router } from 'express';
import type { Request, Response } from 'express';
import type { z } from 'zod';
import { escapeHtml, webhookEventDescriptions, webhookEventTypes } from '@herald/shared';
import { fieldErrors } from '../http/field-errors.js';
import { HttpError } from '../http/http-error.js';
import { parseId } from '../http/parse-request.js';
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
import type { EndpointView } from '../webhook-endpoints/endpoint-store.js';
import { auditRequest, webhookEndpointTarget } from '../team/audit.js';
import { auditEndpointChange } from '../team/audit-changes.js';
import type { AdminContext } from './admin-context.js';

/** The endpoint form's fields as typed, for re-rendering it with its errors. */
type EndpointFormValues = { url: string; description: string; events: string[] };

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/** A repeated form field arrives as an array, a single one as a string, none as undefined. */
function many(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((item): item is string => typeof item === 'string');
  return typeof value === 'string' ? [value] : [];
}

function formValues(body: unknown): EndpointFormValues {
  const fields = (body ?? {}) as Record<string, unknown>;
  return { url: text(fields.url).trim(), description: text(fields.description), events: many(fields.events) };
}

function valuesOf(endpoint: EndpointView): EndpointFormValues {
  return { url: endpoint.url, description: endpoint.description ?? '', events: endpoint.events };
}

function inputOf(values: EndpointFormValues) {
  return { url: values.url, events: values.events, description: values.description.trim() ? values.description : null };
}

/** Form field names for the schema's paths (`events.2` → `events`). */
function formErrors(error: z.ZodError): Record<string, string> {
  const renamed: Record<string, string> = {};
  for (const [key, message] of Object.entries(fieldErrors(error))) {
    const name = key.startsWith('events.') ? 'events' : key;
    renamed[name] ??= name === 'events' && key !== 'events' ? 'is not a known event type' : message;
  }
  return renamed;
}

const notices: Record<string, string> = {
  saved: 'Changes saved.',
  deleted: 'The endpoint was deleted with its deliveries.',
  enabled: 'The endpoint is enabled. Deliveries that were waiting are sent now.',
  disabled: 'The endpoint is disabled: nothing is sent to it until it is enabled again.',
  tested: 'A webhook.test event is on its way; it appears in the deliveries below.',
  resent: 'The delivery is queued to be sent again.',
  'test-disabled': 'The endpoint is disabled; enable it before sending a test event.',
  'resend-disabled': 'The endpoint is disabled; enable it before sending a delivery again.',
};

const noticeOf = (req: Request) => (typeof req.query.notice === 'string' ? (notices[req.query.notice] ?? null) : null);

/** Each event type with its description as HTML, its `field` names set as code. */
const events = webhookEventTypes.map((type) => ({
  type,
  descriptionHtml: escapeHtml(webhookEventDescriptions[type]).replace(/`([^`]+)`/g, '<code>$1</code>'),
}));

/** Outbound webhook endpoints: the list, create (showing the secret once), one endpoint with its deliveries, edit, delete. */
export function webhookPages({ deps, security, form, can, render }: AdminContext): Router {
  const { db, config } = deps;
  const router = Router();
  const createBody = createEndpointBody(config.webhookAllowPrivate);
  const updateBody = updateEndpointBody(config.webhookAllowPrivate);

  const gone = () => new HttpError(404, 'not_found', 'No webhook endpoint with that id. It may have been deleted.');
  const findOr404 = async (raw: unknown): Promise<EndpointView> => {
    const endpoint = await findEndpoint(db, parseId(raw, 'webhook endpoint'));
    if (!endpoint) throw gone();
    return endpoint;
  };

  router.get('/admin/webhooks', ...can('webhooks:manage'), async (req, res) => {
    render(req, res, 'webhooks', { title: 'Webhooks', endpoints: await listEndpoints(db), notice: noticeOf(req) });
  });

  const showForm = (req: Request, res: Response, locals: { endpoint: EndpointView | null; values: EndpointFormValues; errors: Record<string, string> }) => {
    render(req, res, 'webhooks-edit', { title: locals.endpoint ? 'Edit the endpoint' : 'New webhook endpoint', events, allowPrivate: config.webhookAllowPrivate, ...locals });
  };

  router.get('/admin/webhooks/new', ...can('webhooks:manage'), (req, res) => {
    showForm(req, res, { endpoint: null, values: { url: '', description: '', events: [] }, errors: {} });
  });

  router.post('/admin/webhooks', ...can('webhooks:manage'), form, security.csrfProtection, async (req, res) => {
    const values = formValues(req.body);
    const parsed = createBody.safeParse(inputOf(values));
    if (!parsed.success) {
      res.status(422);
      return showForm(req, res, { endpoint: null, values, errors: formErrors(parsed.error) });
    }
    const created = await createEndpoint(db, parsed.data);
    await auditRequest(db, req, res, 'webhook_endpoint.created', webhookEndpointTarget(created), { events: created.events, enabled: created.enabled });
    // The secret is shown on this answer alone: never in an address, never again.
    res.set('Cache-Control', 'no-store');
    res.status(201);
    render(req, res, 'webhooks-created', { title: 'Endpoint created', endpoint: created, secret: created.secret });
  });

  router.get('/admin/webhooks/:id', ...can('webhooks:manage'), async (req, res) => {
    const endpoint = await findOr404(req.params.id);
    const query = deliveryListQuery.safeParse({ cursor: req.query.cursor });
    if (!query.success) throw new HttpError(404, 'not_found', 'No deliveries at that cursor.');
    const page = await listDeliveries(db, endpoint.id, { limit: 50, cursor: query.data.cursor });
    render(req, res, 'webhooks-show', {
      title: endpoint.url,
      endpoint,
      notice: noticeOf(req),
      deliveries: page.deliveries,
      nextCursor: page.nextCursor,
      olderPage: query.data.cursor !== undefined,
    });
  });

  router.get('/admin/webhooks/:id/edit', ...can('webhooks:manage'), async (req, res) => {
    const endpoint = await findOr404(req.params.id);
    showForm(req, res, { endpoint, values: valuesOf(endpoint), errors: {} });
  });

  router.post('/admin/webhooks/:id', ...can('webhooks:manage'), form, security.csrfProtection, async (req, res) => {
    const endpoint = await findOr404(req.params.id);
    const values = formValues(req.body);
    const parsed = updateBody.safeParse(inputOf(values));
    if (!parsed.success) {
      res.status(422);
      return showForm(req, res, { endpoint, values, errors: formErrors(parsed.error) });
    }
    const updated = await updateEndpoint(db, endpoint.id, parsed.data);
    if (!updated) throw gone();
    await auditEndpointChange(db, req, res, updated);
    res.redirect(303, `/admin/webhooks/${endpoint.id}?notice=saved`);
  });

  for (const [action, enabled] of [['enable', true], ['disable', false]] as const) {
    router.post(`/admin/webhooks/:id/${action}`, ...can('webhooks:manage'), form, security.csrfProtection, async (req, res) => {
      const id = parseId(req.params.id, 'webhook endpoint');
      const updated = await updateEndpoint(db, id, { enabled });
      if (!updated) throw gone();
      await auditEndpointChange(db, req, res, updated);
      res.redirect(303, `/admin/webhooks/${id}?notice=${enabled ? 'enabled' : 'disabled'}`);
    });
  }

  router.post('/admin/webhooks/:id/test', ...can('webhooks:manage'), form, security.csrfProtection, async (req, res) => {
    const id = parseId(req.params.id, 'webhook endpoint');
    const sent = await sendTestEvent(db, id);
    if (sent === 'not_found') throw gone();
    if (sent !== 'disabled') await auditRequest(db, req, res, 'webhook_endpoint.tested', webhookEndpointTarget(sent.endpoint), { deliveryId: sent.deliveryId });
    res.redirect(303, `/admin/webhooks/${id}?notice=${sent === 'disabled' ? 'test-disabled' : 'tested'}`);
  });

  router.post('/admin/webhooks/:id/delete', ...can('webhooks:manage'), form, security.csrfProtection, async (req, res) => {
    const deleted = await deleteEndpoint(db, parseId(req.params.id, 'webhook endpoint'));
    if (!deleted) throw gone();
    await auditRequest(db, req, res, 'webhook_endpoint.deleted', webhookEndpointTarget(deleted));
    res.redirect(303, '/admin/webhooks?notice=deleted');
  });

  router.post('/admin/webhooks/:id/deliveries/:deliveryId/resend', ...can('webhooks:manage'), form, security.csrfProtection, async (req, res) => {
    const id = parseId(req.params.id, 'webhook endpoint');
    const deliveryId = parseId(req.params.deliveryId, 'delivery');
    const resent = await resendDelivery(db, id, deliveryId);
    if (resent.outcome === 'not_found') throw new HttpError(404, 'not_found', 'No delivery with that id for this endpoint.');
    if (resent.outcome === 'queued') await auditRequest(db, req, res, 'webhook_delivery.resent', webhookEndpointTarget(resent.endpoint), { deliveryId });
    res.redirect(303, `/admin/webhooks/${id}?notice=${resent.outcome === 'disabled' ? 'resend-disabled' : 'resent'}`);
  });

  return router;
}
