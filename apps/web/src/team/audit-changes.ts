import type { Request, Response } from 'express';
import type { Db } from '@herald/shared';
import type { ListView } from '../lists/list-queries.js';
import type { SegmentView } from '../segments/segment-store.js';
import type { EndpointView } from '../webhook-endpoints/endpoint-store.js';
import { auditRequest, changedFields, listTarget, segmentTarget, webhookEndpointTarget } from './audit.js';

/*
 * The audit entries of an edit, pages and API alike: the names of the fields whose values changed
 * (never the values: a URL can hold a receiver's token). An edit that changed nothing records nothing.
 */

export async function auditListChange(db: Db, req: Request, res: Response, { before, list }: { before: ListView; list: ListView }): Promise<void> {
  const fields = changedFields(before, list, ['name', 'slug', 'description', 'visibility', 'doubleOptIn', 'welcome']);
  if (fields.length > 0) await auditRequest(db, req, res, 'list.changed', listTarget(list), { fields });
}

export async function auditSegmentChange(db: Db, req: Request, res: Response, { before, segment }: { before: SegmentView; segment: SegmentView }): Promise<void> {
  const fields = changedFields(before, segment, ['name', 'rules']);
  if (fields.length > 0) await auditRequest(db, req, res, 'segment.changed', segmentTarget(segment), { fields });
}

/** One entry per kind of change: its fields, and its being enabled or disabled. */
export async function auditEndpointChange(db: Db, req: Request, res: Response, { before, endpoint }: { before: EndpointView; endpoint: EndpointView }): Promise<void> {
  const target = webhookEndpointTarget(endpoint);
  const fields = changedFields(before, endpoint, ['url', 'events', 'description']);
  if (fields.length > 0) await auditRequest(db, req, res, 'webhook_endpoint.changed', target, { fields });
  if (!before.enabled && endpoint.enabled) await auditRequest(db, req, res, 'webhook_endpoint.enabled', target);
  if (before.enabled && !endpoint.enabled) await auditRequest(db, req, res, 'webhook_endpoint.disabled', target);
}
