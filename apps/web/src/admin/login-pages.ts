import { Router } from 'express';
import { createAuthThrottle } from '../http/auth-throttle.js';
import { HttpError } from '../http/http-error.js';
import { recordAudit } from '../team/audit.js';
import { checkPassword } from '../team/check-password.js';
import { ensureFirstOwner } from '../team/first-owner.js';
import type { AdminContext } from './admin-context.js';

const minutes = (seconds: number) => {
  const count = Math.max(1, Math.ceil(seconds / 60));
  return `${count} minute${count === 1 ? '' : 's'}`;
};

/**
 * The first owner's email while nobody has logged in yet (a new install, or one just upgraded from
 * the single ADMIN_PASSWORD, whose operator has never had to type an email): the login page names
 * it so the password they know still gets them in. Gone after the first login.
 */
async function firstOwnerHint(db: AdminContext['deps']['db'], adminEmail: string): Promise<string | null> {
  const users = await db.user.findMany({ select: { email: true, lastLoginAt: true }, take: 2 });
  if (users.length === 0) return adminEmail;
  return users.length === 1 && users[0]!.email === adminEmail && !users[0]!.lastLoginAt ? adminEmail : null;
}

/**
 * Log in with an email and password (throttled per client address, see auth-throttle.ts, and per
 * account, see check-password.ts) and log out. Every attempt is in the audit log.
 */
export function loginPages({ deps, security, form, render }: AdminContext): Router {
  const { config, redis, db } = deps;
  const throttle = createAuthThrottle(redis, config.queuePrefix, 'login');
  const router = Router();

  router.get('/admin/login', async (req, res) => {
    if (await security.sessionActor(req)) return res.redirect(303, '/admin');
    render(req, res, 'login', { title: 'Log in', error: null, firstOwner: await firstOwnerHint(db, config.adminEmail) });
  });

  router.post('/admin/login', form, security.csrfProtection, async (req, res) => {
    const ip = req.ip ?? 'unknown';
    const email = typeof req.body?.email === 'string' ? req.body.email.trim().toLowerCase().slice(0, 254) : '';
    const password = typeof req.body?.password === 'string' ? req.body.password : '';
    const refuse = (status: number, error: string) => {
      res.status(status);
      render(req, res, 'login', { title: 'Log in', error, email, firstOwner: null });
    };
    try {
      await throttle.check(ip);
    } catch (err) {
      if (!(err instanceof HttpError)) throw err;
      req.log.warn({ ip }, 'admin login refused: too many wrong passwords');
      res.set(err.headers ?? {});
      return refuse(err.status, err.message);
    }
    await ensureFirstOwner(db, config, req.log);
    const checked = await checkPassword(db, email, password);
    if (checked.outcome === 'locked') {
      req.log.warn({ ip, email }, 'admin login refused: account locked');
      await recordAudit(db, { actor: { userId: null, label: email || '(no email)' }, action: 'login.failed', address: ip, details: { reason: 'locked' } });
      res.set('Retry-After', String(checked.retryAfterSeconds));
      return refuse(429, `Too many wrong passwords for this account. Try again in ${minutes(checked.retryAfterSeconds)}.`);
    }
    if (checked.outcome === 'wrong') {
      const left = Math.min(await throttle.fail(ip), checked.attemptsLeft ?? Infinity);
      req.log.warn({ ip, attemptsLeft: left }, 'admin login failed');
      await recordAudit(db, { actor: { userId: null, label: email || '(no email)' }, action: 'login.failed', address: ip });
      const warning = left === 0 ? ' That was the last attempt for 15 minutes.' : left <= 2 ? ` ${left} attempt${left === 1 ? '' : 's'} left.` : '';
      return refuse(401, `That email and password do not match.${warning}`);
    }
    await throttle.succeed(ip);
    await security.logIn(req, checked.user);
    await recordAudit(db, { actor: { userId: checked.user.id, label: checked.user.email }, action: 'login.succeeded', address: ip });
    res.redirect(303, '/admin');
  });

  router.post('/admin/logout', form, security.csrfProtection, async (req, res) => {
    await security.logOut(req);
    res.redirect(303, '/admin/login');
  });

  return router;
}
