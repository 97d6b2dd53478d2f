import { Router } from 'express';
import { findCampaign } from '../campaigns/find-campaign.js';
import { z } from 'zod';
import { applyCampaignAction, isCampaignAction } from '../campaigns/campaign-actions.js';
import { readCampaignOutcomes } from '../campaigns/campaign-outcomes.js';
import { readCampaignProgress } from '../campaigns/campaign-progress.js';
import { campaignSummary } from '../campaigns/campaign-view.js';
import { failureCursor, listFailures } from '../campaigns/list-failures.js';
import { isEditable } from '../campaigns/save-draft.js';
import { parseId, parseRequest } from '../http/parse-request.js';
import { actorOf } from '../team/require-permission.js';
import { roleCan } from '../team/roles.js';
import { auditRequest, campaignActionAudit, campaignTarget } from '../team/audit.js';
import type { AdminContext } from './admin-context.js';
import { readMailHoldNotices } from './mail-hold-notices.js';
import { plainSubject } from './view-helpers.js';
import { readAudience } from '../campaigns/campaign-audience-input.js';
import { readAudienceDays } from '../reports/audience-growth.js';
import { audienceGrowthChart } from '../reports/audience-growth-chart.js';
import { campaignRatesChart } from '../reports/campaign-rates-chart.js';
import { compareRecentCampaigns } from '../reports/campaigns-comparison.js';
import { lastDays } from '../reports/report-range.js';

const pageSize = 20;
/** How many campaigns the front page compares, and over how many days it shows the audience. */
const recentCampaigns = 8;
const growthDays = 30;
const listQuery = z.object({ before: z.uuid().optional() });
const campaignQuery = z.object({ failures: failureCursor.optional(), notice: z.enum(['test-sent', 'started', 'saved']).optional() });

/**
 * The campaign list (the admin's front page, with any mail the worker holds back, the last
 * campaigns compared and the audience's growth), a campaign's page with its live progress, and the
 * pause/resume/cancel/retry buttons.
 */
export function campaignPages({ deps, security, form, can, render }: AdminContext): Router {
  const { db, queues } = deps;
  const router = Router();

  // `/admin` is where login lands and `/admin/campaigns` is the list under which every campaign's
  // page lives; both show the same page, so bookmarks of either keep working.
  router.get(['/admin', '/admin/campaigns'], ...can('campaigns:read'), async (req, res) => {
    const { before } = parseRequest(listQuery, req.query, 'query');
    const rows = await db.campaign.findMany({
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: pageSize + 1,
      ...(before ? { cursor: { id: before }, skip: 1 } : {}),
    });
    const page = rows.slice(0, pageSize);
    // The comparison and the growth belong to the front page, not to the older pages of the list.
    const [outcomes, audience, mailHolds, recent, growth] = await Promise.all([
      readCampaignOutcomes(db, page.map((campaign) => campaign.id)),
      db.subscriber.groupBy({ by: ['status'], _count: { _all: true } }),
      readMailHoldNotices(db, queues),
      before ? null : compareRecentCampaigns(db, recentCampaigns),
      before ? null : readAudienceDays(db, lastDays(growthDays)),
    ]);
    render(req, res, 'campaigns', {
      title: 'Campaigns',
      campaigns: page.map((campaign) => ({ ...campaignSummary(campaign), outcome: outcomes.get(campaign.id)! })),
      older: rows.length > pageSize ? page.at(-1)!.id : null,
      audience: Object.fromEntries(audience.map((group) => [group.status, group._count._all])),
      mailHolds,
      recent: recent && { campaigns: recent, chart: campaignRatesChart(recent) },
      growth: growth && { ...growth, chart: audienceGrowthChart(growth.days) },
    });
  });


  router.get('/admin/campaigns/:id', ...can('campaigns:read'), async (req, res) => {
    const campaign = await findCampaign(db, req.params.id);
    // A draft is read on its review page by those who may not edit it.
    if (campaign.status === 'draft') return res.redirect(303, `/admin/campaigns/${campaign.id}/${roleCan(actorOf(res)!.role, 'campaigns:write') ? 'edit' : 'review'}`);
    const query = parseRequest(campaignQuery, req.query, 'query');
    const [progress, failures, audienceOf] = await Promise.all([
      readCampaignProgress(db, campaign),
      listFailures(db, campaign.id, { before: query.failures, limit: 10 }),
      readAudience(db, campaign.id),
    ]);
    render(req, res, 'campaign', {
      title: plainSubject(campaign.subject),
      campaign: campaignSummary(campaign),
      progress,
      failures,
      audienceOf,
      editable: isEditable(campaign),
      notice: query.notice ?? null,
    });
  });

  /** What the campaign page polls while the campaign runs. */
  router.get('/admin/campaigns/:id/progress', ...can('campaigns:read'), async (req, res) => {
    const campaign = await findCampaign(db, req.params.id);
    res.set('Cache-Control', 'no-store').json(await readCampaignProgress(db, campaign));
  });

  router.post('/admin/campaigns/:id/:action', ...can('campaigns:send'), form, security.csrfProtection, async (req, res, next) => {
    const action = req.params.action;
    if (!isCampaignAction(action)) return next();
    const id = parseId(req.params.id, 'campaign');
    const { campaign, changed } = await applyCampaignAction({ ...deps, log: req.log }, id, action);
    await auditRequest(deps.db, req, res, campaignActionAudit[action], campaignTarget(campaign), changed);
    res.redirect(303, `/admin/campaigns/${id}`);
  });

  return router;
}
