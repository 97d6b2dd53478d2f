import { Router } from 'express';
import { findCampaign } from '../campaigns/find-campaign.js';
import type { Request, Response } from 'express';
import { z } from 'zod';
import { audienceCount, campaignAudience, defaultListId, enqueueJob, jobs } from '@herald/shared';
import type { Campaign } from '@herald/shared';
import { sendInput } from '../campaigns/campaign-schema.js';
import { isEditable, saveDraft } from '../campaigns/save-draft.js';
import { startDraft } from '../campaigns/start-draft.js';
import { enqueueOrDefer } from '../jobs/enqueue-or-defer.js';
import { fieldErrors } from '../http/field-errors.js';
import { HttpError } from '../http/http-error.js';
import { testEmailsCounter } from '../http/metrics.js';
import { parseId, parseRequest } from '../http/parse-request.js';
import { emailAddress } from '../subscribers/signup-schema.js';
import { auditRequest, campaignTarget } from '../team/audit.js';
import { assertPermission } from '../team/require-permission.js';
import type { AdminContext } from './admin-context.js';
import { plainSubject } from './view-helpers.js';
import { previewEmail } from './preview-email.js';
import { AudienceInputError, readAudience } from '../campaigns/campaign-audience-input.js';
import type { CampaignTracking } from '../campaigns/campaign-tracking.js';

/** `lists`: the ids of the ticked lists; `segment`: a saved segment's id, or empty for none. */
type FormValues = { subject: string; preheader: string; body: string; format: 'html' | 'markdown'; text: string; sendAt: string; inArchive: boolean; trackOpens: boolean; trackClicks: boolean; testEmail: string; previewEmail: string; lists: string[]; segment: string };

const emptyForm: FormValues = { subject: '', preheader: '', body: '', format: 'html', text: '', sendAt: '', inArchive: true, trackOpens: true, trackClicks: true, testEmail: '', previewEmail: '', lists: [], segment: '' };

const intents = ['draft', 'test', 'review'] as const;
type Intent = (typeof intents)[number];

const editQuery = z.object({ notice: z.enum(['saved', 'test-sent']).optional(), to: z.string().max(254).optional() });
const previewInput = z.object({
  subject: z.string().max(1_000).default(''),
  preheader: z.string().max(1_000).default(''),
  body: z.string().max(3_000_000).default(''),
  format: z.enum(['html', 'markdown']).default('html'),
  text: z.string().max(3_000_000).default(''),
  previewEmail: z.string().max(254).default(''),
});

/** `<input type="datetime-local">` sends no zone (`2030-01-01T09:30`); the form says it is UTC. */
function asUtc(value: string): string {
  if (/(Z|[+-]\d\d:\d\d)$/i.test(value)) return value;
  return /T\d\d:\d\d$/.test(value) ? `${value}:00Z` : `${value}Z`;
}

/** The value a datetime-local input shows for a stored time, in UTC. */
function toUtcInput(date: Date | null): string {
  return date ? date.toISOString().slice(0, 16) : '';
}

/** `tracking`: what a form without the tracking boxes (a form of its own) means, the configured defaults. */
function formValues(req: Request, tracking: CampaignTracking): FormValues {
  const body = (req.body ?? {}) as Record<string, unknown>;
  const text = (key: string) => (typeof body[key] === 'string' ? body[key] : '');
  return {
    subject: text('subject'),
    preheader: text('preheader'),
    body: text('body'),
    format: body.format === 'markdown' ? 'markdown' : 'html',
    text: text('text'),
    sendAt: text('sendAt'),
    // An unticked checkbox sends nothing; the form always sends `inArchiveShown` to say it had one.
    inArchive: body.inArchive === 'true' || body.inArchiveShown !== 'true',
    // The same for the tracking boxes, with `trackingShown`: unticked must stay off.
    trackOpens: body.trackingShown === 'true' ? body.trackOpens === 'true' : tracking.opens,
    trackClicks: body.trackingShown === 'true' ? body.trackClicks === 'true' : tracking.clicks,
    testEmail: text('testEmail'),
    previewEmail: text('previewEmail'),
    // One ticked box arrives as a string, several as an array.
    lists: (Array.isArray(body.lists) ? body.lists : [body.lists]).filter((value): value is string => typeof value === 'string' && value !== ''),
    segment: text('segment'),
  };
}

function intentOf(req: Request): Intent {
  const intent = (req.body as Record<string, unknown> | undefined)?.intent;
  return (intents as readonly unknown[]).includes(intent) ? (intent as Intent) : 'draft';
}

