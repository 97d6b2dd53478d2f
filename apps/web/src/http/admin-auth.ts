import type { RequestHandler } from 'express';
import { secretsEqual } from '@herald/shared';
import type { WebDeps } from '../deps.js';
import { createAuthThrottle } from './auth-throttle.js';
import { HttpError } from './http-error.js';

// Admin pages compare the password with it too; one constant-time comparison for every secret.
export { secretsEqual };

/**
 * The admin JSON API: `Authorization: Bearer $ADMIN_TOKEN`, or 401. A request with no
 * Authorization header is not a guess and is not counted; wrong tokens are, per client address,
 * and an address that guessed too often gets 429 (see auth-throttle.ts).
 *
 * The API keeps working while Redis is down (Postgres holds the work; the reconciler enqueues it
 * later), so an unreachable throttle store lets requests through, logged, rather than turning the
 * whole API into a 503. The token is 32+ random characters: a few minutes of unthrottled guessing
 * during an outage does not make it guessable.
 */
export function requireAdminToken(deps: Pick<WebDeps, 'config' | 'redis'>): RequestHandler {
  const throttle = createAuthThrottle(deps.redis, deps.config.queuePrefix, 'api');
  return async (req, res, next) => {
    const header = req.get('authorization');
    const ip = req.ip ?? 'unknown';
    const unlessRedisIsDown = async <T>(step: () => Promise<T>): Promise<T | undefined> => {
      try {
        return await step();
      } catch (err) {
        if (err instanceof HttpError) throw err;
        req.log.warn({ err: (err as Error).message }, 'auth throttle unavailable; request not throttled');
        return undefined;
      }
    };
    if (header !== undefined) await unlessRedisIsDown(() => throttle.check(ip));
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
    if (!match?.[1] || !secretsEqual(match[1], deps.config.adminToken)) {
      if (header !== undefined) {
        const left = await unlessRedisIsDown(() => throttle.fail(ip));
        req.log.warn({ ip, attemptsLeft: left }, 'admin api token refused');
      }
      res.set('WWW-Authenticate', 'Bearer realm="herald-admin"');
      throw new HttpError(401, 'unauthorized', 'A valid admin bearer token is required.');
    }
    next();
  };
}
