/**
 * Closed-loop load on the public JSON signup: `clients` loops, each POSTing one signup and waiting
 * for its answer before the next, for `durationMs`. Every request uses a new address, so each one
 * inserts a row and enqueues a confirmation, as a real signup does (a repeated address would take
 * the cheaper "already pending" path).
 *
 * The load runs on the machine it measures, so its own CPU counts: `fetch` (undici) spends about
 * 0.5 ms of CPU per request here, as much as the web spends answering it, and cannot issue much
 * more than 1,000 requests a second on a busy two-core machine whatever the server does.
 * `node:http` over a keep-alive agent (one socket per client, as a proxy in front would hold)
 * spends about 0.075 ms, so it is the default; `client: 'fetch'` gives the figure fetch would.
 */
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';

export type SignupLoadResult = {
  /** Answered signups (any status) per second of the measured window. */
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** p99 of the requests sent after the first `warmupMs`. */
  p99WarmMs: number;
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
  /** How requests are made: `http` (node:http, keep-alive) or `fetch`. */
  client?: 'http' | 'fetch';
  /** The start left out of `p99WarmMs`: the first requests meet every process cold. */
  warmupMs?: number;
};

export async function measureSignups({
  baseUrl,
  clients = 64,
  durationMs,
  addressPrefix = `load-${randomBytes(4).toString('hex')}`,
  domain = 'example.org',
  client = 'http',
  warmupMs = 2_000,
}: SignupLoadOptions): Promise<SignupLoadResult> {
  const url = new URL('/register', baseUrl).toString();
  const agent = new Agent({ keepAlive: true, maxSockets: clients });
  const post = client === 'http' ? (body: string) => postWithHttp(url, body, agent) : (body: string) => postWithFetch(url, body);
  const latencies: number[] = [];
  const warmLatencies: number[] = [];
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
        const status = await post(body);
        if (status < 200 || status >= 300) recordError(`HTTP ${status}`);
      } catch (err) {
        recordError(err instanceof Error ? `${err.message}${err.cause instanceof Error ? `: ${err.cause.message}` : ''}` : String(err));
      }
      latencies.push(performance.now() - sent);
      if (sent - started >= warmupMs) warmLatencies.push(performance.now() - sent);
    }
  };
  const recordError = (description: string) => {
    errors += 1;
    if (errorSamples.length < 5) errorSamples.push(description);
  };

  await Promise.all(Array.from({ length: clients }, loop));
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  warmLatencies.sort((a, b) => a - b);
  return {
    perSecond: latencies.length / seconds,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    p99WarmMs: percentile(warmLatencies, 0.99),
    errors,
    errorSamples,
    requests: latencies.length,
    seconds,
  };
}

/** POSTs JSON with node:http; resolves with the status once the whole answer is read. */
function postWithHttp(url: string, body: string, agent: Agent): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', agent, headers: { 'content-type': 'application/json', accept: 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function postWithFetch(url: string, body: string): Promise<number> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body });
  await res.arrayBuffer();
  return res.status;
}

/** Nearest-rank percentile of sorted values (0 when there are none). */
function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;
}
