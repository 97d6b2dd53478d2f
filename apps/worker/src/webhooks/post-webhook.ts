import http from 'node:http';
import https from 'node:https';
import { refusedLiteral } from '@herald/shared';
import { guardedLookup } from './address-guard.js';

/** What one attempt came to: an answer (any status), or no answer and why. */
export type PostOutcome =
  | { answered: true; statusCode: number; retryAfter: string | undefined; excerpt: string; durationMs: number }
  | { answered: false; error: string; refused: boolean; durationMs: number };

export type PostOptions = { timeoutMs: number; allowPrivate: boolean };

/** The start of an answer kept for the endpoint's page. */
export const excerptBytes = 1_024;
/** Read past this and the connection is dropped: an endpoint answering 10 MB costs 64 KiB. */
const readLimitBytes = 64 * 1_024;

const agents = {
  'http:': new http.Agent({ keepAlive: true, maxSockets: 50 }),
  'https:': new https.Agent({ keepAlive: true, maxSockets: 50 }),
};

/**
 * POSTs `body` to `url` as an outbound webhook: http(s) only, public addresses only (see
 * address-guard.ts), redirects not followed (a 3xx is an answer like any other), one deadline for
 * connecting, sending and reading, and at most 64 KiB of the answer read. Never throws.
 */
export function postWebhook(url: string, body: string, headers: Record<string, string>, options: PostOptions): Promise<PostOutcome> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  return new Promise((resolve) => {
    const fail = (error: string, refused = false) => resolve({ answered: false, error: error.slice(0, 1_000), refused, durationMs: elapsed() });
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return fail('not a URL', true);
    }
    if (target.protocol !== 'http:' && target.protocol !== 'https:') return fail(`refused: ${target.protocol} is not http or https`, true);
    const literal = options.allowPrivate ? undefined : refusedLiteral(target);
    if (literal) return fail(`refused: ${literal.address} is a ${literal.range} address`, true);

    const request = (target.protocol === 'https:' ? https : http).request(target, {
      method: 'POST',
      agent: agents[target.protocol],
      lookup: guardedLookup(options.allowPrivate),
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'user-agent': 'Herald-Webhooks/1', ...headers },
    });
    const deadline = setTimeout(() => request.destroy(new Error(`timed out after ${options.timeoutMs} ms`)), options.timeoutMs);
    const settle = (outcome: () => void) => {
      clearTimeout(deadline);
      outcome();
    };
    request.on('error', (err: NodeJS.ErrnoException) => {
      const refused = err.name === 'RefusedAddressError';
      settle(() => fail(err.code && !refused && !err.message.includes(err.code) ? `${err.code}: ${err.message}` : err.message, refused));
    });
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      let read = 0;
      const answer = () =>
        settle(() =>
          resolve({
            answered: true,
            statusCode: response.statusCode ?? 0,
            retryAfter: typeof response.headers['retry-after'] === 'string' ? response.headers['retry-after'] : undefined,
            excerpt: Buffer.concat(chunks).subarray(0, excerptBytes).toString('utf8').replace(/\uFFFD+$/, ''),
            durationMs: elapsed(),
          }),
        );
      response.on('data', (chunk: Buffer) => {
        if (read < excerptBytes) chunks.push(chunk);
        read += chunk.length;
        if (read > readLimitBytes) {
          // Enough of it: the status is what counts. Dropping the socket stops the rest.
          response.destroy();
          answer();
        }
      });
      response.on('end', answer);
      // A reset mid-answer still leaves the status it sent.
      response.on('error', answer);
    });
    request.end(body);
  });
}
