import { Router } from 'express';
import { requireJsonBody } from '../http/json-body.js';
import { z } from 'zod';
import type { WebDeps } from '../deps.js';
import { HttpError } from '../http/http-error.js';
import { apiAccess } from '../http/admin-auth.js';
import { auditRequest, campaignActionAudit, campaignTarget } from '../team/audit.js';
import { parseId, parseRequest } from '../http/parse-request.js';
import { applyCampaignAction, campaignActions, isCampaignAction } from '../campaigns/campaign-actions.js';
import { campaignSummary } from '../campaigns/campaign-view.js';
import { campaignExists, countDeliveries, findTask, pageTasks } from '../campaigns/campaign-queries.js';
import { beforeEveryUuid } from '@herald/shared';
import { countCampaignEvents } from '../webhooks/count-campaign-events.js';
import { editCampaign, editInput } from '../campaigns/edit-campaign.js';
import { fieldErrors } from '../http/field-errors.js';
import { readAudience } from '../campaigns/campaign-audience-input.js';
import { audienceProblem } from './send.js';

export const campaignListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.uuid().optional(),
});
export const campaignTasksQuery = campaignListQuery.extend({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  status: z.enum(['queued', 'sending', 'sent', 'failed', 'cancelled', 'skipped']).optional(),
});

/** The path of `POST /campaigns/:id/:action`, as the API description gives it. */
export const campaignActionParams = z.object({ id: z.uuid(), action: z.enum(campaignActions) });

/** The admin JSON API for campaigns and tasks (delivery status), behind the bearer token. */
export function campaignRoutes(deps: WebDeps): Router {
  const { db } = deps;
  const router = Router();
  const can = apiAccess(deps);

  router.get('/campaigns', ...can('campaigns:read'), async (req, res) => {
    const query = parseRequest(campaignListQuery, req.query, 'query');
    const rows = await db.campaign.findMany({
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: query.limit + 1,
      ...(query.cursor ? { cursor: { id: query.cursor }, skip: 1 } : {}),
    });
    const page = rows.slice(0, query.limit);
    res.json({
      campaigns: page.map(campaignSummary),
      nextCursor: rows.length > query.limit ? page.at(-1)?.id : null,
    });
  });

  router.get('/campaigns/:id', ...can('campaigns:read'), async (req, res) => {
    const id = parseId(req.params.id, 'campaign');
    const campaign = await db.campaign.findUnique({ where: { id } });
    if (!campaign) throw new HttpError(404, 'not_found', 'No campaign with that id.');
    const [counts, events, audience] = await Promise.all([countDeliveries(db, id), countCampaignEvents(db, id), readAudience(db, id)]);
    // `counts`: where each delivery stands; `events`: what SendGrid reported back (bounces, complaints…).
    res.json({ ...campaignSummary(campaign), ...audience, total: campaign.recipientCount, counts, events });
  });

  // Edits a campaign that has not started yet (cancel it with POST /campaigns/:id/cancel).
  router.patch(
    '/campaigns/:id',
    ...can('campaigns:send'),
    ...requireJsonBody('3mb'),
    async (req, res) => {
      const id = parseId(req.params.id, 'campaign');
      const parsed = editInput.safeParse(req.body);
      if (!parsed.success) {
        throw new HttpError(400, 'invalid_request', 'Some fields need attention.', fieldErrors(parsed.error));
      }
      if (Object.values(parsed.data).every((value) => value === undefined)) {
        throw new HttpError(400, 'invalid_request', 'Send at least one field to change.');
      }
      const { campaign, edited } = await editCampaign(db, id, parsed.data).catch((err: unknown) => {
        throw audienceProblem(err);
      });
      if (!campaign) throw new HttpError(404, 'not_found', 'No campaign with that id.');
      if (!edited) {
        throw new HttpError(409, 'invalid_state', `The campaign is ${campaign.status}; only a scheduled campaign that has not started can be edited.`);
      }
      await auditRequest(db, req, res, 'campaign.edited', campaignTarget(campaign), { fields: Object.keys(parsed.data).filter((key) => parsed.data[key as keyof typeof parsed.data] !== undefined) });
      res.json({ ...campaignSummary(campaign), ...(await readAudience(db, id)) });
    },
  );

  router.get('/campaigns/:id/tasks', ...can('campaigns:read'), async (req, res) => {
    const id = parseId(req.params.id, 'campaign');
    const query = parseRequest(campaignTasksQuery, req.query, 'query');
    if (!(await campaignExists(db, id))) throw new HttpError(404, 'not_found', 'No campaign with that id.');
    // By delivery id alone: statuses change under the cursor while workers send, ids never do.
    const rows = await pageTasks(db, id, { status: query.status, afterId: query.cursor ?? beforeEveryUuid, limit: query.limit + 1 });
    const page = rows.slice(0, query.limit);
    res.json({ tasks: page, nextCursor: rows.length > query.limit ? page.at(-1)?.id : null });
  });

  router.post('/campaigns/:id/:action', ...can('campaigns:send'), async (req, res) => {
    const action = req.params.action;
    if (!isCampaignAction(action)) throw new HttpError(404, 'not_found', 'Unknown campaign action.');
    const { campaign, changed } = await applyCampaignAction({ ...deps, log: req.log }, parseId(req.params.id, 'campaign'), action);
    await auditRequest(db, req, res, campaignActionAudit[action], campaignTarget(campaign), changed);
    res.json({ ...campaignSummary(campaign), changed, counts: await countDeliveries(db, campaign.id) });
  });

  router.get('/tasks/:id', ...can('campaigns:read'), async (req, res) => {
    const task = await findTask(db, parseId(req.params.id, 'task'));
    if (!task) throw new HttpError(404, 'not_found', 'No task with that id.');
    res.json(task);
  });

  return router;
}
