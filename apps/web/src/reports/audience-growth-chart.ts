import type { AudienceDay } from './audience-growth.js';
import { barChart } from './bar-chart.js';

/**
 * The audience per day as bars: who joined (confirmed) and who left (unsubscribed or suppressed),
 * side by side, a label every week.
 */
export function audienceGrowthChart(days: AudienceDay[]): string {
  const joined = days.reduce((sum, day) => sum + day.confirmations, 0);
  const left = days.reduce((sum, day) => sum + day.unsubscribes + day.suppressions, 0);
  return barChart({
    series: [
      { label: 'joined', className: 'bar-joined' },
      { label: 'left', className: 'bar-left' },
    ],
    slots: days.map((day) => ({ label: day.day, values: [day.confirmations, day.unsubscribes + day.suppressions] })),
    ticks: days.flatMap((day, index) => (index % 7 === 0 ? [{ index, label: day.day.slice(5) }] : [])),
    summary: `Subscribers joining and leaving per day over ${days.length} days: ${joined} joined (confirmed), ${left} left (unsubscribed or suppressed), net ${joined - left > 0 ? '+' : ''}${joined - left}.`,
    width: 600,
    height: 200,
  });
}
