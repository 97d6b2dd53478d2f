import { Router } from 'express';
import type { Request, Response } from 'express';
import { z } from 'zod';
import { attributesSchema, enqueueJob, jobs } from '@herald/shared';
import { enqueueOrDefer } from '../jobs/enqueue-or-defer.js';
import { fieldErrors } from '../http/field-errors.js';
import { toHttpError } from '../http/error-handler.js';
import { HttpError } from '../http/http-error.js';
import { parseId, parseRequest } from '../http/parse-request.js';
import { eraseSubscriber } from '../subscribers/erase-subscriber.js';
import { exportSubscriberData } from '../subscribers/export-subscriber-data.js';
import { importSubscribers } from '../subscribers/import-subscribers.js';
import { listSubscribers, listSubscribersQuery } from '../subscribers/list-subscribers.js';
import { resolveSubscriberFilter } from '../subscribers/resolve-subscriber-filter.js';
import { importListId } from '../lists/import-list.js';
import { listLists } from '../lists/list-queries.js';
import { addToList, removeFromList, subscriptionsOf } from '../lists/list-membership.js';
import { sendCsv } from '../http/send-csv.js';
import { listRefOf } from '../lists/list-schema.js';
import { membershipAnswer } from '../routes/subscribers.js';
import { editSubscriber } from '../subscribers/edit-subscriber.js';
import { readImportCsv } from '../subscribers/read-import-csv.js';
import { registerSubscriber } from '../subscribers/register-subscriber.js';
import { signupInput } from '../subscribers/signup-schema.js';
import { subscriberStatuses } from '../subscribers/subscriber-view.js';
import { writeSubscribersCsv } from '../subscribers/write-subscribers-csv.js';
import { auditedBy, auditRequest, countsOf, subscriberTarget } from '../team/audit.js';
import type { AdminContext } from './admin-context.js';
import { readUpload } from './read-upload.js';
import { subscriberTimeline } from './subscriber-timeline.js';

const pageSize = 50;
const maxImportBytes = 200 * 1024 * 1024;
const listNotice = z.object({ notice: z.enum(['erased']).optional() });
const exportFilter = listSubscribersQuery.pick({ list: true, segment: true });
const subscriberNotices: Record<string, string> = {
  subscribed: 'Subscription saved.',
  unsubscribed: 'Unsubscribed from the list.',
  attributes: 'Attributes saved.',
  'no-list': 'Choose a list first.',
};

/** An empty search box or "all statuses" is no filter. */
function withoutBlanks(query: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(query).filter(([, value]) => value !== ''));
}

