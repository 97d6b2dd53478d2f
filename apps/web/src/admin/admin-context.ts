import express from 'express';
import type { Request, RequestHandler, Response } from 'express';
import type { WebDeps } from '../deps.js';
import { HttpError } from '../http/http-error.js';
import type { AdminSecurity } from './admin-security.js';

/** What every group of admin pages shares: the deps, the session, the form parser and the renderer. */
export type AdminContext = {
  deps: WebDeps;
  security: AdminSecurity;
  /** Parses an urlencoded form; bodies and field counts are bounded. */
  form: RequestHandler;
  /** Lets a logged-in admin through; sends anyone else to the login page (GET) or refuses (401). */
  requireAdmin: RequestHandler;
  render(req: Request, res: Response, view: string, locals: Record<string, unknown>): void;
};

export function createAdminContext(deps: WebDeps, security: AdminSecurity): AdminContext {
  return {
    deps,
    security,
    form: express.urlencoded({ limit: '3mb', extended: false, parameterLimit: 30 }),
    async requireAdmin(req, res, next) {
      if (await security.isAdmin(req)) {
        res.locals.isAdmin = true;
        return next();
      }
      if (req.method === 'GET' || req.method === 'HEAD') return res.redirect(303, '/admin/login');
      throw new HttpError(401, 'unauthorized', 'Log in first.');
    },
    render(req, res, view, locals) {
      res.render(`admin/${view}`, locals);
    },
  };
}
