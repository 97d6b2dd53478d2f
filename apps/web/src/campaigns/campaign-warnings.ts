import { emailSizeWarnings, gmailClipBytes, prepareCampaignContent } from '@herald/shared';
import type { CampaignSource, EmailLayout, EmailWarning } from '@herald/shared';

/**
 * What the admin should know about a campaign before it reaches inboxes, measured on the email as the
 * worker will send it (layout and inlined styles included). A body that alone passes Gmail's limit
 * is not laid out just to be measured.
 */
export function campaignWarnings(campaign: CampaignSource, layout: EmailLayout): EmailWarning[] {
  if (Buffer.byteLength(campaign.html, 'utf8') > gmailClipBytes) return emailSizeWarnings(campaign.html);
  return emailSizeWarnings(prepareCampaignContent(campaign, layout).html);
}
