import type { CampaignContent, Db, EmailLayout } from '@herald/shared';
import { campaignHtml, listIdHeader, prepareCampaignContent } from '@herald/shared';
import type { EmailTracking } from '../mail/mailer.js';

/** The laid-out content and the campaign's tracking settings, both fixed once it sends. */
export type SendableCampaign = CampaignContent & { tracking: EmailTracking };

/**
 * A campaign laid out for sending, prepared once per worker process rather than once per recipient:
 * the body can be a megabyte, and rendering Markdown, the layout, the inlining of its styles and the
 * text part take milliseconds. Content can be edited only while a campaign is scheduled, before any
 * of its emails is sent, so entries need no invalidation, only a size bound. The campaign's first
 * list names its List-Id (RFC 2919), the same header for every recipient; its lists are fixed once
 * it sends, like its content, and so are its tracking settings.
 */
const cache = new Map<string, Promise<SendableCampaign>>();
const maxCampaigns = 20;

export function loadCampaignContent(
  db: Db,
  campaignId: string,
  layout: EmailLayout,
  links: { viewInBrowserUrl: string; publicUrl: string },
): Promise<SendableCampaign> {
  let content = cache.get(campaignId);
  if (!content) {
    content = Promise.all([
      db.campaign.findUniqueOrThrow({ where: { id: campaignId }, select: { subject: true, html: true, format: true, text: true, preheader: true, trackOpens: true, trackClicks: true } }),
      db.campaignList.findFirst({ where: { campaignId }, orderBy: [{ position: 'asc' }, { listId: 'asc' }], select: { list: { select: { name: true, slug: true } } } }),
    ]).then(([campaign, first]) => ({
      ...prepareCampaignContent({ ...campaign, html: campaignHtml(campaign.html, campaign.format) }, layout, {
        viewInBrowserUrl: links.viewInBrowserUrl,
        preferencesLink: true,
        ...(first ? { headers: { 'List-Id': listIdHeader(first.list, links.publicUrl) } } : {}),
      }),
      tracking: { opens: campaign.trackOpens, clicks: campaign.trackClicks },
    }));
    // A failed read is not remembered; the next job tries again.
    content.catch(() => cache.delete(campaignId));
    if (cache.size >= maxCampaigns) cache.delete(cache.keys().next().value!);
    cache.set(campaignId, content);
  }
  return content;
}
