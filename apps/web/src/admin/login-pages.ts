import { Router } from 'express';
import { secretsEqual } from '../http/admin-auth.js';
import { createAuthThrottle } from '../http/auth-throttle.js';
import { HttpError } from '../http/http-error.js';
import type { AdminContext } from './admin-context.js';

/** Log in with ADMIN_PASSWORD (throttled per client address, see auth-throttle.ts) and log out. */
export function loginPages({ deps, security, form, render }: AdminContext): Router {
  const { config, redis } = deps;
  const throttle = createAuthThrottle(redis, config.queuePrefix, 'login');
  const router = Router();

  router.get('/admin/login', async (req, res) => {
    if (await security.isAdmin(req)) return res.redirect(303, '/admin');
    render(req, res, 'login', { title: 'Log in', error: null });
  });

  router.post('/admin/login', form, security.csrfProtection, async (req, res) => {
    const ip = req.ip ?? 'unknown';
    try {
      await throttle.check(ip);
    } catch (err) {
      if (!(err instanceof HttpError)) throw err;
      req.log.warn({ ip }, 'admin login refused: too many wrong passwords');
      res.status(err.status).set(err.headers ?? {});
      return render(req, res, 'login', { title: 'Log in', error: err.message });
    }
    const password = typeof req.body?.password === 'string' ? req.body.password : '';
    if (!secretsEqual(password, config.adminPassword)) {
      const left = await throttle.fail(ip);
      req.log.warn({ ip, attemptsLeft: left }, 'admin login failed');
      res.status(401);
      const warning = left === 0 ? ' That was the last attempt for 15 minutes.' : left <= 2 ? ` ${left} attempt${left === 1 ? '' : 's'} left.` : '';
      return render(req, res, 'login', { title: 'Log in', error: `That password is not right.${warning}` });
    }
    await throttle.succeed(ip);
    await security.logIn(req);
    res.redirect(303, '/admin');
  });

  router.post('/admin/logout', form, security.csrfProtection, async (req, res) => {
    await security.logOut(req);
    res.redirect(303, '/admin/login');
  });

  return router;
}
