import type { RequestHandler } from 'express';
import { secretsEqual } from '@herald/shared';
import type { WebDeps } from '../deps.js';
import { bootstrapTokenActor } from '../team/actor.js';
import { actorForApiToken } from '../team/api-tokens.js';
import { requirePermission } from '../team/require-permission.js';
import type { Permission } from '../team/roles.js';
import { createAuthThrottle } from './auth-throttle.js';
import { HttpError } from './http-error.js';

// Admin pages compare secrets with it too; one constant-time comparison for every secret.
export { secretsEqual };

/**
 * The admin JSON API: `Authorization: Bearer <token>`, where the token is a user's personal API
 * token or ADMIN_TOKEN (the owner's bootstrap token), or 401. `apiAccess(deps)('campaigns:send')`
 * is the pair every API route starts with: this check, then the role's permission (403).
 *
 * A request with no Authorization header is not a guess and is not counted; wrong tokens are, per
 * client address, and an address that guessed too often gets 429 (see auth-throttle.ts). The API
 * keeps working while Redis is down (Postgres holds the work and the tokens), so an unreachable
 * throttle store lets requests through, logged, rather than turning the whole API into a 503. A
 * token is 256 random bits: a few minutes of unthrottled guessing during an outage gains nothing.
 */
export function apiAccess(deps: Pick<WebDeps, 'config' | 'redis' | 'db'>) {
  const authenticate = bearerAuthentication(deps);
  return (permission: Permission): RequestHandler[] => [authenticate, requirePermission(permission)];
}

export type ApiAccess = ReturnType<typeof apiAccess>;

function bearerAuthentication({ config, redis, db }: Pick<WebDeps, 'config' | 'redis' | 'db'>): RequestHandler {
  const throttle = createAuthThrottle(redis, config.queuePrefix, 'api');
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
    const token = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')?.[1];
    const actor = !token ? null : secretsEqual(token, config.adminToken) ? bootstrapTokenActor : await actorForApiToken(db, token, req.ip);
    if (!actor) {
      if (header !== undefined) {
        const left = await unlessRedisIsDown(() => throttle.fail(ip));
        req.log.warn({ ip, attemptsLeft: left }, 'admin api token refused');
      }
      res.set('WWW-Authenticate', 'Bearer realm="herald-admin"');
      throw new HttpError(401, 'unauthorized', 'A valid bearer token is required.');
    }
    res.locals.actor = actor;
    next();
  };
}