/** Subscribers: search and list, one person's page, add, import, export and erase. */
export function subscriberPages({ deps, security, form, can, render }: AdminContext): Router {
  const { db, queues } = deps;
  const router = Router();

  router.get('/admin/subscribers', ...can('subscribers:read'), async (req, res) => {
    const { notice } = parseRequest(listNotice, { notice: req.query.notice }, 'query');
    const query = parseRequest(listSubscribersQuery, withoutBlanks({ ...req.query, notice: undefined, limit: pageSize }), 'query');
    const { cursor, limit, ...wanted } = query;
    const filter = await resolveSubscriberFilter(db, wanted);
    const [page, counts, lists, segments] = await Promise.all([
      listSubscribers(db, { ...filter, cursor, limit }),
      db.subscriber.groupBy({ by: ['status'], _count: { _all: true } }),
      listLists(db),
      db.$queryRaw<{ id: string; name: string }[]>`SELECT id, name FROM segments ORDER BY name`,
    ]);
    const byStatus = Object.fromEntries(subscriberStatuses.map((status) => [status, 0])) as Record<string, number>;
    for (const group of counts) byStatus[group.status] = group._count._all;
    render(req, res, 'subscribers', {
      title: 'Subscribers',
      subscribers: page.subscribers,
      nextCursor: page.nextCursor,
      query: { q: query.q ?? '', status: query.status ?? '', list: query.list ?? '', subscription: query.subscription ?? '', segment: query.segment ?? '' },
      lists,
      segments,
      counts: byStatus,
      total: Object.values(byStatus).reduce((sum, count) => sum + count, 0),
      statuses: subscriberStatuses,
      notice: notice === 'erased' ? 'The subscriber was erased.' : null,
    });
  });

  router.get('/admin/subscribers/new', ...can('subscribers:write'), (req, res) => {
    render(req, res, 'subscriber-new', { title: 'Add a subscriber', values: { email: '', name: '', confirm: true }, errors: {} });
  });

  router.post('/admin/subscribers', ...can('subscribers:write'), form, security.csrfProtection, async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const values = { email: typeof body.email === 'string' ? body.email : '', name: typeof body.name === 'string' ? body.name : '', confirm: body.confirm === 'yes' };
    const parsed = signupInput.safeParse({ email: values.email, name: values.name });
    const again = (status: number, errors: Record<string, string>) => {
      res.status(status);
      render(req, res, 'subscriber-new', { title: 'Add a subscriber', values, errors });
    };
    if (!parsed.success) return again(400, fieldErrors(parsed.error));
    const existing = await db.subscriber.findUnique({ where: { email: parsed.data.email }, select: { id: true, status: true } });
    // An admin re-adding someone who left is not their consent: existing people are shown, not changed.
    if (existing) return again(409, { email: `That address is already on the list (${existing.status}).` });
    const { subscriberId, needsConfirmation } = await registerSubscriber(db, parsed.data, { doubleOptIn: values.confirm, source: 'admin' });
    await auditRequest(db, req, res, 'subscriber.added', subscriberTarget({ id: subscriberId, email: parsed.data.email }), { confirmation: values.confirm });
    if (needsConfirmation) await enqueueOrDefer('confirmation email', () => enqueueJob(queues, jobs.sendConfirmation, { subscriberId }, new Date()), req.log);
    res.redirect(303, `/admin/subscribers/${subscriberId}`);
  });

  // The lists an import can fill: not archived ones, which take no new subscribers; the default first.
  const importLists = async () => (await listLists(db)).filter((list) => !list.archivedAt);

  router.get('/admin/subscribers/import', ...can('subscribers:write'), async (req, res) => {
    render(req, res, 'subscriber-import', { title: 'Import subscribers', report: null, error: null, lists: await importLists(), chosenList: req.query.list ?? null });
  });

  router.post('/admin/subscribers/import', ...can('subscribers:write'), async (req, res) => {
    const upload = await readUpload(req, { maxBytes: maxImportBytes });
    const discard = () => {
      upload.file.resume();
      res.set('Connection', 'close');
    };
    req.body = upload.fields;
    if (!security.validateCsrf(req)) {
      discard();
      throw new HttpError(403, 'invalid_csrf_token', 'This form has expired. Reload the page and try again.');
    }
    const page = async (status: number, locals: { report: unknown; error: string | null }) => {
      res.status(status);
      render(req, res, 'subscriber-import', { title: 'Import subscribers', ...locals, lists: await importLists(), chosenList: upload.fields.list ?? null });
    };
    if (!upload.filename) {
      discard();
      return page(400, { report: null, error: 'Choose a CSV file to import.' });
    }
    try {
      // Checked before the file is read: a list that is gone refuses the import, filling no other.
      const listId = await importListId(db, upload.fields.list || undefined);
      const rows = await readImportCsv(upload.file, { maxBytes: maxImportBytes });
      const report = await importSubscribers({ ...deps, logger: req.log }, rows, { consentConfirmed: upload.fields.consent === 'confirmed', listId });
      await auditRequest(db, req, res, 'subscribers.imported', { type: 'subscribers', id: listId ?? null }, countsOf(report));
      await page(200, { report, error: null });
    } catch (err) {
      const refused = toHttpError(err);
      if (!refused || refused.status >= 500) throw err;
      discard();
      await page(refused.status, { report: null, error: refused.message });
    }
  });

  router.get('/admin/subscribers/export', ...can('subscribers:export'), async (req, res) => {
    const { list, segment } = parseRequest(exportFilter, withoutBlanks({ list: req.query.list, segment: req.query.segment }), 'query');
    const filter = await resolveSubscriberFilter(db, { list, segment });
    await auditRequest(db, req, res, 'subscribers.exported', { type: 'subscribers' }, withoutBlanks({ list, segment }));
    await sendCsv(req, res, 'subscribers', (out) => writeSubscribersCsv(db, out, filter));
  });

  const findData = async (rawId: unknown) => {
    const data = await exportSubscriberData(db, parseId(rawId, 'subscriber'));
    if (!data) throw new HttpError(404, 'not_found', 'No subscriber with that id. They may have been erased.');
    return data;
  };

  const showSubscriber = async (req: Request, res: Response, extra: { attributesText?: string; attributesError?: string } = {}) => {
    const data = await findData(req.params.id);
    const [subscriptions, lists] = await Promise.all([subscriptionsOf(db, data.subscriber.id), listLists(db)]);
    const notice = typeof req.query.notice === 'string' ? (subscriberNotices[req.query.notice] ?? null) : null;
    render(req, res, 'subscriber', {
      title: data.subscriber.email,
      subscriber: data.subscriber,
      subscriptions,
      // Lists the person can be added to (or back to): every open list they are not active on.
      addableLists: lists.filter((list) => !subscriptions.some((sub) => sub.listId === list.id && sub.status !== 'unsubscribed')),
      attributesText: extra.attributesText ?? JSON.stringify(data.subscriber.attributes, null, 2),
      attributesError: extra.attributesError ?? null,
      notice,
      timeline: subscriberTimeline(data),
      deliveries: data.deliveries.slice(-50).reverse(),
      deliveryCount: data.deliveries.length,
      events: data.events.slice(-50).reverse(),
      eventCount: data.events.length,
    });
  };

  router.get('/admin/subscribers/:id', ...can('subscribers:read'), (req, res) => showSubscriber(req, res));

  router.post('/admin/subscribers/:id/lists', ...can('subscribers:write'), form, security.csrfProtection, async (req, res) => {
    const id = parseId(req.params.id, 'subscriber');
    const listRef = listRefOf((req.body as Record<string, unknown> | undefined)?.list);
    if (listRef === undefined) return res.redirect(303, `/admin/subscribers/${id}?notice=no-list`);
    await membershipAnswer(deps, req, await addToList(db, id, listRef, 'admin'));
    res.redirect(303, `/admin/subscribers/${id}?notice=subscribed`);
  });

  router.post('/admin/subscribers/:id/lists/:listId/remove', ...can('subscribers:write'), form, security.csrfProtection, async (req, res) => {
    const id = parseId(req.params.id, 'subscriber');
    const result = await removeFromList(db, id, parseId(req.params.listId, 'list'));
    if (result.outcome === 'no_subscriber') throw new HttpError(404, 'not_found', 'No subscriber with that id. They may have been erased.');
    if (result.outcome === 'no_list') throw new HttpError(404, 'not_found', 'No list with that id.');
    res.redirect(303, `/admin/subscribers/${id}?notice=unsubscribed`);
  });

  // The attributes as one JSON object; keys left out are removed.
  router.post('/admin/subscribers/:id/attributes', ...can('subscribers:write'), form, security.csrfProtection, async (req, res) => {
    const id = parseId(req.params.id, 'subscriber');
    const attributesText = typeof (req.body as Record<string, unknown> | undefined)?.attributes === 'string' ? String((req.body as Record<string, unknown>).attributes) : '';
    const refuse = (message: string) => {
      res.status(422);
      return showSubscriber(req, res, { attributesText, attributesError: message });
    };
    let wanted: unknown;
    try {
      wanted = attributesText.trim() === '' ? {} : JSON.parse(attributesText);
    } catch {
      return refuse('This is not valid JSON. Write an object like {"plan": "pro", "seats": 3}.');
    }
    const parsed = attributesSchema.safeParse(wanted);
    if (!parsed.success) return refuse(parsed.error.issues[0]?.message ?? 'These attributes cannot be stored.');
    const current = await db.subscriber.findUnique({ where: { id }, select: { attributes: true } });
    if (!current) throw new HttpError(404, 'not_found', 'No subscriber with that id. They may have been erased.');
    const removed = Object.keys(current.attributes as object).filter((key) => !(key in parsed.data));
    const result = await editSubscriber(db, id, { attributes: { ...Object.fromEntries(removed.map((key) => [key, null])), ...parsed.data } });
    if (result.outcome === 'not_found') throw new HttpError(404, 'not_found', 'No subscriber with that id. They may have been erased.');
    if (result.outcome === 'too_big') return refuse(result.problem);
    await auditRequest(db, req, res, 'subscriber.edited', subscriberTarget(result.subscriber));
    res.redirect(303, `/admin/subscribers/${id}?notice=attributes`);
  });

  router.get('/admin/subscribers/:id/export', ...can('subscribers:export'), async (req, res) => {
    const data = await findData(req.params.id);
    await auditRequest(db, req, res, 'subscriber.exported', subscriberTarget(data.subscriber));
    res.set({ 'Content-Disposition': `attachment; filename="subscriber-${data.subscriber.id}.json"`, 'Cache-Control': 'no-store' }).json(data);
  });

  const eraseStep = async (req: Request, res: Response) => {
    const data = await findData(req.params.id);
    render(req, res, 'subscriber-erase', { title: `Erase ${data.subscriber.email}`, subscriber: data.subscriber, deliveryCount: data.deliveries.length });
  };
  router.get('/admin/subscribers/:id/erase', ...can('subscribers:erase'), eraseStep);

  router.post('/admin/subscribers/:id/erase', ...can('subscribers:erase'), form, security.csrfProtection, async (req, res) => {
    const id = parseId(req.params.id, 'subscriber');
    if (!(await eraseSubscriber(db, id, auditedBy(req, res)))) throw new HttpError(404, 'not_found', 'No subscriber with that id. They may have been erased already.');
    req.log.info({ subscriberId: id }, 'subscriber erased from the admin');
    res.redirect(303, '/admin/subscribers?notice=erased');
  });

  return router;
}
