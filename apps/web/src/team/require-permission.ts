import type { RequestHandler, Response } from 'express';
import { HttpError } from '../http/http-error.js';
import type { Actor } from './actor.js';
import { roleCan } from './roles.js';
import type { Permission } from './roles.js';

/** A permission check, carrying its permission so the role-matrix test can read every route's. */
export type PermissionCheck = RequestHandler & { permission: Permission };

export function actorOf(res: Response): Actor | undefined {
  return res.locals.actor as Actor | undefined;
}

/**
 * The one check of what a role may do, for pages and API alike. It runs after the session or
 * bearer check put the actor in `res.locals.actor`, and before anything reads the body, so a
 * refused request changes nothing and learns nothing about its target.
 */
export function requirePermission(permission: Permission): PermissionCheck {
  const check: RequestHandler = (_req, res, next) => {
    assertPermission(res, permission);
    next();
  };
  return Object.assign(check, { permission });
}

/** The same check inside a route, for what only some requests to it do (401 or 403 if refused). */
export function assertPermission(res: Response, permission: Permission): void {
  const actor = actorOf(res);
  if (!actor) throw new HttpError(401, 'unauthorized', 'Log in first.');
  if (!roleCan(actor.role, permission)) {
    throw new HttpError(403, 'forbidden', `Your role (${actor.role}) does not allow this (${permission}).`);
  }
}
