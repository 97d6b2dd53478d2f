import express, { Router } from 'express';
import type { Request, RequestHandler, Response } from 'express';
import { enqueueJob, jobs } from '@herald/shared';
import type { WebDeps } from '../deps.js';
import { createAdminSecurity } from '../admin/admin-security.js';
import { queueDashboard } from '../admin/queue-dashboard.js';
import { secretsEqual } from '../http/admin-auth.js';
import { enqueueOrDefer } from '../jobs/enqueue-or-defer.js';
import { fieldErrors } from '../http/field-errors.js';
import { HttpError } from '../http/http-error.js';
import { parseId } from '../http/parse-request.js';
import { applyCampaignAction, campaignActions, isCampaignAction } from '../campaigns/campaign-actions.js';
import { sendInput } from '../campaigns/campaign-schema.js';
import { createCampaign } from '../campaigns/create-campaign.js';
import { campaignSummary } from '../campaigns/campaign-view.js';
import { countDeliveries } from '../campaigns/campaign-queries.js';
import { countCampaignEvents } from '../webhooks/count-campaign-events.js';


/** `<input type="datetime-local">` sends no zone (`2030-01-01T09:30`); the form says it is UTC. */
function asUtc(value: string): string {
  if (/(Z|[+-]\d\d:\d\d)$/i.test(value)) return value;
  return /T\d\d:\d\d$/.test(value) ? `${value}:00Z` : `${value}Z`;
}

/**
 * The admin pages: log in with ADMIN_PASSWORD, compose and send a campaign, follow it, pause,
 * resume, cancel or retry it, and look at the queues. Every page needs the session; every form
 * carries a CSRF token.
 */
export function adminRoutes(deps: WebDeps): Router {
  const { db, queues, config, logger } = deps;
  const security = createAdminSecurity(config);
  const router = Router();
  const form = express.urlencoded({ limit: '3mb', extended: false, parameterLimit: 20 });

  router.use('/admin', ...security.middleware);

  const render = (req: Request, res: Response, view: string, locals: Record<string, unknown>) =>
    res.render(`admin/${view}`, { csrfToken: security.csrfToken(req, res), ...locals });

  const requireAdmin: RequestHandler = (req, res, next) => {
    if (security.isAdmin(req)) return next();
    if (req.method === 'GET') return res.redirect(303, '/admin/login');
    throw new HttpError(401, 'unauthorized', 'Log in first.');
  };

  router.get('/admin/login', (req, res) => {
    if (security.isAdmin(req)) return res.redirect(303, '/admin');
    render(req, res, 'login', { title: 'Log in', error: null });
  });

  router.post('/admin/login', form, security.csrfProtection, (req, res) => {
    const password = typeof req.body?.password === 'string' ? req.body.password : '';
    if (!secretsEqual(password, config.adminPassword)) {
      logger.warn({ ip: req.ip }, 'admin login failed');
      res.status(401);
      return render(req, res, 'login', { title: 'Log in', error: 'That password is not right.' });
    }
    security.logIn(req);
    res.redirect(303, '/admin');
  });

  router.post('/admin/logout', form, security.csrfProtection, (req, res) => {
    security.logOut(req);
    res.redirect(303, '/admin/login');
  });

  router.use('/admin/queues', requireAdmin, queueDashboard(queues, '/admin/queues'));

  router.get('/admin', requireAdmin, async (req, res) => {
    const campaigns = await db.campaign.findMany({ orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], take: 50 });
    const subscribers = await db.subscriber.groupBy({ by: ['status'], _count: { _all: true } });
    render(req, res, 'campaigns', {
      title: 'Campaigns',
      campaigns: campaigns.map(campaignSummary),
      audience: Object.fromEntries(subscribers.map((group) => [group.status, group._count._all])),
    });
  });

  router.get('/admin/campaigns/new', requireAdmin, (req, res) => {
    render(req, res, 'compose', { title: 'New campaign', values: {}, errors: {} });
  });

  router.post('/admin/campaigns', requireAdmin, form, security.csrfProtection, async (req, res) => {
    const body = (req.body ?? {}) as Record<string, string | undefined>;
    const values = { subject: body.subject ?? '', body: body.body ?? '', text: body.text ?? '', sendAt: body.sendAt ?? '' };
    const parsed = sendInput.safeParse({
      subject: values.subject,
      body: values.body,
      ...(values.text.trim() ? { text: values.text } : {}),
      ...(values.sendAt ? { sendAt: asUtc(values.sendAt) } : {}),
    });
    if (!parsed.success) {
      res.status(400);
      return render(req, res, 'compose', { title: 'New campaign', values, errors: fieldErrors(parsed.error) });
    }
    const { campaign } = await createCampaign(db, parsed.data, undefined);
    if (campaign.status === 'sending') await enqueueOrDefer('campaign fan-out', () => enqueueJob(queues, jobs.fanOut, { campaignId: campaign.id }, campaign.updatedAt), req.log);
    res.redirect(303, `/admin/campaigns/${campaign.id}`);
  });

  router.get('/admin/campaigns/:id', requireAdmin, async (req, res) => {
    const campaign = await db.campaign.findUnique({ where: { id: parseId(req.params.id, 'campaign') } });
    if (!campaign) throw new HttpError(404, 'not_found', 'No campaign with that id.');
    render(req, res, 'campaign', {
      title: campaign.subject,
      campaign: campaignSummary(campaign),
      counts: await countDeliveries(db, campaign.id),
      events: await countCampaignEvents(db, campaign.id),
      actions: campaignActions,
    });
  });

  router.post('/admin/campaigns/:id/:action', requireAdmin, form, security.csrfProtection, async (req, res) => {
    const action = req.params.action;
    if (!isCampaignAction(action)) throw new HttpError(404, 'not_found', 'Nothing here.');
    const id = parseId(req.params.id, 'campaign');
    await applyCampaignAction({ ...deps, log: req.log }, id, action);
    res.redirect(303, `/admin/campaigns/${id}`);
  });

  return router;
}
