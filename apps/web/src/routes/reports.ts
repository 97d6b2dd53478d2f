import { Router } from 'express';
import { findCampaign } from '../campaigns/find-campaign.js';
import type { WebDeps } from '../deps.js';
import { apiAccess } from '../http/admin-auth.js';
import { parseRequest } from '../http/parse-request.js';
import { sendCsv } from '../http/send-csv.js';
import { pageRecipients, writeRecipientsCsv } from '../reports/campaign-recipients.js';
import { readAudienceGrowth } from '../reports/audience-growth.js';
import { readCampaignReport } from '../reports/campaign-report.js';
import { compareCampaignsInRange } from '../reports/campaigns-comparison.js';
import { recipientsQuery } from '../reports/recipients-query.js';
import { readReportByList } from '../reports/report-by-list.js';
import { reportQuery } from '../reports/report-query.js';
import { parseReportRange } from '../reports/report-range.js';

/** The admin JSON API for reports, behind the bearer token. */
export function reportRoutes(deps: WebDeps): Router {
  const { db, config } = deps;
  const router = Router();
  const can = apiAccess(deps);

  router.get('/campaigns/:id/report', ...can('campaigns:read'), async (req, res) => {
    const query = parseRequest(reportQuery, req.query, 'query');
    const campaign = await findCampaign(db, req.params.id);
    const [report, byList] = await Promise.all([
      readCampaignReport(db, campaign, config.publicUrl),
      query.breakdown === 'list' ? readReportByList(db, campaign.id) : undefined,
    ]);
    res.set('Cache-Control', 'no-store').json(byList ? { ...report, byList } : report);
  });

  // The campaigns sent in a range side by side, and the audience's growth per day over it.
  router.get('/reports/campaigns', ...can('campaigns:read'), async (req, res) => {
    const range = parseReportRange(req.query);
    const [campaigns, audience] = await Promise.all([compareCampaignsInRange(db, range), readAudienceGrowth(db, range)]);
    res.set('Cache-Control', 'no-store').json({ from: range.from, to: range.to, campaigns, audience });
  });

  // The people behind one figure of the report; `format=csv` downloads all of them.
  router.get('/campaigns/:id/recipients', ...can('campaigns:read'), async (req, res) => {
    const query = parseRequest(recipientsQuery, req.query, 'query');
    const campaign = await findCampaign(db, req.params.id);
    const filter = { event: query.event, url: query.url, link: query.link };
    if (query.format === 'csv') {
      return sendCsv(req, res, `recipients-${query.event}`, (out) => writeRecipientsCsv(db, campaign, config.publicUrl, filter, out));
    }
    res.json(await pageRecipients(db, campaign, config.publicUrl, { ...filter, after: query.cursor, limit: query.limit }));
  });

  return router;
}
