import { campaignHtml, campaignUnsubscribeUrl, issueUrl, preferencesUrl, prepareCampaignContent, renderCampaignEmail } from '@herald/shared';
import type { CampaignFormat, Db, EmailLayout, RenderedEmail } from '@herald/shared';
import type { WebConfig } from '../config.js';

/** Stored content, and the campaign's id once it has one (for its view-in-browser link). */
export type PreviewContent = { subject: string; html: string; format: CampaignFormat; text: string | null; preheader?: string | null; id?: string };
export type PreviewRecipient = { email: string; name: string | null; subscriberId: string | null };

const sampleRecipient: PreviewRecipient = { email: 'reader@example.com', name: 'Sam Sample', subscriberId: null };

/**
 * A campaign email exactly as the worker renders it (the shared campaignHtml,
 * prepareCampaignContent and renderCampaignEmail: Markdown, layout, preheader, footer,
 * view-in-browser link and text part included), for one subscriber chosen by address, or for a sample reader.
 */
export async function previewEmail(
  { db, config, emailLayout }: { db: Db; config: WebConfig; emailLayout: EmailLayout },
  content: PreviewContent,
  recipientEmail?: string,
): Promise<{ email: RenderedEmail; recipient: PreviewRecipient; unknownRecipient: boolean }> {
  const wanted = recipientEmail?.trim().toLowerCase();
  const subscriber = wanted ? await db.subscriber.findUnique({ where: { email: wanted }, select: { id: true, email: true, name: true, unsubscribeToken: true, attributes: true } }) : null;
  const recipient = subscriber ? { email: subscriber.email, name: subscriber.name, subscriberId: subscriber.id } : sampleRecipient;
  // The same two steps as the worker's send path (campaign-content.ts, send-email.ts).
  const viewInBrowserUrl = issueUrl(config.publicUrl, content.id ?? 'preview');
  const prepared = prepareCampaignContent({ ...content, html: campaignHtml(content.html, content.format) }, emailLayout, { viewInBrowserUrl, preferencesLink: true });
  const token = subscriber?.unsubscribeToken ?? 'preview';
  const attributes = subscriber?.attributes && typeof subscriber.attributes === 'object' ? (subscriber.attributes as Record<string, unknown>) : null;
  const email = renderCampaignEmail(prepared, { ...recipient, attributes }, {
    unsubscribeUrl: campaignUnsubscribeUrl(config.publicUrl, token, content.id ?? 'preview'),
    preferencesUrl: preferencesUrl(config.publicUrl, token),
    postalAddress: config.mail.postalAddress,
    viewInBrowserUrl,
  });
  return { email, recipient, unknownRecipient: Boolean(wanted) && !subscriber };
}
