import { createHmac, randomBytes } from 'node:crypto';
import cookieParser from 'cookie-parser';
import cookieSession from 'cookie-session';
import { doubleCsrf } from 'csrf-csrf';
import type { Request, RequestHandler } from 'express';
import type { Redis } from 'ioredis';
import type { WebConfig } from '../config.js';

const sessionSeconds = 8 * 60 * 60;

type AdminSession = { sid?: string; admin?: boolean };

function sessionOf(req: Request): AdminSession {
  return (req.session ?? {}) as AdminSession;
}

const newSessionId = () => randomBytes(16).toString('hex');

/**
 * The admin pages' session and CSRF protection.
 *
 * The cookie is signed and carries a random session id; a logged-in session also has a record in
 * Redis (shared by every web replica) holding a fingerprint of the admin password it was opened
 * with. A session counts only while its record exists and the fingerprint matches, so logging out
 * (which deletes the record) ends it for a copied cookie too, and changing ADMIN_PASSWORD ends
 * every session opened with the old one. Losing Redis's data only logs the admin out.
 *
 * CSRF uses signed double-submit tokens tied to the session id, sent as a hidden `_csrf` field.
 */
export function createAdminSecurity(config: WebConfig, redis: Redis) {
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
  const passwordFingerprint = createHmac('sha256', config.sessionSecret).update(`admin-password:${config.adminPassword}`).digest('hex');
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
    /** Whether the request's session is logged in and not revoked (one Redis read). */
    async isAdmin(req: Request): Promise<boolean> {
      const { sid, admin } = sessionOf(req);
      if (admin !== true || !sid) return false;
      return (await redis.get(recordKey(sid))) === passwordFingerprint;
    },
    /** A new session id on login, so a session fixed before login is worth nothing after it. */
    async logIn(req: Request): Promise<void> {
      const sid = newSessionId();
      await redis.set(recordKey(sid), passwordFingerprint, 'EX', sessionSeconds);
      req.session = { sid, admin: true };
    },
    async logOut(req: Request): Promise<void> {
      const { sid } = sessionOf(req);
      if (sid) await redis.del(recordKey(sid));
      req.session = null;
    },
  };
}

export type AdminSecurity = ReturnType<typeof createAdminSecurity>;
