/** One series of a chart: its bars' label (in their tooltips) and the class that colours them. */
export type BarSeries = { label: string; className: string };

/** One position on the x axis: its value per series, in the series' order, and what it is. */
export type BarSlot = { label: string; values: number[] };

export type BarChart = {
  series: BarSeries[];
  slots: BarSlot[];
  /** Labels under the x axis, at the start of the slot they name. */
  ticks: { index: number; label: string }[];
  /** A slot where the axis changes step (a thin line before it), as the timeline's hours turn to days. */
  stepAt?: number;
  /** The chart's text alternative: what it shows, with its totals. */
  summary: string;
  /** After each value, in the axis and the tooltips (`%`). */
  unit?: string;
  /** The drawing's size in its own units; text keeps its size in them, so a small chart draws small. */
  width?: number;
  height?: number;
};

const margin = { top: 12, right: 8, bottom: 28, left: 40 };

export const escapeSvg = (text: string) => text.replace(/[&<>"]/g, (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[char]!);

/** A round top for the y axis: 1, 2 or 5 times a power of ten, at least the largest value. */
function niceMax(value: number): number {
  if (value <= 1) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  return [1, 2, 5, 10].map((step) => step * power).find((top) => top >= value)!;
}

/**
 * Grouped bars as an inline SVG, drawn on the server so the page needs no script: one group per
 * slot, one bar per series. The SVG is an image named by `summary`; each bar carries a <title>,
 * which browsers show on hover. Pages put the numbers in a table next to it.
 */
export function barChart(chart: BarChart): string {
  const width = chart.width ?? 720;
  const height = chart.height ?? 220;
  const unit = chart.unit ?? '';
  const { series, slots } = chart;
  const plotWidth = width - margin.left - margin.right;
  const plotHeight = height - margin.top - margin.bottom;
  const top = niceMax(Math.max(0, ...slots.flatMap((slot) => slot.values)));
  const slotWidth = plotWidth / Math.max(1, slots.length);
  const barWidth = Math.max(1, (slotWidth * 0.8) / series.length);
  const y = (value: number) => margin.top + plotHeight - (value / top) * plotHeight;

  const bars = slots.flatMap((slot, index) =>
    series.flatMap((line, lineIndex) => {
      const value = slot.values[lineIndex] ?? 0;
      if (value <= 0) return [];
      const x = margin.left + index * slotWidth + slotWidth * 0.1 + lineIndex * barWidth;
      return [
        `<rect class="${line.className}" x="${x.toFixed(1)}" y="${y(value).toFixed(1)}" width="${barWidth.toFixed(1)}" height="${(plotHeight - (y(value) - margin.top)).toFixed(1)}"><title>${escapeSvg(`${slot.label}: ${value}${unit} ${line.label}`)}</title></rect>`,
      ];
    }),
  );
  const stepX = chart.stepAt !== undefined && chart.stepAt > 0 ? margin.left + chart.stepAt * slotWidth : null;

  return [
    `<svg class="timeline-chart" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeSvg(chart.summary)}" xmlns="http://www.w3.org/2000/svg">`,
    `<line class="axis" x1="${margin.left}" y1="${y(0)}" x2="${width - margin.right}" y2="${y(0)}"/>`,
    `<line class="grid" x1="${margin.left}" y1="${y(top)}" x2="${width - margin.right}" y2="${y(top)}"/>`,
    `<text class="label" x="${margin.left - 6}" y="${y(top) + 4}" text-anchor="end">${top}${unit}</text>`,
    `<text class="label" x="${margin.left - 6}" y="${y(0) + 4}" text-anchor="end">0</text>`,
    stepX === null ? '' : `<line class="step" x1="${stepX}" y1="${margin.top}" x2="${stepX}" y2="${y(0)}"/>`,
    ...chart.ticks.map((tick) => `<text class="label" x="${(margin.left + tick.index * slotWidth).toFixed(1)}" y="${height - 8}">${escapeSvg(tick.label)}</text>`),
    ...bars,
    '</svg>',
  ].join('');
}