function valuesOf(campaign: Campaign, audience: { lists: { id: string }[] }): FormValues {
  return {
    ...emptyForm,
    subject: campaign.subject,
    preheader: campaign.preheader ?? '',
    body: campaign.html,
    format: campaign.format,
    text: campaign.text ?? '',
    sendAt: toUtcInput(campaign.sendAt),
    inArchive: campaign.inArchive,
    trackOpens: campaign.trackOpens,
    trackClicks: campaign.trackClicks,
    lists: audience.lists.map((list) => list.id),
    segment: campaign.segmentId ?? '',
  };
}

/**
 * Compose, preview, test and send: a campaign is written as a draft (saved as often as wanted,
 * edited later), previewed with the worker's own rendering, tested on one address, and only sent
 * from a review page that shows how many people will get it.
 */
export function composePages({ deps, security, form, can, render }: AdminContext): Router {
  const { db, queues, config } = deps;
  const newForm = (): FormValues => ({ ...emptyForm, trackOpens: config.tracking.opens, trackClicks: config.tracking.clicks });
  const router = Router();

  const renderCompose = async (req: Request, res: Response, options: { campaign: Campaign | null; values: FormValues; errors: Record<string, string>; notice?: string | null }) => {
    const { campaign, values } = options;
    const [preview, listOptions, segmentOptions] = await Promise.all([
      campaign ? previewEmail(deps, campaign) : null,
      db.list.findMany({ where: { archivedAt: null }, orderBy: [{ isDefault: 'desc' }, { name: 'asc' }], select: { id: true, name: true, slug: true, visibility: true } }),
      db.segment.findMany({ orderBy: { name: 'asc' }, select: { id: true, name: true } }),
    ]);
    render(req, res, 'compose', {
      listOptions,
      segmentOptions,
      // Inline rules (set through the API) are kept as they are; the select offers saved segments.
      inlineSegment: campaign !== null && campaign.segmentRules !== null,
      title: campaign ? `Edit: ${plainSubject(campaign.subject)}` : 'New campaign',
      campaign: campaign ? { id: campaign.id, status: campaign.status } : null,
      values,
      errors: options.errors,
      notice: options.notice ?? null,
      preview,
    });
  };


  router.get('/admin/campaigns/new', ...can('campaigns:write'), async (req, res) => {
    await renderCompose(req, res, { campaign: null, values: { ...newForm(), lists: [await defaultListId(db)] }, errors: {} });
  });

  router.get('/admin/campaigns/:id/edit', ...can('campaigns:write'), async (req, res) => {
    const campaign = await findCampaign(db, req.params.id);
    if (!isEditable(campaign)) return res.redirect(303, `/admin/campaigns/${campaign.id}`);
    const query = parseRequest(editQuery, req.query, 'query');
    const notice = query.notice === 'saved' ? 'Draft saved.' : query.notice === 'test-sent' ? `Test email on its way to ${query.to ?? 'you'}.` : null;
    await renderCompose(req, res, { campaign, values: { ...valuesOf(campaign, await readAudience(db, campaign.id)), testEmail: query.to ?? '' }, errors: {}, notice });
  });

  /** Saves the form (new draft or edit), then does what the pressed button asked. */
  const save = async (req: Request, res: Response) => {
    const existing = req.params.id ? await findCampaign(db, req.params.id) : null;
    if (existing && !isEditable(existing)) throw new HttpError(409, 'invalid_state', `The campaign is ${existing.status}; it can no longer be edited.`);
    // A scheduled campaign will go out as it is saved: changing it is part of sending.
    if (existing && existing.status !== 'draft') assertPermission(res, 'campaigns:send');
    const values = formValues(req, config.tracking);
    const intent = intentOf(req);
    const parsed = sendInput.safeParse({
      subject: values.subject,
      body: values.body,
      format: values.format,
      inArchive: values.inArchive,
      tracking: { opens: values.trackOpens, clicks: values.trackClicks },
      ...(values.preheader.trim() ? { preheader: values.preheader } : {}),
      ...(values.text.trim() ? { text: values.text } : {}),
      ...(values.sendAt ? { sendAt: asUtc(values.sendAt) } : {}),
      ...(values.lists.length > 0 ? { lists: values.lists } : {}),
      ...(values.segment ? { segment: values.segment } : {}),
    });
    const errors = parsed.success ? {} : fieldErrors(parsed.error);
    // The form always sends `listsShown`; without it (a form of its own) the default list is meant.
    if (values.lists.length === 0 && (req.body as Record<string, unknown> | undefined)?.listsShown === 'true') errors.lists = 'Pick at least one list.';
    const testAddress = intent === 'test' ? emailAddress.safeParse(values.testEmail) : null;
    if (testAddress && !testAddress.success) errors.testEmail = testAddress.error.issues[0]?.message ?? 'Enter a valid email address.';
    if (existing && existing.status !== 'draft' && !values.sendAt) errors.sendAt = 'A scheduled campaign needs a time; cancel it from its page to stop it.';
    if (!parsed.success || Object.keys(errors).length > 0) {
      res.status(400);
      return renderCompose(req, res, { campaign: existing, values, errors });
    }
    let campaign: Campaign;
    try {
      // A draft edited in the admin keeps inline rules it was given through the API.
      const input = !values.segment && existing?.segmentRules ? { ...parsed.data, segment: existing.segmentRules as Record<string, unknown> } : parsed.data;
      campaign = await saveDraft(db, input, config.tracking, existing?.id);
      await auditRequest(db, req, res, existing ? 'campaign.edited' : 'campaign.created', campaignTarget(campaign));
    } catch (err) {
      if (!(err instanceof AudienceInputError)) throw err;
      res.status(422);
      // `lists.1` names the second ticked box; the form shows one message for the group.
      const fields = Object.fromEntries(Object.entries(err.fields).map(([field, message]) => [field.startsWith('lists') ? 'lists' : field.startsWith('segment') ? 'segment' : field, message]));
      return renderCompose(req, res, { campaign: existing, values, errors: fields });
    }
    if (intent === 'test' && testAddress?.success) {
      await enqueueOrDefer('test email', () => enqueueJob(queues, jobs.sendTestEmail, { campaignId: campaign.id, to: testAddress.data }), req.log);
      testEmailsCounter.inc();
      req.log.info({ test: true, campaignId: campaign.id }, 'test email requested');
      return res.redirect(303, `/admin/campaigns/${campaign.id}/edit?notice=test-sent&to=${encodeURIComponent(testAddress.data)}`);
    }
    if (campaign.status !== 'draft') return res.redirect(303, `/admin/campaigns/${campaign.id}?notice=saved`);
    if (intent === 'review') return res.redirect(303, `/admin/campaigns/${campaign.id}/review`);
    res.redirect(303, `/admin/campaigns/${campaign.id}/edit?notice=saved`);
  };
  router.post('/admin/campaigns', ...can('campaigns:write'), form, security.csrfProtection, save);
  router.post('/admin/campaigns/:id/edit', ...can('campaigns:write'), form, security.csrfProtection, save);

  router.get('/admin/campaigns/:id/review', ...can('campaigns:read'), async (req, res) => {
    const campaign = await findCampaign(db, req.params.id);
    if (campaign.status !== 'draft') return res.redirect(303, `/admin/campaigns/${campaign.id}`);
    // The same predicate as the snapshot the send takes (audiencePredicate), counted now.
    const [audience, preview, lists] = await Promise.all([
      campaignAudience(db, campaign.id).then((recorded) => audienceCount(db, recorded)),
      previewEmail(deps, campaign),
      readAudience(db, campaign.id),
    ]);
    render(req, res, 'review', {
      title: `Review: ${plainSubject(campaign.subject)}`,
      campaign: { id: campaign.id, subject: campaign.subject, sendAt: campaign.sendAt, tracking: { opens: campaign.trackOpens, clicks: campaign.trackClicks } },
      audience,
      audienceOf: lists,
      expired: campaign.sendAt !== null && campaign.sendAt <= new Date(),
      preview,
    });
  });

  router.post('/admin/campaigns/:id/start', ...can('campaigns:send'), form, security.csrfProtection, async (req, res) => {
    const campaign = await startDraft(db, parseId(req.params.id, 'campaign'));
    if (campaign.status === 'sending') {
      await enqueueOrDefer('campaign fan-out', () => enqueueJob(queues, jobs.fanOut, { campaignId: campaign.id }, campaign.updatedAt), req.log);
    }
    req.log.info({ campaignId: campaign.id, status: campaign.status, recipients: campaign.recipientCount }, 'campaign started from the admin');
    await auditRequest(db, req, res, campaign.status === 'scheduled' ? 'campaign.scheduled' : 'campaign.started', campaignTarget(campaign), {
      recipients: campaign.recipientCount,
    });
    res.redirect(303, `/admin/campaigns/${campaign.id}?notice=started`);
  });

  /** The compose page's live preview: the email as the worker would render it, as JSON. */
  router.post('/admin/preview', ...can('campaigns:write'), form, security.csrfProtection, async (req, res) => {
    const input = parseRequest(previewInput, req.body ?? {}, 'preview');
    const { email, recipient, unknownRecipient } = await previewEmail(
      deps,
      { subject: input.subject, preheader: input.preheader.trim() || null, html: input.body, format: input.format, text: input.text.trim() ? input.text : null },
      input.previewEmail || undefined,
    );
    res.set('Cache-Control', 'no-store').json({ subject: email.subject, html: email.html, text: email.text, recipient, unknownRecipient });
  });

  return router;
}
