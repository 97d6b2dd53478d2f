import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { HttpError } from './http-error.js';

/** Compares secrets in constant time; hashing first makes the lengths equal too. */
export function secretsEqual(given: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

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
