/**
 * Closed-loop load on the public JSON signup: `clients` loops, each POSTing one signup and waiting
 * for its answer before the next, for `durationMs`. Every request uses a new address, so each one
 * inserts a row and enqueues a confirmation, as a real signup does (a repeated address would take
 * the cheaper "already pending" path).
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';

export type SignupLoadResult = {
  /** Answered signups (any status) per second of the measured window. */
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Answers other than 2xx, and requests that got no answer. */
  errors: number;
  /** The first few error descriptions, to tell a 503 from a refused connection. */
  errorSamples: string[];
  requests: number;
  seconds: number;
};

export type SignupLoadOptions = {
  /** The web app's base URL, e.g. `http://127.0.0.1:3000`. */
  baseUrl: string;
  clients?: number;
  durationMs: number;
  /** Addresses are `<prefix>-<n>@<domain>`; a fresh random prefix by default. */
  addressPrefix?: string;
  domain?: string;
};

export async function measureSignups({
  baseUrl,
  clients = 64,
  durationMs,
  addressPrefix = `load-${randomBytes(4).toString('hex')}`,
  domain = 'example.org',
}: SignupLoadOptions): Promise<SignupLoadResult> {
  const url = new URL('/register', baseUrl).toString();
  const latencies: number[] = [];
  const errorSamples: string[] = [];
  let errors = 0;
  let next = 0;
  const started = performance.now();
  const deadline = started + durationMs;

  const loop = async () => {
    while (performance.now() < deadline) {
      const n = next++;
      const body = JSON.stringify({ email: `${addressPrefix}-${n}@${domain}`, name: `Load ${n}` });
      const sent = performance.now();
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json' },
          body,
        });
        await res.arrayBuffer();
        if (res.status < 200 || res.status >= 300) recordError(`HTTP ${res.status}`);
      } catch (err) {
        recordError(err instanceof Error ? `${err.message}${err.cause instanceof Error ? `: ${err.cause.message}` : ''}` : String(err));
      }
      latencies.push(performance.now() - sent);
    }
  };
  const recordError = (description: string) => {
    errors += 1;
    if (errorSamples.length < 5) errorSamples.push(description);
  };

  await Promise.all(Array.from({ length: clients }, loop));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    perSecond: latencies.length / seconds,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    errors,
    errorSamples,
    requests: latencies.length,
    seconds,
  };
}

/** Nearest-rank percentile of sorted values (0 when there are none). */
function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;
}
