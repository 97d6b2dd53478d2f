import { barChart } from './bar-chart.js';
import type { BarSeries } from './bar-chart.js';
import type { TimelineBucket } from './campaign-report.js';

/** One series of the chart: which bucket field it draws and how. */
type Series = BarSeries & { field: 'uniqueOpened' | 'uniqueClicked' };

// Clicks first: they are the surer signal (privacy proxies open every message).
const series: Series[] = [
  { field: 'uniqueClicked', label: 'clicked', className: 'bar-clicked' },
  { field: 'uniqueOpened', label: 'opened', className: 'bar-opened' },
];

function bucketLabel(bucket: TimelineBucket, index: number): string {
  const at = bucket.at.toISOString();
  return bucket.size === 'hour' ? `+${index} h (${at.slice(11, 16)} UTC ${at.slice(5, 10)})` : `${at.slice(0, 10)}`;
}

/**
 * The report's timeline as a bar chart: unique openers and clickers per bucket, side by side, the
 * first two days hour by hour and then day by day (the axis says where the step changes).
 */
export function timelineChart(buckets: TimelineBucket[]): string {
  // Ticks every 12 hours, then at each day; the day part starts at the first daily bucket.
  const ticks = buckets.flatMap((bucket, index) => {
    if (bucket.size === 'hour' && index % 12 === 0) return [{ index, label: `+${index} h` }];
    if (bucket.size === 'day' && (buckets[index - 1]?.size === 'hour' || index % Math.ceil((buckets.length - 48) / 6 || 1) === 0)) {
      return [{ index, label: bucket.at.toISOString().slice(5, 10) }];
    }
    return [];
  });
  const firstDay = buckets.findIndex((bucket) => bucket.size === 'day');
  const total = (field: Series['field']) => buckets.reduce((sum, bucket) => sum + bucket[field], 0);
  return barChart({
    series,
    slots: buckets.map((bucket, index) => ({ label: bucketLabel(bucket, index), values: series.map((line) => bucket[line.field]) })),
    ticks,
    stepAt: firstDay,
    summary: `Unique openers and clickers over time: ${total('uniqueOpened')} opened and ${total('uniqueClicked')} clicked, hour by hour for two days${firstDay >= 0 ? ', then day by day' : ''}.`,
  });
}
