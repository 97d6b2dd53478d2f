import type { CampaignStatus, DeliveryStatus } from '@herald/shared';
import type { CampaignAction } from './campaign-actions.js';

/**
 * The actions that make sense for a campaign now, mirroring what applyCampaignAction accepts:
 * the admin pages show only these, so an operator is not offered a button that answers 409.
 */
export function allowedActions(status: CampaignStatus, counts: Record<DeliveryStatus, number>): CampaignAction[] {
  const actions: CampaignAction[] = [];
  if (status === 'sending' || status === 'scheduled') actions.push('pause');
  if (status === 'paused') actions.push('resume');
  if (counts.failed > 0 && (status === 'sent' || status === 'sending' || status === 'paused')) actions.push('retry-failed');
  if (status === 'sending' || status === 'scheduled' || status === 'paused') actions.push('cancel');
  return actions;
}
