import { Router } from 'express';
import type { WebDeps } from '../deps.js';
import { HttpError } from '../http/http-error.js';
import { apiAccess } from '../http/admin-auth.js';
import { requireJsonBody } from '../http/json-body.js';
import { parseBody, parseId } from '../http/parse-request.js';
import { auditRequest } from '../team/audit.js';
import { auditUserChange } from '../team/audit-user-change.js';
import { inviteUserBody, updateUserBody } from '../team/user-schema.js';
import { changeUser, inviteUser, lastOwnerMessage, listUsers, removeUser, resendInvitation } from '../team/users.js';

const jsonBody = requireJsonBody('16kb');

const notFound = () => new HttpError(404, 'not_found', 'No user with that id.');
const lastOwner = () => new HttpError(409, 'invalid_state', lastOwnerMessage);

/** The team: invite people, change their roles, disable, enable and remove them. Owners only. */
export function userRoutes(deps: WebDeps): Router {
  const { db, queues, logger } = deps;
  const router = Router();
  const can = apiAccess(deps);

  router.get('/users', ...can('users:manage'), async (_req, res) => {
    res.json({ users: await listUsers(db) });
  });

  router.post('/users', ...can('users:manage'), ...jsonBody, async (req, res) => {
    const input = parseBody(inviteUserBody, req.body);
    const user = await inviteUser(db, queues, logger, input);
    if (user === 'taken') throw new HttpError(409, 'conflict', 'A user with this email already exists.', { email: 'is already on the team' });
    await auditRequest(db, req, res, 'user.invited', { type: 'user', id: user.id, label: user.email }, { role: user.role });
    res.status(201).json(user);
  });

  router.patch('/users/:id', ...can('users:manage'), ...jsonBody, async (req, res) => {
    const id = parseId(req.params.id, 'user');
    const change = await changeUser(db, id, parseBody(updateUserBody, req.body));
    if (change === 'not_found') throw notFound();
    if (change === 'last_owner') throw lastOwner();
    await auditUserChange(db, req, res, change);
    res.json(change.after);
  });

  router.delete('/users/:id', ...can('users:manage'), async (req, res) => {
    const removed = await removeUser(db, parseId(req.params.id, 'user'));
    if (removed === 'not_found') throw notFound();
    if (removed === 'last_owner') throw lastOwner();
    await auditRequest(db, req, res, 'user.removed', { type: 'user', id: removed.id, label: removed.email }, { role: removed.role });
    res.status(204).end();
  });

  router.post('/users/:id/invitation', ...can('users:manage'), async (req, res) => {
    const sent = await resendInvitation(db, queues, logger, parseId(req.params.id, 'user'));
    if (sent === 'not_found') throw notFound();
    if (sent === 'joined') throw new HttpError(409, 'invalid_state', 'This user has joined already: there is no invitation to send.');
    if (sent === 'disabled') throw new HttpError(409, 'invalid_state', 'This user is disabled; enable them first.');
    await auditRequest(db, req, res, 'user.invited', { type: 'user', id: sent.id, label: sent.email }, { role: sent.role, resent: true });
    res.status(202).json(sent);
  });

  return router;
}
