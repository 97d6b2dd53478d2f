import { createHmac, randomBytes } from 'node:crypto';
import cookieParser from 'cookie-parser';
import cookieSession from 'cookie-session';
import { doubleCsrf } from 'csrf-csrf';
import type { Request, RequestHandler } from 'express';
import { secretsEqual } from '@herald/shared';
import type { Redis } from 'ioredis';
import type { Db } from '@herald/shared';
import type { WebConfig } from '../config.js';
import type { Actor } from '../team/actor.js';

const sessionSeconds = 8 * 60 * 60;

type AdminSession = { sid?: string; userId?: string };

function sessionOf(req: Request): AdminSession {
  return (req.session ?? {}) as AdminSession;
}

const newSessionId = () => randomBytes(16).toString('hex');

/**
 * The admin pages' session and CSRF protection.
 *
 * The cookie is signed and carries a random session id and the user's id; a logged-in session also
 * has a record in Redis (shared by every web replica) holding a fingerprint of the user's password
 * hash when it was opened. A session counts only while its record exists, the fingerprint matches
 * and the user (read from Postgres on every request) is enabled: logging out (which deletes the
 * record) ends it for a copied cookie too, a new password ends every session opened with the old
 * one, and disabling or removing a user ends theirs at once. Losing Redis's data only logs people
 * out.
 *
 * CSRF uses signed double-submit tokens tied to the session id, sent as a hidden `_csrf` field.
 */
export function createAdminSecurity(config: WebConfig, redis: Redis, db: Db) {
  const secure = config.publicUrl.startsWith('https://');
  const session = cookieSession({
    name: 'herald_admin',
    keys: [config.sessionSecret],
    maxAge: sessionSeconds * 1000,
    httpOnly: true,
    sameSite: 'lax',
    secure,
    path: '/admin',
  });
  const fingerprint = (passwordHash: string) => createHmac('sha256', config.sessionSecret).update(`user-password:${passwordHash}`).digest('hex');
  const recordKey = (sid: string) => `${config.queuePrefix}:admin-session:${sid}`;

  const csrf = doubleCsrf({
    getSecret: () => config.sessionSecret,
    getSessionIdentifier: (req) => sessionOf(req).sid ?? '',
    cookieName: secure ? '__Host-herald.csrf' : 'herald.csrf',
    cookieOptions: { sameSite: 'strict', secure, httpOnly: true, path: '/' },
    getCsrfTokenFromRequest: (req) => (req.body as Record<string, unknown> | undefined)?._csrf as string | undefined,
  });

  /** Every visitor of the admin pages gets a session id, so even the login form is CSRF-protected. */
  const ensureSessionId: RequestHandler = (req, _res, next) => {
    const current = sessionOf(req);
    if (!current.sid) req.session = { ...current, sid: newSessionId() };
    next();
  };

  return {
    /** Session cookie, cookie parsing and a session id: mount before every admin route. */
    middleware: [session, cookieParser(), ensureSessionId] as RequestHandler[],
    csrfProtection: csrf.doubleCsrfProtection,
    csrfToken: csrf.generateCsrfToken,
    /** For forms read by hand (the multipart import), after their fields are in `req.body`. */
    validateCsrf: csrf.validateRequest,
    /** The user the request's session belongs to, if it is logged in and not revoked (one Redis and one Postgres read). */
    async sessionActor(req: Request): Promise<Actor | null> {
      const { sid, userId } = sessionOf(req);
      if (!sid || !userId) return null;
      const record = await redis.get(recordKey(sid));
      if (!record) return null;
      const user = await db.user.findUnique({ where: { id: userId }, select: { email: true, role: true, passwordHash: true, disabledAt: true } });
      if (!user?.passwordHash || user.disabledAt || !secretsEqual(record, `${userId}:${fingerprint(user.passwordHash)}`)) return null;
      return { userId, tokenId: null, label: user.email, role: user.role };
    },
    /** A new session id on login, so a session fixed before login is worth nothing after it. */
    async logIn(req: Request, user: { id: string; passwordHash: string }): Promise<void> {
      const sid = newSessionId();
      await redis.set(recordKey(sid), `${user.id}:${fingerprint(user.passwordHash)}`, 'EX', sessionSeconds);
      req.session = { sid, userId: user.id };
    },
    async logOut(req: Request): Promise<void> {
      const { sid } = sessionOf(req);
      if (sid) await redis.del(recordKey(sid));
      req.session = null;
    },
  };
}

export type AdminSecurity = ReturnType<typeof createAdminSecurity>;
