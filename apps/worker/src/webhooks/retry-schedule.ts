import type { PostOutcome } from './post-webhook.js';

/** The longest wait between two attempts, whatever Retry-After asks for. */
export const maxRetryDelayMs = 6 * 60 * 60 * 1000;

/**
 * What an attempt's outcome means for the delivery. A 2xx is delivered. Network errors, timeouts,
 * 429 and 5xx are worth trying again; any other answer (3xx: redirects are not followed; 4xx: the
 * receiver refused this request) and a refused address would be refused again, so the delivery
 * fails at once.
 */
export function judgeOutcome(outcome: PostOutcome): 'delivered' | 'retry' | 'failed' {
  if (!outcome.answered) return outcome.refused ? 'failed' : 'retry';
  if (outcome.statusCode >= 200 && outcome.statusCode < 300) return 'delivered';
  if (outcome.statusCode === 429 || outcome.statusCode >= 500) return 'retry';
  return 'failed';
}

/**
 * How long before attempt `attemptsMade + 1`: the endpoint's Retry-After (seconds or a date) when it
 * gave one, else exponential backoff from `baseMs` (×4 each time: with 5 s, about 5 s, 20 s, 80 s,
 * 5 min, 21 min, 85 min, 6 h...) with jitter over the upper half, so endpoints that failed together
 * are not retried together; never more than six hours.
 */
export function retryDelayMs(attemptsMade: number, baseMs: number, retryAfter: string | undefined, now: Date, random = Math.random): number {
  const asked = parseRetryAfter(retryAfter, now);
  if (asked !== undefined) return Math.min(asked, maxRetryDelayMs);
  const backoff = Math.min(baseMs * 4 ** Math.max(0, attemptsMade - 1), maxRetryDelayMs);
  return Math.round(backoff * (0.5 + random() / 2));
}

function parseRetryAfter(value: string | undefined, now: Date): number | undefined {
  if (value === undefined) return undefined;
  if (/^\s*\d+\s*$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now.getTime());
}
