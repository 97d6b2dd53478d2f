import { Router } from 'express';
import helmet from 'helmet';
import { z } from 'zod';
import { issueUrl } from '@herald/shared';
import type { WebDeps } from '../deps.js';
import { HttpError } from '../http/http-error.js';
import { parseId, parseRequest } from '../http/parse-request.js';
import { findPublishedCampaign, latestIssues, listIssues } from '../archive/list-issues.js';
import { publicSubject, renderPublicIssue } from '../archive/public-issue.js';

const pageSize = 20;
const feedSize = 20;
const pageQuery = z.object({ page: z.coerce.number().int().min(1).max(10_000).default(1) });

// Issues are public and change rarely: let browsers and proxies keep them a few minutes.
const cacheFor = 'public, max-age=300';

// Newsletters show pictures from anywhere (the same ones their emails load); scripts stay off.
const issuePolicy = helmet.contentSecurityPolicy({
  useDefaults: true,
  directives: { imgSrc: ["'self'", 'data:', 'https:', 'http:'] },
});

/**
 * The public archive: `GET /archive` lists sent issues newest first, `GET /archive/feed.xml` is its
 * Atom feed, and `GET /archive/:id` is one issue's page, the "view in browser" link of its emails.
 */
export function archiveRoutes({ db, config }: WebDeps): Router {
  const router = Router();

  router.get('/archive', async (req, res) => {
    const { page } = parseRequest(pageQuery, req.query, 'page');
    const rows = await listIssues(db, { limit: pageSize + 1, offset: (page - 1) * pageSize });
    const issues = rows.slice(0, pageSize).map((row) => ({ ...row, subject: publicSubject(row.subject) }));
    res.set('Cache-Control', cacheFor).render('archive', {
      title: 'Archive',
      issues,
      newer: page > 1 ? (page === 2 ? '/archive' : `/archive?page=${page - 1}`) : null,
      older: rows.length > pageSize ? `/archive?page=${page + 1}` : null,
    });
  });

  router.get('/archive/feed.xml', async (_req, res) => {
    const rows = await latestIssues(db, feedSize);
    const entries = rows.map((row) => ({ ...renderPublicIssue(row), url: issueUrl(config.publicUrl, row.id), sentAt: row.sentAt, updatedAt: row.finishedAt ?? row.sentAt }));
    res
      .set('Cache-Control', cacheFor)
      .type('application/atom+xml; charset=utf-8')
      .render('archive-feed', {
        entries,
        feedUrl: `${config.publicUrl}/archive/feed.xml`,
        archiveUrl: `${config.publicUrl}/archive`,
        // An empty feed is as new as the epoch: it never changed.
        updatedAt: entries.reduce((latest, entry) => (entry.updatedAt > latest ? entry.updatedAt : latest), new Date(0)),
      });
  });

  router.get('/archive/:id', issuePolicy, async (req, res) => {
    const campaign = await findPublishedCampaign(db, parseId(req.params.id, 'issue'));
    if (!campaign) throw new HttpError(404, 'not_found', 'There is no issue at this address.');
    const issue = renderPublicIssue(campaign);
    res.set('Cache-Control', cacheFor).render('issue', {
      title: issue.subject,
      issue,
      sentAt: campaign.startedAt,
      listed: campaign.inArchive,
    });
  });

  return router;
}
