import { randomBytes } from 'node:crypto';
import type { ReceivedMessage } from './received-message.js';

export type EventRates = { open: number; click: number; bounce: number; spamreport: number; unsubscribe: number };

export type EventPlanSettings = {
  rates: EventRates;
  /** Engagement events come at a delay drawn from 0..delayMs after delivery. */
  delayMs: number;
  /** Recipients matching it always bounce (and get no engagement). */
  bouncePattern: RegExp;
  /** Same seed, same plan: tests can count events. */
  seed?: number;
};

/** One event and how long after the send it is reported. */
export type PlannedEvent = { delayMs: number; event: Record<string, unknown> };

export type EventPlanner = (message: ReceivedMessage) => PlannedEvent[];

/**
 * Decides what happens to each recipient of an accepted message, as SendGrid would report it:
 * `processed`, then `delivered` or `bounce`, then at the configured rates `open`, `click`,
 * `spamreport` and `unsubscribe`. As SendGrid, no `open` for a message sent with open tracking
 * off and no `click` for one with click tracking off: there is no pixel or rewritten link to report.
 */
export function createEventPlanner(settings: EventPlanSettings): EventPlanner {
  const random = createRandom(settings.seed ?? randomBytes(4).readUInt32LE());
  const { rates, delayMs, bouncePattern } = settings;
  const later = () => Math.floor(random() * delayMs);
  let eventCount = 0;

  return (message) => {
    const planned: PlannedEvent[] = [];
    const links = findLinks(message.html);
    for (const email of message.recipients) {
      const base = { email, sg_message_id: message.sgMessageId, ...message.customArgs };
      // sg_event_id must be unique per event: Herald stores each event once by it.
      const event = (name: string, extra: Record<string, unknown> = {}) => ({
        ...base,
        event: name,
        sg_event_id: `${message.sgMessageId}.${(eventCount += 1)}`,
        ...(message.categories.length > 0 ? { category: message.categories } : {}),
        ...extra,
      });
      planned.push({ delayMs: 0, event: event('processed') });
      if (bouncePattern.test(email.split('@')[0]!) || random() < rates.bounce) {
        planned.push({ delayMs: later(), event: event('bounce', { type: 'bounce', status: '5.1.1', reason: '550 5.1.1 The email account that you tried to reach does not exist.' }) });
        continue;
      }
      planned.push({ delayMs: 0, event: event('delivered', { response: '250 OK' }) });
      // The draws happen either way, so turning tracking off changes no other event of a seeded plan.
      const opened = random() < rates.open && message.tracking.opens;
      if (opened) planned.push({ delayMs: later(), event: event('open') });
      // Clicks need a link; a click implies the reader opened the mail, but SendGrid does not always see the open.
      if (links.length > 0 && random() < rates.click && message.tracking.clicks) {
        planned.push({ delayMs: later(), event: event('click', { url: links[Math.floor(random() * links.length)]! }) });
      }
      if (random() < rates.spamreport) planned.push({ delayMs: later(), event: event('spamreport') });
      if (random() < rates.unsubscribe) planned.push({ delayMs: later(), event: event('unsubscribe') });
    }
    return planned;
  };
}

/** Every http(s) href of the body, unsubscribe links included: Herald decides what a click on each means. */
export function findLinks(html: string | null): string[] {
  if (!html) return [];
  return [...html.matchAll(/<a\b[^>]*?\bhref\s*=\s*(?:"([^"]*)"|'([^']*)')/gi)]
    .map((match) => decodeEntities(match[1] ?? match[2] ?? ''))
    .filter((href) => /^https?:\/\//i.test(href));
}

function decodeEntities(text: string): string {
  return text.replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>');
}

/** mulberry32: small, fast and good enough to spread events; not for anything secret. */
function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
