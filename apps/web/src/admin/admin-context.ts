import express from 'express';
import type { Request, RequestHandler, Response } from 'express';
import type { WebDeps } from '../deps.js';
import { HttpError } from '../http/http-error.js';
import { requirePermission } from '../team/require-permission.js';
import { roleCan } from '../team/roles.js';
import type { Permission } from '../team/roles.js';
import type { AdminSecurity } from './admin-security.js';

/** What every group of admin pages shares: the deps, the session, the form parser and the renderer. */
export type AdminContext = {
  deps: WebDeps;
  security: AdminSecurity;
  /** Parses an urlencoded form; bodies and field counts are bounded. */
  form: RequestHandler;
  /**
   * What every admin page starts with: the session (anyone without one is sent to the login page
   * on GET, refused with 401 otherwise), then the role's permission (403 inside the admin layout).
   */
  can(permission: Permission): RequestHandler[];
  render(req: Request, res: Response, view: string, locals: Record<string, unknown>): void;
};

export function createAdminContext(deps: WebDeps, security: AdminSecurity): AdminContext {
  const requireSession: RequestHandler = async (req, res, next) => {
    const actor = await security.sessionActor(req);
    if (actor) {
      res.locals.actor = actor;
      // The templates hide what the role cannot do; the routes refuse it anyway.
      res.locals.can = (permission: Permission) => roleCan(actor.role, permission);
      return next();
    }
    if (req.method === 'GET' || req.method === 'HEAD') return res.redirect(303, '/admin/login');
    throw new HttpError(401, 'unauthorized', 'Log in first.');
  };
  return {
    deps,
    security,
    form: express.urlencoded({ limit: '3mb', extended: false, parameterLimit: 30 }),
    can: (permission) => [requireSession, requirePermission(permission)],
    render(req, res, view, locals) {
      res.render(`admin/${view}`, locals);
    },
  };
}
