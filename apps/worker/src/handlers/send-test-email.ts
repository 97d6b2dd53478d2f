import { UnrecoverableError } from 'bullmq';
import { campaignHtml, campaignUnsubscribeUrl, issueUrl, preferencesUrl, prepareCampaignContent, renderCampaignEmail } from '@herald/shared';
import type { SendTestEmailPayload } from '@herald/shared';
import { classifySendError } from '../mail/sendgrid.js';
import type { JobContext, WorkerDeps } from '../deps.js';

export type TestEmailOutcome = 'sent' | 'skipped';

/**
 * Sends an admin's test of a campaign to one address, exactly as a subscriber would get it (same
 * rendering, same SendGrid path) but with "[Test]" before the subject, and without touching the
 * campaign's deliveries. Placeholders are filled with the subscriber of that address if there is
 * one, else with the address alone. Content is read fresh, not from the send path's cache: a draft
 * changes between tests.
 */
export async function sendTestEmail(payload: SendTestEmailPayload, ctx: JobContext, { db, mailer, config, emailLayout }: WorkerDeps): Promise<TestEmailOutcome> {
  const campaign = await db.campaign.findUnique({ where: { id: payload.campaignId }, select: { subject: true, html: true, format: true, text: true, preheader: true, trackOpens: true, trackClicks: true } });
  if (!campaign) {
    ctx.log.info({ test: true }, 'test email skipped: campaign gone');
    return 'skipped';
  }
  const subscriber = await db.subscriber.findUnique({ where: { email: payload.to.toLowerCase() }, select: { name: true, unsubscribeToken: true, attributes: true } });
  // As the send path lays it out (campaign-content.ts), with the subject marked as a test.
  const viewInBrowserUrl = issueUrl(config.publicUrl, payload.campaignId);
  const content = prepareCampaignContent(
    { ...campaign, subject: `[Test] ${campaign.subject}`, html: campaignHtml(campaign.html, campaign.format) },
    emailLayout,
    { viewInBrowserUrl, preferencesLink: true },
  );
  const token = subscriber?.unsubscribeToken ?? 'test-email';
  const attributes = subscriber?.attributes && typeof subscriber.attributes === 'object' ? (subscriber.attributes as Record<string, unknown>) : null;
  const email = renderCampaignEmail(content, { email: payload.to, name: subscriber?.name ?? null, attributes }, {
    // Without a subscriber the link leads to the "link not valid" page, which is what a test should show.
    unsubscribeUrl: campaignUnsubscribeUrl(config.publicUrl, token, payload.campaignId),
    preferencesUrl: preferencesUrl(config.publicUrl, token),
    postalAddress: config.mail.postalAddress,
    viewInBrowserUrl,
  });
  try {
    const { messageId } = await mailer.send({ ...email, to: { email: payload.to }, customArgs: { herald_test_campaign_id: payload.campaignId },
      // The campaign's own settings, so the test shows the links as subscribers will get them.
      tracking: { opens: campaign.trackOpens, clicks: campaign.trackClicks },
    });
    ctx.log.info({ test: true, messageId }, 'test email sent');
    return 'sent';
  } catch (err) {
    const failure = classifySendError(err);
    ctx.log.warn({ test: true, kind: failure.kind, reason: failure.reason }, 'test email not sent');
    if (failure.kind === 'rejected' || failure.kind === 'unauthorized') throw new UnrecoverableError(failure.reason);
    throw new Error(failure.reason, { cause: err });
  }
}
