import { campaignHtml, escapeHtml, innerBody, substitute } from '@herald/shared';
import type { CampaignFormat } from '@herald/shared';

export type PublishedCampaign = { id: string; subject: string; html: string; format: CampaignFormat };
export type PublicIssue = { id: string; subject: string; html: string };

/**
 * What an anonymous reader sees in place of the placeholders: no one's name or address, and no
 * unsubscribe link that could act on anyone (the page is public and shared).
 */
const anonymous = { name: 'reader', email: 'you', unsubscribe_url: '#' };

/** A subject as the archive lists it, placeholders filled in for an anonymous reader. */
export function publicSubject(subject: string): string {
  return substitute(subject, anonymous, (value) => value);
}

/**
 * An issue as the public page and the feed show it: the email's body (Markdown rendered), its
 * placeholders filled in for an anonymous reader with the same escaping substitution as emails,
 * without the per-recipient footer.
 */
export function renderPublicIssue(campaign: PublishedCampaign): PublicIssue {
  return {
    id: campaign.id,
    subject: publicSubject(campaign.subject),
    html: substitute(innerBody(campaignHtml(campaign.html, campaign.format)), anonymous, escapeHtml),
  };
}
