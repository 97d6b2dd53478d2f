import { randomBytes } from 'node:crypto';
import cookieParser from 'cookie-parser';
import cookieSession from 'cookie-session';
import { doubleCsrf } from 'csrf-csrf';
import type { Request, RequestHandler } from 'express';
import type { WebConfig } from '../config.js';

const sessionHours = 8;

type AdminSession = { sid?: string; admin?: boolean };

function sessionOf(req: Request): AdminSession {
  return (req.session ?? {}) as AdminSession;
}

/**
 * The admin pages' session and CSRF protection. The session is a signed cookie (no server state, so
 * any web replica can serve any admin); CSRF uses signed double-submit tokens tied to the session id,
 * sent as a hidden `_csrf` form field.
 */
export function createAdminSecurity(config: WebConfig) {
  const secure = config.publicUrl.startsWith('https://');
  const session = cookieSession({
    name: 'herald_admin',
    keys: [config.sessionSecret],
    maxAge: sessionHours * 60 * 60 * 1000,
    httpOnly: true,
    sameSite: 'lax',
    secure,
    path: '/admin',
  });

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
    if (!current.sid) req.session = { ...current, sid: randomBytes(16).toString('hex') };
    next();
  };

  return {
    /** Session cookie, cookie parsing and a session id: mount before every admin route. */
    middleware: [session, cookieParser(), ensureSessionId] as RequestHandler[],
    csrfProtection: csrf.doubleCsrfProtection,
    csrfToken: csrf.generateCsrfToken,
    isAdmin: (req: Request) => sessionOf(req).admin === true,
    /** A new session id on login, so a session fixed before login is worth nothing after it. */
    logIn(req: Request) {
      req.session = { sid: randomBytes(16).toString('hex'), admin: true };
    },
    logOut(req: Request) {
      req.session = null;
    },
  };
}

export type AdminSecurity = ReturnType<typeof createAdminSecurity>;
