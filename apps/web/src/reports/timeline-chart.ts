import type { TimelineBucket } from './campaign-report.js';

/** One series of the chart: which bucket field it draws and how. */
type Series = { field: 'uniqueOpened' | 'uniqueClicked'; label: string; className: string };

// Clicks first: they are the surer signal (privacy proxies open every message).
const series: Series[] = [
  { field: 'uniqueClicked', label: 'clicked', className: 'bar-clicked' },
  { field: 'uniqueOpened', label: 'opened', className: 'bar-opened' },
];

const width = 720;
const height = 220;
const margin = { top: 12, right: 8, bottom: 28, left: 40 };

const escape = (text: string) => text.replace(/[&<>"]/g, (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[char]!);

/** A round top for the y axis: 1, 2 or 5 times a power of ten, at least the largest value. */
function niceMax(value: number): number {
  if (value <= 1) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  return [1, 2, 5, 10].map((step) => step * power).find((top) => top >= value)!;
}

function bucketLabel(bucket: TimelineBucket, index: number): string {
  const at = bucket.at.toISOString();
  return bucket.size === 'hour' ? `+${index} h (${at.slice(11, 16)} UTC ${at.slice(5, 10)})` : `${at.slice(0, 10)}`;
}

/**
 * The report's timeline as an inline SVG, drawn on the server so the page needs no script: unique
 * openers and clickers per bucket, side by side, the first two days hour by hour and then day by day
 * (the axis says where the step changes). Each bar carries a <title>, which browsers show on hover.
 */
export function timelineChart(buckets: TimelineBucket[]): string {
  const plotWidth = width - margin.left - margin.right;
  const plotHeight = height - margin.top - margin.bottom;
  const top = niceMax(Math.max(0, ...buckets.flatMap((bucket) => series.map((line) => bucket[line.field]))));
  const slot = plotWidth / Math.max(1, buckets.length);
  const barWidth = Math.max(1, (slot * 0.8) / series.length);
  const y = (value: number) => margin.top + plotHeight - (value / top) * plotHeight;

  const bars = buckets.flatMap((bucket, index) =>
    series
      .filter((line) => bucket[line.field] > 0)
      .map((line) => {
        const x = margin.left + index * slot + slot * 0.1 + series.indexOf(line) * barWidth;
        const value = bucket[line.field];
        return `<rect class="${line.className}" x="${x.toFixed(1)}" y="${y(value).toFixed(1)}" width="${barWidth.toFixed(1)}" height="${(plotHeight - (y(value) - margin.top)).toFixed(1)}"><title>${escape(`${bucketLabel(bucket, index)}: ${value} ${line.label}`)}</title></rect>`;
      }),
  );

  // Ticks every 12 hours, then at each day; the day part starts at the first daily bucket.
  const ticks = buckets.flatMap((bucket, index) => {
    const x = margin.left + index * slot;
    if (bucket.size === 'hour' && index % 12 === 0) return [{ x, label: `+${index} h` }];
    if (bucket.size === 'day' && (buckets[index - 1]?.size === 'hour' || index % Math.ceil((buckets.length - 48) / 6 || 1) === 0)) {
      return [{ x, label: bucket.at.toISOString().slice(5, 10) }];
    }
    return [];
  });
  const firstDay = buckets.findIndex((bucket) => bucket.size === 'day');

  const total = (field: Series['field']) => buckets.reduce((sum, bucket) => sum + bucket[field], 0);
  const summary = `Unique openers and clickers over time: ${total('uniqueOpened')} opened and ${total('uniqueClicked')} clicked, hour by hour for two days${firstDay >= 0 ? ', then day by day' : ''}.`;

  return [
    `<svg class="timeline-chart" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escape(summary)}" xmlns="http://www.w3.org/2000/svg">`,
    `<line class="axis" x1="${margin.left}" y1="${y(0)}" x2="${width - margin.right}" y2="${y(0)}"/>`,
    `<line class="grid" x1="${margin.left}" y1="${y(top)}" x2="${width - margin.right}" y2="${y(top)}"/>`,
    `<text class="label" x="${margin.left - 6}" y="${y(top) + 4}" text-anchor="end">${top}</text>`,
    `<text class="label" x="${margin.left - 6}" y="${y(0) + 4}" text-anchor="end">0</text>`,
    firstDay > 0 ? `<line class="step" x1="${margin.left + firstDay * slot}" y1="${margin.top}" x2="${margin.left + firstDay * slot}" y2="${y(0)}"/>` : '',
    ...ticks.map((tick) => `<text class="label" x="${tick.x.toFixed(1)}" y="${height - 8}">${escape(tick.label)}</text>`),
    ...bars,
    '</svg>',
  ].join('');
}
