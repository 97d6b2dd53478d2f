import { Router } from 'express';
import type { Request } from 'express';
import { z } from 'zod';
import { enqueueWelcomeEmails, storableText } from '@herald/shared';
import type { WebDeps } from '../deps.js';
import { HttpError } from '../http/http-error.js';
import { apiAccess } from '../http/admin-auth.js';
import { auditedBy, auditRequest, countsOf, subscriberTarget } from '../team/audit.js';
import { requireJsonBody } from '../http/json-body.js';
import { parseBody, parseId, parseRequest } from '../http/parse-request.js';
import { enqueueOrDefer } from '../jobs/enqueue-or-defer.js';
import { addToList, removeFromList, subscriptionsOf } from '../lists/list-membership.js';
import type { MembershipResult } from '../lists/list-membership.js';
import { importListId } from '../lists/import-list.js';
import { listRefOf } from '../lists/list-schema.js';
import { editSubscriber, editSubscriberInput } from '../subscribers/edit-subscriber.js';
import { eraseSubscriber } from '../subscribers/erase-subscriber.js';
import { exportSubscriberData } from '../subscribers/export-subscriber-data.js';
import { importSubscribers } from '../subscribers/import-subscribers.js';
import { listSubscribers, listSubscribersQuery } from '../subscribers/list-subscribers.js';
import { readImportCsv } from '../subscribers/read-import-csv.js';
import { resolveSubscriberFilter } from '../subscribers/resolve-subscriber-filter.js';
import { subscriberStatuses, subscriberViewColumns } from '../subscribers/subscriber-view.js';
import type { SubscriberView } from '../subscribers/subscriber-view.js';
import { writeSubscribersCsv } from '../subscribers/write-subscribers-csv.js';
import { sendCsv } from '../http/send-csv.js';

export type SubscriberRouteOptions = {
  /** Largest import body accepted, in bytes. */
  maxImportBytes?: number;
};

const defaultMaxImportBytes = 200 * 1024 * 1024;

const listRef = storableText('list').trim().min(1, 'list must name a list').max(100).optional();
export const importQuery = z.object({
  consent: z.literal('confirmed', { error: 'consent must be "confirmed", or left out' }).optional(),
  list: listRef,
});
export const exportQuery = z.object({
  status: z.enum(subscriberStatuses).optional(),
  list: listRef,
  segment: z.uuid({ error: 'segment must be a saved segment id' }).optional(),
});

const noSubscriber = () => new HttpError(404, 'not_found', 'No subscriber with that id.');
const noList = () => new HttpError(404, 'not_found', 'No list with that id or slug.');

/** UTF-8 only; US-ASCII is a subset of it. Compressed uploads are not decoded. */
function requireCsvBody(req: Request): void {
  if (!req.is('text/csv')) throw new HttpError(415, 'unsupported_media_type', 'Send the file with Content-Type: text/csv.');
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(req.get('content-type') ?? '')?.[1]?.toLowerCase();
  if (charset && !['utf-8', 'utf8', 'us-ascii'].includes(charset)) {
    throw new HttpError(415, 'unsupported_charset', 'Import files must be UTF-8.');
  }
  const encoding = req.get('content-encoding')?.trim().toLowerCase();
  if (encoding && encoding !== 'identity') throw new HttpError(415, 'unsupported_encoding', 'Send the file uncompressed.');
}

