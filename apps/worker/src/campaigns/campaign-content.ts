import type { Db } from '@herald/shared';
import { campaignHtml, textTemplateOf } from '@herald/shared';
import type { CampaignContent } from '@herald/shared';

/**
 * A campaign's subject, HTML and text template, read once per worker process rather than once per
 * recipient: the body can be a megabyte, and rendering Markdown or deriving the text part takes
 * milliseconds. Content can be edited only while a campaign is scheduled, before any of its emails
 * is sent, so entries need no invalidation, only a size bound.
 */
const cache = new Map<string, Promise<CampaignContent>>();
const maxCampaigns = 20;

export function loadCampaignContent(db: Db, campaignId: string): Promise<CampaignContent> {
  let content = cache.get(campaignId);
  if (!content) {
    content = db.campaign
      .findUniqueOrThrow({ where: { id: campaignId }, select: { subject: true, html: true, format: true, text: true } })
      .then((campaign) => {
        const html = campaignHtml(campaign.html, campaign.format);
        return { subject: campaign.subject, html, text: textTemplateOf(html, campaign.text) };
      });
    // A failed read is not remembered; the next job tries again.
    content.catch(() => cache.delete(campaignId));
    if (cache.size >= maxCampaigns) cache.delete(cache.keys().next().value!);
    cache.set(campaignId, content);
  }
  return content;
}
