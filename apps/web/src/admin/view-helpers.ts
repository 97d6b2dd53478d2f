import { escapeHtml } from '@herald/shared';

const placeholder = /\{\{\s*(name|email|unsubscribe_url)\s*\}\}/gi;

/** A subject as HTML with its placeholders shown as marked tokens, not raw `{{name}}`. */
export function markPlaceholders(subject: string): string {
  return escapeHtml(subject).replace(placeholder, (_match, key: string) => `<mark class="placeholder" title="Filled in per subscriber">${key.toLowerCase()}</mark>`);
}

/** A subject as plain text (a page title), placeholders shown as ‹name›. */
export function plainSubject(subject: string): string {
  return subject.replace(placeholder, (_match, key: string) => `‹${key.toLowerCase()}›`);
}

/** `2026-11-30 22:15 UTC`; the page's script adds the admin's local time next to it. */
export function utc(date: Date | null | undefined): string {
  return date ? `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC` : '';
}

/**
 * `<time>` with the UTC text; admin.js adds the reader's local time next to it, or (`compact`, for
 * table cells) as its tooltip.
 */
export function timeTag(date: Date | null | undefined, compact = false): string {
  return date ? `<time datetime="${date.toISOString()}" data-local="${compact ? 'title' : 'inline'}">${utc(date)}</time>` : '';
}

/** `1 h 02 min`, `3 min 20 s`, `12 s`. */
export function duration(from: Date | null | undefined, to: Date | null | undefined): string {
  if (!from || !to) return '';
  const seconds = Math.max(0, Math.round((to.getTime() - from.getTime()) / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${String(seconds % 60).padStart(2, '0')} s`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}

const countFormat = new Intl.NumberFormat('en');

/** `128,470`: the same grouping whatever the server's locale. */
export function count(value: number): string {
  return countFormat.format(value);
}

/** `in about 4 min`, `in less than a minute`. */
export function fromNow(date: Date, now = new Date()): string {
  const minutes = Math.round((date.getTime() - now.getTime()) / 60_000);
  return minutes < 1 ? 'in less than a minute' : `in about ${minutes} min`;
}

export const adminViewHelpers = { markPlaceholders, plainSubject, utc, timeTag, duration, count, fromNow };