/** The admin subscriber API: list, import, export, erase. */
export function subscriberRoutes(deps: WebDeps, options: SubscriberRouteOptions = {}): Router {
  const { db } = deps;
  const maxImportBytes = options.maxImportBytes ?? defaultMaxImportBytes;
  const router = Router();
  const can = apiAccess(deps);

  router.get('/subscribers', ...can('subscribers:read'), async (req, res) => {
    const { cursor, limit, ...filter } = parseRequest(listSubscribersQuery, req.query, 'query');
    const resolved = await resolveSubscriberFilter(db, filter);
    res.json(await listSubscribers(db, { status: resolved.status, q: resolved.q, listId: resolved.listId, subscription: resolved.subscription, segment: resolved.segment, cursor, limit }));
  });

  router.post('/subscribers/import', ...can('subscribers:write'), async (req, res) => {
    try {
      requireCsvBody(req);
      const { consent, list } = parseRequest(importQuery, req.query, 'query');
      if (Number(req.get('content-length')) > maxImportBytes) {
        throw new HttpError(413, 'payload_too_large', `Import files are limited to ${Math.floor(maxImportBytes / 1024 / 1024)} MB.`);
      }
      const listId = await importListId(db, list);
      const rows = await readImportCsv(req, { maxBytes: maxImportBytes });
      const report = await importSubscribers({ ...deps, logger: req.log }, rows, { consentConfirmed: consent === 'confirmed', listId });
      await auditRequest(db, req, res, 'subscribers.imported', { type: 'subscribers', id: listId ?? null }, countsOf(report));
      res.json(report);
    } catch (err) {
      // Refused before the upload finished: answer now, discard the rest and close the connection,
      // rather than reading up to 200 MB nobody will use.
      if (!req.readableEnded) {
        res.set('Connection', 'close');
        req.unpipe();
        req.resume();
      }
      throw err;
    }
  });

  router.get('/subscribers/export', ...can('subscribers:export'), async (req, res) => {
    const { status, list, segment } = parseRequest(exportQuery, req.query, 'query');
    const filter = await resolveSubscriberFilter(db, { status, list, segment });
    await auditRequest(db, req, res, 'subscribers.exported', { type: 'subscribers' }, { status, list, segment });
    await sendCsv(req, res, 'subscribers', (out) => writeSubscribersCsv(db, out, filter));
  });

  router.get('/subscribers/:id', ...can('subscribers:read'), async (req, res) => {
    const id = parseId(req.params.id, 'subscriber');
    const [subscriber] = await db.$queryRaw<SubscriberView[]>`SELECT ${subscriberViewColumns} FROM subscribers WHERE id = ${id}::uuid`;
    if (!subscriber) throw noSubscriber();
    res.json({ ...subscriber, subscriptions: await subscriptionsOf(db, id) });
  });

  router.patch('/subscribers/:id', ...can('subscribers:write'), ...requireJsonBody('64kb'), async (req, res) => {
    const id = parseId(req.params.id, 'subscriber');
    const input = parseBody(editSubscriberInput, req.body);
    if (input.name === undefined && input.attributes === undefined) {
      throw new HttpError(422, 'invalid_request', 'Send name or attributes to change.');
    }
    const result = await editSubscriber(db, id, input);
    if (result.outcome === 'not_found') throw noSubscriber();
    if (result.outcome === 'too_big') throw new HttpError(422, 'invalid_request', 'Some fields need attention.', { attributes: result.problem });
    await auditRequest(db, req, res, 'subscriber.edited', subscriberTarget(result.subscriber));
    res.json(result.subscriber);
  });

  // Adds the person to a list (or re-activates their subscription); answers the subscription.
  router.put('/subscribers/:id/lists/:listId', ...can('subscribers:write'), async (req, res) => {
    const id = parseId(req.params.id, 'subscriber');
    const result = await addToList(db, id, listRefOf(req.params.listId) ?? '', 'api');
    res.json(await membershipAnswer(deps, req, result));
  });

  router.delete('/subscribers/:id/lists/:listId', ...can('subscribers:write'), async (req, res) => {
    const id = parseId(req.params.id, 'subscriber');
    const result = await removeFromList(db, id, listRefOf(req.params.listId) ?? '');
    if (result.outcome === 'no_subscriber') throw noSubscriber();
    if (result.outcome === 'no_list') throw noList();
    if (!result.subscription) throw new HttpError(404, 'not_found', 'The subscriber has no subscription to that list.');
    res.json(result.subscription);
  });

  router.delete('/subscribers/:id', ...can('subscribers:erase'), async (req, res) => {
    if (!(await eraseSubscriber(db, parseId(req.params.id, 'subscriber'), auditedBy(req, res)))) throw new HttpError(404, 'not_found', 'No subscriber with that id.');
    res.status(204).end();
  });

  router.get('/subscribers/:id/export', ...can('subscribers:export'), async (req, res) => {
    const id = parseId(req.params.id, 'subscriber');
    const data = await exportSubscriberData(db, id);
    if (!data) throw new HttpError(404, 'not_found', 'No subscriber with that id.');
    await auditRequest(db, req, res, 'subscriber.exported', subscriberTarget(data.subscriber));
    res.set({ 'Content-Disposition': `attachment; filename="subscriber-${id}.json"`, 'Cache-Control': 'no-store' }).json(data);
  });

  return router;
}

/**
 * The answer to a membership change, shared with the admin pages: the subscription, after
 * enqueueing its welcome email (the row is already committed; Redis missing it only delays it).
 */
export async function membershipAnswer(deps: Pick<WebDeps, 'queues'>, req: Request, result: MembershipResult) {
  switch (result.outcome) {
    case 'no_subscriber':
      throw noSubscriber();
    case 'no_list':
      throw noList();
    case 'archived':
      throw new HttpError(409, 'invalid_state', 'The list is archived and takes no new subscribers.');
    case 'suppressed':
      throw new HttpError(409, 'invalid_state', `The subscriber is ${result.status}: they receive nothing from any list until that is resolved.`);
    case 'done':
      if (result.welcomeEmailIds.length > 0) {
        await enqueueOrDefer('welcome email', () => enqueueWelcomeEmails(deps.queues, result.welcomeEmailIds), req.log);
      }
      return result.subscription;
  }
}
