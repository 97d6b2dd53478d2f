import type { RequestHandler } from 'express';
import { secretsEqual } from '@herald/shared';
import { HttpError } from './http-error.js';

// Admin pages compare the password with it too; one constant-time comparison for every secret.
export { secretsEqual };

/** The admin JSON API: `Authorization: Bearer $ADMIN_TOKEN`, or 401. */
export function requireAdminToken(adminToken: string): RequestHandler {
  return (req, res, next) => {
    const header = req.get('authorization') ?? '';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match?.[1] || !secretsEqual(match[1], adminToken)) {
      res.set('WWW-Authenticate', 'Bearer realm="herald-admin"');
      throw new HttpError(401, 'unauthorized', 'A valid admin bearer token is required.');
    }
    next();
  };
}
