import { createHash } from 'node:crypto';
import type { CampaignFormat } from '../generated/prisma/enums.js';
import { campaignHtml } from './campaign-html.js';
import type { EmailLayout } from './email-layout.js';
import { prepareCampaignContent, renderCampaignEmail } from './render-campaign.js';
import type { CampaignContent, CampaignLinks, Recipient, RenderedEmail } from './render-campaign.js';

/** A list's welcome email as the admin wrote it (lists.welcome_subject, welcome_body, welcome_format). */
export type WelcomeSource = { subject: string; body: string; format: CampaignFormat };

/** Laid-out welcome emails kept per layout; a handful of lists, each with one welcome email. */
const prepared = new WeakMap<EmailLayout, Map<string, CampaignContent>>();
const keptPerLayout = 50;

/**
 * Laying out and inlining takes tens of milliseconds, so a welcome email is laid out once per
 * version of its text (the key is a digest of it, so an edit is a new entry) and only personalised
 * per recipient.
 */
function welcomeContent(source: WelcomeSource, layout: EmailLayout): CampaignContent {
  const key = createHash('sha256').update(`${source.format}\0${source.subject}\0${source.body}`).digest('hex');
  let byKey = prepared.get(layout);
  if (!byKey) prepared.set(layout, (byKey = new Map()));
  let content = byKey.get(key);
  if (!content) {
    content = prepareCampaignContent({ subject: source.subject, html: campaignHtml(source.body, source.format), text: null }, layout, { preferencesLink: true });
    if (byKey.size >= keptPerLayout) byKey.delete(byKey.keys().next().value!);
    byKey.set(key, content);
  }
  return content;
}

/**
 * A list's welcome email to one person, rendered exactly as a campaign is: the same layout and
 * footer, the body's placeholders substituted with the same escaping (never evaluated), the text
 * part derived from the HTML, and the RFC 8058 one-click unsubscribe headers for `links.unsubscribeUrl`;
 * the footer links the preference centre (`links.preferencesUrl`).
 */
export function renderWelcomeEmail(source: WelcomeSource, recipient: Recipient, layout: EmailLayout, links: CampaignLinks): RenderedEmail {
  return renderCampaignEmail(welcomeContent(source, layout), recipient, links);
}
