import { z } from 'zod';
import type { ZodOpenApiPathsObject } from 'zod-openapi';
import { recipientsQuery } from '../../reports/recipients-query.js';
import { reportQuery } from '../../reports/report-query.js';
import { reportRangeQuery } from '../../reports/report-range.js';
import { bearer, bearerErrors, errorResponse, invalidQuery, jsonResponse, notFound, timestamp, unavailable } from '../common.js';
import { campaignAudience, campaignStatus, tracking } from './campaigns.js';

// A share of another count, null while that count is 0. Not capped at 1: SendGrid reports clicks
// from readers whose open it never saw (images blocked), so click-to-open can exceed 1, and an
// open or click can arrive for a delivery whose own event was lost.
const rate = z.number().min(0).nullable();

/** ReportTotals in campaign-report.ts. */
const totals = z
  .object({
    sent: z.int(),
    delivered: z.int(),
    opened: z.int(),
    uniqueOpened: z.int(),
    clicked: z.int(),
    uniqueClicked: z.int(),
    bounced: z.int(),
    complained: z.int(),
    unsubscribed: z.int(),
    blocked: z.int(),
    dropped: z.int(),
    failed: z.int(),
  })
  .meta({ id: 'ReportTotals' });

/** ReportRates in campaign-report.ts: fractions to four places, null where the denominator is zero. */
const rates = z
  .object({ delivered: rate, opened: rate, clicked: rate, clickToOpen: rate, bounced: rate, complained: rate, unsubscribed: rate })
  .meta({ id: 'ReportRates' });

/** One bucket of the timeline: the totals that have a time, counted in that hour or day. */
const timelineBucket = z.object({
  at: timestamp,
  size: z.enum(['hour', 'day']),
  ...totals.pick({ delivered: true, opened: true, uniqueOpened: true, clicked: true, uniqueClicked: true, bounced: true, complained: true, unsubscribed: true }).shape,
});

const reportLink = z.object({
  url: z.string().meta({ description: 'As written in the body; for the footer’s links, a description.' }),
  kind: z.enum(['link', 'unsubscribe', 'preferences']),
  clicks: z.int(),
  uniqueClicks: z.int(),
});

const listBreakdown = z.object({
  listId: z.uuid(),
  slug: z.string(),
  name: z.string(),
  sent: z.int(),
  delivered: z.int(),
  uniqueOpened: z.int(),
  uniqueClicked: z.int(),
  bounced: z.int(),
  complained: z.int(),
  unsubscribed: z.int(),
  rates: z.object({ opened: rate, clicked: rate, unsubscribed: rate }),
});

const campaignReport = z
  .object({
    campaignId: z.uuid(),
    status: campaignStatus,
    startedAt: timestamp.nullable(),
    finishedAt: timestamp.nullable(),
    audience: campaignAudience,
    tracking,
    totals,
    rates,
    timeline: z.array(timelineBucket),
    links: z.array(reportLink),
    at: timestamp.meta({ description: 'The server’s clock when this was read.' }),
    byList: z.array(listBreakdown).optional().meta({ description: 'Only with `breakdown=list`.' }),
  })
  .meta({ id: 'CampaignReport' });

const recipient = z
  .object({
    email: z.string().nullable().meta({ description: 'Null once the person was erased.' }),
    name: z.string().nullable(),
    subscriberId: z.uuid().nullable(),
    deliveryId: z.uuid(),
    at: timestamp,
  })
  .meta({ id: 'ReportRecipient' });

const audienceDay = z.object({ day: z.iso.date(), signups: z.int(), confirmations: z.int(), unsubscribes: z.int(), suppressions: z.int(), net: z.int() });
const audienceTotals = z.object({ signups: z.int(), confirmations: z.int(), unsubscribes: z.int(), suppressions: z.int(), net: z.int() });

const comparison = z
  .object({
    from: timestamp,
    to: timestamp,
    campaigns: z.array(
      z.object({ id: z.uuid(), subject: z.string(), status: campaignStatus, sentAt: timestamp, finishedAt: timestamp.nullable(), totals, rates }),
    ),
    audience: z.object({
      days: z.array(audienceDay),
      totals: audienceTotals,
      lists: z.array(z.object({ id: z.uuid(), slug: z.string(), name: z.string(), days: z.array(audienceDay), totals: audienceTotals })),
    }),
  })
  .meta({ id: 'CampaignsComparison' });

const id = z.object({ id: z.uuid() });
const noStore = { 'Cache-Control': { description: '`no-store`', schema: { type: 'string' as const } } };

export const reportPaths = {
  '/campaigns/{id}/report': {
    get: {
      operationId: 'getCampaignReport',
      tags: ['Reports'],
      summary: 'A campaign’s report: totals, rates, timeline, links',
      security: bearer,
      requestParams: { path: id, query: reportQuery },
      responses: {
        '200': { ...jsonResponse('The report.', campaignReport), headers: noStore },
        ...invalidQuery,
        ...notFound('campaign'),
        ...bearerErrors,
        ...unavailable,
      },
    },
  },
  '/campaigns/{id}/recipients': {
    get: {
      operationId: 'listCampaignRecipients',
      tags: ['Reports'],
      summary: 'The people behind one figure of the report (JSON pages, or all of them as CSV)',
      security: bearer,
      requestParams: { path: id, query: recipientsQuery },
      responses: {
        '200': {
          description: 'A page of recipients in the order the events happened, or with `format=csv` every one of them.',
          content: {
            'application/json': {
              schema: z.object({ recipients: z.array(recipient), nextCursor: z.string().nullable().meta({ description: 'The `cursor` of the next page; null on the last.' }) }),
            },
            'text/csv': { schema: z.string() },
          },
        },
        ...invalidQuery,
        ...notFound('campaign'),
        ...bearerErrors,
        ...unavailable,
      },
    },
  },
  '/reports/campaigns': {
    get: {
      operationId: 'compareCampaigns',
      tags: ['Reports'],
      summary: 'The campaigns sent in a range side by side, and the audience’s growth per day',
      security: bearer,
      requestParams: { query: reportRangeQuery },
      responses: {
        '200': { ...jsonResponse('The comparison.', comparison), headers: noStore },
        '400': errorResponse('A malformed edge, `from` not before `to`, or more than 366 days (`invalid_request`; `fields` names `from` or `to`).'),
        ...bearerErrors,
        ...unavailable,
      },
    },
  },
} satisfies ZodOpenApiPathsObject;
