import { Router } from 'express';
import type { Response } from 'express';
import type { WebDeps } from '../deps.js';
import { apiAccess } from '../http/admin-auth.js';
import { HttpError } from '../http/http-error.js';
import { requireJsonBody } from '../http/json-body.js';
import { parseBody, parseId } from '../http/parse-request.js';
import { createApiToken, tokenView } from '../team/api-tokens.js';
import { auditRequest } from '../team/audit.js';
import { actorOf } from '../team/require-permission.js';
import { roleAtMost } from '../team/roles.js';
import { createTokenBody } from '../team/token-input.js';
import { listUserTokens, revokeToken } from '../team/token-store.js';

const jsonBody = requireJsonBody('4kb');

/** ADMIN_TOKEN belongs to no user, so it has no tokens to list and cannot be the owner of new ones. */
export const bootstrapTokenMessage = 'ADMIN_TOKEN belongs to no user, so it has no tokens of its own: log in as a user (or use one of their tokens) to create and list tokens.';

/** The user the request acts for; the bootstrap token has none. */
function callerUserId(res: Response): string {
  const userId = actorOf(res)?.userId;
  if (!userId) throw new HttpError(409, 'invalid_state', bootstrapTokenMessage);
  return userId;
}

/** Personal API tokens: one's own, created with at most one's own role, and revoked. */
export function tokenRoutes(deps: WebDeps): Router {
  const { db } = deps;
  const router = Router();
  const can = apiAccess(deps);

  router.get('/tokens', ...can('tokens:own'), async (_req, res) => {
    res.json({ tokens: await listUserTokens(db, callerUserId(res)) });
  });

  router.post('/tokens', ...can('tokens:own'), ...jsonBody, async (req, res) => {
    const userId = callerUserId(res);
    const input = parseBody(createTokenBody, req.body);
    // The actor's role is already the lower of its token's and its user's: a token cannot mint a
    // token above what it may do itself.
    const ceiling = actorOf(res)!.role;
    if (!roleAtMost(input.role, ceiling)) {
      throw new HttpError(403, 'forbidden', `A token can have at most your own role (${ceiling}); ${input.role} is above it.`);
    }
    const { row, token } = await createApiToken(db, userId, { name: input.name, role: input.role, expiresAt: input.expiresAt ?? undefined });
    await auditRequest(db, req, res, 'token.created', { type: 'token', id: row.id, label: row.name }, { role: row.role, expiresAt: row.expiresAt?.toISOString() ?? null });
    res.set('Cache-Control', 'no-store');
    res.status(201).json({ ...tokenView(row), token });
  });

  router.delete('/tokens/:id', ...can('tokens:own'), async (req, res) => {
    const revoked = await revokeToken(db, actorOf(res)!, parseId(req.params.id, 'token'));
    if (!revoked) throw new HttpError(404, 'not_found', 'No token of yours with that id.');
    if (!revoked.alreadyRevoked) {
      await auditRequest(db, req, res, 'token.revoked', { type: 'token', id: revoked.id, label: revoked.name }, { ownerUserId: revoked.userId });
    }
    res.status(204).end();
  });

  return router;
}
