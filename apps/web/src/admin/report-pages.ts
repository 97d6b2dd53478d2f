import type { Campaign } from '@herald/shared';
import { Router } from 'express';
import { findCampaign } from '../campaigns/find-campaign.js';
import { HttpError } from '../http/http-error.js';
import { parseRequest } from '../http/parse-request.js';
import { sendCsv } from '../http/send-csv.js';
import { writeRecipientsCsv } from '../reports/campaign-recipients.js';
import { readCampaignReport } from '../reports/campaign-report.js';
import { recipientsQuery } from '../reports/recipients-query.js';
import { readReportByList } from '../reports/report-by-list.js';
import { reportQuery } from '../reports/report-query.js';
import { timelineChart } from '../reports/timeline-chart.js';
import type { AdminContext } from './admin-context.js';
import { plainSubject } from './view-helpers.js';

/** Most events of a send arrive while it goes out and in the two days after. */
const liveFor = 48 * 3_600_000;

/** Whether the page should follow its report as events arrive (admin.js polls it while it says so). */
function isLive(campaign: Campaign, now: Date): boolean {
  if (campaign.status === 'sending' || campaign.status === 'paused' || campaign.status === 'scheduled') return true;
  const end = campaign.finishedAt ?? campaign.startedAt;
  return end !== null && now.getTime() - end.getTime() < liveFor;
}

/**
 * A campaign's report page: the figures, the timeline drawn as a chart, the links, and each
 * figure's people as a CSV download. Reads the same report as `GET /campaigns/:id/report`.
 */
export function reportPages({ deps, can, render }: AdminContext): Router {
  const { db, config } = deps;
  const router = Router();

  // A draft has no report yet: its address is the compose page's.
  const findSentCampaign = async (rawId: unknown) => {
    const campaign = await findCampaign(db, rawId);
    if (campaign.status === 'draft') throw new HttpError(404, 'not_found', 'No sent campaign with that id.');
    return campaign;
  };

  router.get('/admin/campaigns/:id/report', ...can('campaigns:read'), async (req, res) => {
    const query = parseRequest(reportQuery, req.query, 'query');
    const campaign = await findSentCampaign(req.params.id);
    const [report, byList] = await Promise.all([
      readCampaignReport(db, campaign, config.publicUrl),
      query.breakdown === 'list' ? readReportByList(db, campaign.id) : undefined,
    ]);
    render(req, res, 'report', {
      title: `Report: ${plainSubject(campaign.subject)}`,
      campaign,
      report,
      byList,
      live: isLive(campaign, report.at),
      chart: timelineChart(report.timeline),
      peopleUrl: (query: Record<string, string>) => `/admin/campaigns/${campaign.id}/report/recipients.csv?${new URLSearchParams(query)}`,
    });
  });

  router.get('/admin/campaigns/:id/report/recipients.csv', ...can('campaigns:read'), async (req, res) => {
    const query = parseRequest(recipientsQuery, req.query, 'query');
    const campaign = await findSentCampaign(req.params.id);
    const filter = { event: query.event, url: query.url, link: query.link };
    await sendCsv(req, res, `recipients-${query.event}`, (out) => writeRecipientsCsv(db, campaign, config.publicUrl, filter, out));
  });

  return router;
}
