import { Router } from 'express';
import { findCampaign } from '../campaigns/find-campaign.js';
import { HttpError } from '../http/http-error.js';
import { parseRequest } from '../http/parse-request.js';
import { sendCsv } from '../http/send-csv.js';
import { writeRecipientsCsv } from '../reports/campaign-recipients.js';
import { readCampaignReport } from '../reports/campaign-report.js';
import { recipientsQuery } from '../reports/recipients-query.js';
import { timelineChart } from '../reports/timeline-chart.js';
import type { AdminContext } from './admin-context.js';
import { plainSubject } from './view-helpers.js';

/**
 * A campaign's report page: the figures, the timeline drawn as a chart, the links, and each
 * figure's people as a CSV download. Reads the same report as `GET /campaigns/:id/report`.
 */
export function reportPages({ deps, requireAdmin, render }: AdminContext): Router {
  const { db, config } = deps;
  const router = Router();

  // A draft has no report yet: its address is the compose page's.
  const findSentCampaign = async (rawId: unknown) => {
    const campaign = await findCampaign(db, rawId);
    if (campaign.status === 'draft') throw new HttpError(404, 'not_found', 'No sent campaign with that id.');
    return campaign;
  };

  router.get('/admin/campaigns/:id/report', requireAdmin, async (req, res) => {
    const campaign = await findSentCampaign(req.params.id);
    const report = await readCampaignReport(db, campaign, config.publicUrl);
    render(req, res, 'report', {
      title: `Report: ${plainSubject(campaign.subject)}`,
      campaign,
      report,
      chart: timelineChart(report.timeline),
      peopleUrl: (query: Record<string, string>) => `/admin/campaigns/${campaign.id}/report/recipients.csv?${new URLSearchParams(query)}`,
    });
  });

  router.get('/admin/campaigns/:id/report/recipients.csv', requireAdmin, async (req, res) => {
    const query = parseRequest(recipientsQuery, req.query, 'query');
    const campaign = await findSentCampaign(req.params.id);
    const filter = { event: query.event, url: query.url, link: query.link };
    await sendCsv(req, res, `recipients-${query.event}`, (out) => writeRecipientsCsv(db, campaign, config.publicUrl, filter, out));
  });

  return router;
}
