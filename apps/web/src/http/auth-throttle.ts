import { Counter } from 'prom-client';
import { RateLimiterRedis } from 'rate-limiter-flexible';
import type { RateLimiterRes } from 'rate-limiter-flexible';
import type { Redis } from 'ioredis';
import { HttpError } from './http-error.js';

/** Wrong secrets allowed per client address and window, before the address is refused for the rest of it. */
export const maxAuthFailures = 5;
export const authFailureWindowSeconds = 15 * 60;

export type AuthKind = 'login' | 'api';

/**
 * Registered by metrics.ts on the web's registry. Module-level like prom-client's own default
 * metrics: the count is per process, whatever number of apps a test builds in it.
 */
export const authFailuresCounter = new Counter({
  name: 'herald_auth_failures_total',
  help: 'Wrong admin passwords (login) and bearer tokens (api), and requests refused while an address was throttled.',
  labelNames: ['kind', 'outcome'] as const,
  registers: [],
});

/**
 * Throttles guessing of the admin password and the API token: after `maxAuthFailures` wrong
 * secrets from one client address within the window, every attempt from it is refused with 429
 * until the window ends, even with the right secret (else the throttle would only slow a guesser
 * down). The counters live in Redis, so every web replica shares them; with Redis down the check
 * fails: the login page answers 503 (see admin-auth.ts for the API).
 */
export function createAuthThrottle(redis: Redis, keyPrefix: string, kind: AuthKind) {
  const limiter = new RateLimiterRedis({
    storeClient: redis,
    keyPrefix: `${keyPrefix}:auth-failures:${kind}`,
    points: maxAuthFailures,
    duration: authFailureWindowSeconds,
  });

  const refuse = (retryAfterSeconds: number): HttpError => {
    authFailuresCounter.inc({ kind, outcome: 'throttled' });
    const minutes = Math.max(1, Math.ceil(retryAfterSeconds / 60));
    return new HttpError(
      429,
      'too_many_attempts',
      `Too many wrong attempts from your address. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`,
      undefined,
      { 'Retry-After': String(retryAfterSeconds) },
    );
  };

  return {
    /** Throws a 429 if this address has used up its attempts. */
    async check(ip: string): Promise<void> {
      const state = await limiter.get(ip);
      if (state && state.consumedPoints >= maxAuthFailures) throw refuse(secondsLeft(state));
    },
    /** Records a wrong secret; returns how many attempts are left in the window. */
    async fail(ip: string): Promise<number> {
      authFailuresCounter.inc({ kind, outcome: 'wrong' });
      try {
        const state = await limiter.consume(ip);
        return state.remainingPoints;
      } catch (err) {
        // rate-limiter-flexible rejects with the limiter state once the points are gone.
        if (isLimiterState(err)) return 0;
        throw err;
      }
    },
    /** A correct secret clears the address's count. */
    async succeed(ip: string): Promise<void> {
      await limiter.delete(ip);
    },
  };
}

export type AuthThrottle = ReturnType<typeof createAuthThrottle>;

function secondsLeft(state: RateLimiterRes): number {
  return Math.max(1, Math.ceil(state.msBeforeNext / 1000));
}

function isLimiterState(err: unknown): err is RateLimiterRes {
  return typeof err === 'object' && err !== null && 'msBeforeNext' in err && !(err instanceof Error);
}
