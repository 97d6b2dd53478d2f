import { Router } from 'express';
import type { Request, Response } from 'express';
import { z } from 'zod';
import { enqueueJob, jobs } from '@herald/shared';
import { enqueueOrDefer } from '../jobs/enqueue-or-defer.js';
import { fieldErrors } from '../http/field-errors.js';
import { toHttpError } from '../http/error-handler.js';
import { HttpError } from '../http/http-error.js';
import { parseId, parseRequest } from '../http/parse-request.js';
import { eraseSubscriber } from '../subscribers/erase-subscriber.js';
import { exportSubscriberData } from '../subscribers/export-subscriber-data.js';
import { importSubscribers } from '../subscribers/import-subscribers.js';
import { listSubscribers, listSubscribersQuery } from '../subscribers/list-subscribers.js';
import { readImportCsv } from '../subscribers/read-import-csv.js';
import { registerSubscriber } from '../subscribers/register-subscriber.js';
import { signupInput } from '../subscribers/signup-schema.js';
import { subscriberStatuses } from '../subscribers/subscriber-view.js';
import { writeSubscribersCsv } from '../subscribers/write-subscribers-csv.js';
import type { AdminContext } from './admin-context.js';
import { readUpload } from './read-upload.js';
import { subscriberTimeline } from './subscriber-timeline.js';

const pageSize = 50;
const maxImportBytes = 200 * 1024 * 1024;
const listNotice = z.object({ notice: z.enum(['erased']).optional() });

/** An empty search box or "all statuses" is no filter. */
function withoutBlanks(query: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(query).filter(([, value]) => value !== ''));
}

/** Subscribers: search and list, one person's page, add, import, export and erase. */
export function subscriberPages({ deps, security, form, requireAdmin, render }: AdminContext): Router {
  const { db, queues } = deps;
  const router = Router();

  router.get('/admin/subscribers', requireAdmin, async (req, res) => {
    const { notice } = parseRequest(listNotice, { notice: req.query.notice }, 'query');
    const query = parseRequest(listSubscribersQuery, withoutBlanks({ ...req.query, notice: undefined, limit: pageSize }), 'query');
    const [page, counts] = await Promise.all([
      listSubscribers(db, query),
      db.subscriber.groupBy({ by: ['status'], _count: { _all: true } }),
    ]);
    const byStatus = Object.fromEntries(subscriberStatuses.map((status) => [status, 0])) as Record<string, number>;
    for (const group of counts) byStatus[group.status] = group._count._all;
    render(req, res, 'subscribers', {
      title: 'Subscribers',
      subscribers: page.subscribers,
      nextCursor: page.nextCursor,
      query: { q: query.q ?? '', status: query.status ?? '' },
      counts: byStatus,
      total: Object.values(byStatus).reduce((sum, count) => sum + count, 0),
      statuses: subscriberStatuses,
      notice: notice === 'erased' ? 'The subscriber was erased.' : null,
    });
  });

  router.get('/admin/subscribers/new', requireAdmin, (req, res) => {
    render(req, res, 'subscriber-new', { title: 'Add a subscriber', values: { email: '', name: '', confirm: true }, errors: {} });
  });

  router.post('/admin/subscribers', requireAdmin, form, security.csrfProtection, async (req, res) => {
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
    if (needsConfirmation) await enqueueOrDefer('confirmation email', () => enqueueJob(queues, jobs.sendConfirmation, { subscriberId }, new Date()), req.log);
    res.redirect(303, `/admin/subscribers/${subscriberId}`);
  });

  router.get('/admin/subscribers/import', requireAdmin, (req, res) => {
    render(req, res, 'subscriber-import', { title: 'Import subscribers', report: null, error: null });
  });

  router.post('/admin/subscribers/import', requireAdmin, async (req, res) => {
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
    const page = (status: number, locals: { report: unknown; error: string | null }) => {
      res.status(status);
      render(req, res, 'subscriber-import', { title: 'Import subscribers', ...locals });
    };
    if (!upload.filename) {
      discard();
      return page(400, { report: null, error: 'Choose a CSV file to import.' });
    }
    try {
      const rows = await readImportCsv(upload.file, { maxBytes: maxImportBytes });
      const report = await importSubscribers({ ...deps, logger: req.log }, rows, { consentConfirmed: upload.fields.consent === 'confirmed' });
      page(200, { report, error: null });
    } catch (err) {
      const refused = toHttpError(err);
      if (!refused || refused.status >= 500) throw err;
      discard();
      page(refused.status, { report: null, error: refused.message });
    }
  });

  router.get('/admin/subscribers/export', requireAdmin, async (req, res) => {
    res.status(200).set({
      'Content-Type': 'text/csv; charset=utf-8',
      'Content-Disposition': `attachment; filename="subscribers-${new Date().toISOString().slice(0, 10)}.csv"`,
      'Cache-Control': 'no-store',
    });
    await writeSubscribersCsv(db, res);
  });

  const findData = async (rawId: unknown) => {
    const data = await exportSubscriberData(db, parseId(rawId, 'subscriber'));
    if (!data) throw new HttpError(404, 'not_found', 'No subscriber with that id. They may have been erased.');
    return data;
  };

  router.get('/admin/subscribers/:id', requireAdmin, async (req, res) => {
    const data = await findData(req.params.id);
    render(req, res, 'subscriber', {
      title: data.subscriber.email,
      subscriber: data.subscriber,
      timeline: subscriberTimeline(data),
      deliveries: data.deliveries.slice(-50).reverse(),
      deliveryCount: data.deliveries.length,
      events: data.events.slice(-50).reverse(),
      eventCount: data.events.length,
    });
  });

  router.get('/admin/subscribers/:id/export', requireAdmin, async (req, res) => {
    const data = await findData(req.params.id);
    res.set({ 'Content-Disposition': `attachment; filename="subscriber-${data.subscriber.id}.json"`, 'Cache-Control': 'no-store' }).json(data);
  });

  const eraseStep = async (req: Request, res: Response) => {
    const data = await findData(req.params.id);
    render(req, res, 'subscriber-erase', { title: `Erase ${data.subscriber.email}`, subscriber: data.subscriber, deliveryCount: data.deliveries.length });
  };
  router.get('/admin/subscribers/:id/erase', requireAdmin, eraseStep);

  router.post('/admin/subscribers/:id/erase', requireAdmin, form, security.csrfProtection, async (req, res) => {
    const id = parseId(req.params.id, 'subscriber');
    if (!(await eraseSubscriber(db, id))) throw new HttpError(404, 'not_found', 'No subscriber with that id. They may have been erased already.');
    req.log.info({ subscriberId: id }, 'subscriber erased from the admin');
    res.redirect(303, '/admin/subscribers?notice=erased');
  });

  return router;
}
