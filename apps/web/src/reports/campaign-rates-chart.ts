import { plainSubject } from '../admin/view-helpers.js';
import { barChart } from './bar-chart.js';
import type { ComparedCampaign } from './campaigns-comparison.js';

const percent = (rate: number | null) => (rate === null ? 0 : Math.round(rate * 1000) / 10);
const described = (rate: number | null) => (rate === null ? 'none delivered' : `${percent(rate)}%`);

/**
 * Campaigns' unique click and open rates (of delivered) as bars, oldest first so the trend reads
 * left to right. Clicks first: privacy proxies open every message, so opens run high.
 */
export function campaignRatesChart(campaigns: ComparedCampaign[]): string {
  const summary =
    `Unique click and open rates of the last ${campaigns.length} campaigns, oldest first. ` +
    campaigns.map((campaign) => `${plainSubject(campaign.subject)}: ${described(campaign.rates.clicked)} clicked, ${described(campaign.rates.opened)} opened.`).join(' ');
  return barChart({
    series: [
      { label: 'clicked', className: 'bar-clicked' },
      { label: 'opened', className: 'bar-opened' },
    ],
    slots: campaigns.map((campaign) => ({
      label: `${plainSubject(campaign.subject)} (${campaign.sentAt.toISOString().slice(0, 10)})`,
      values: [percent(campaign.rates.clicked), percent(campaign.rates.opened)],
    })),
    ticks: campaigns.map((campaign, index) => ({ index, label: campaign.sentAt.toISOString().slice(5, 10) })),
    summary,
    unit: '%',
    width: 320,
    height: 200,
  });
}
