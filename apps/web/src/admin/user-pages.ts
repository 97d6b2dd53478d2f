import { Router } from 'express';
import type { Request, Response } from 'express';
import { fieldErrors } from '../http/field-errors.js';
import { HttpError } from '../http/http-error.js';
import { parseId } from '../http/parse-request.js';
import { auditRequest } from '../team/audit.js';
import { auditUserChange } from '../team/audit-user-change.js';
import { actorOf } from '../team/require-permission.js';
import { roleDescriptions, roles } from '../team/roles.js';
import { inviteUserBody, updateUserBody } from '../team/user-schema.js';
import { changeUser, findUser, inviteUser, lastOwnerMessage, listUsers, removeUser, resendInvitation } from '../team/users.js';
import type { UpdateUserInput } from '../team/user-schema.js';
import type { AdminContext } from './admin-context.js';

type InviteValues = { email: string; name: string; role: string };

const text = (value: unknown) => (typeof value === 'string' ? value : '');

const notices: Record<string, string> = {
  invited: 'The invitation is on its way. The link in it works for 7 days.',
  resent: 'A new invitation is on its way; the link in the earlier one no longer works.',
  'role-changed': 'The role is changed. Their sessions and tokens act with it from their next request.',
  disabled: 'Disabled: their sessions and API tokens stopped working at once.',
  enabled: 'Enabled: they can log in again, and their API tokens work again.',
  removed: 'Removed, with their API tokens. The audit log keeps what they did.',
};

const noticeOf = (req: Request) => (typeof req.query.notice === 'string' ? (notices[req.query.notice] ?? null) : null);

const roleChoices = [...roles].reverse().map((role) => ({ role, description: roleDescriptions[role] }));

/** The team: who can log in and with what role, invitations, role changes, disabling and removing. */
export function userPages({ deps, security, form, can, render }: AdminContext): Router {
  const { db, queues } = deps;
  const router = Router();
  const gone = () => new HttpError(404, 'not_found', 'No user with that id. They may have been removed.');
  const findOr404 = async (raw: unknown) => {
    const user = await findUser(db, parseId(raw, 'user'));
    if (!user) throw gone();
    return user;
  };

  const showTeam = async (req: Request, res: Response, values: InviteValues, errors: Record<string, string>) => {
    render(req, res, 'users', { title: 'Team', users: await listUsers(db), notice: noticeOf(req), roleChoices, values, errors });
  };

  const showUser = async (req: Request, res: Response, id: unknown, error: string | null = null) => {
    const user = await findOr404(id);
    const self = actorOf(res)?.userId === user.id;
    render(req, res, 'users-show', { title: user.email, user, self, notice: noticeOf(req), error, roleChoices });
  };

  router.get('/admin/users', ...can('users:manage'), async (req, res) => {
    await showTeam(req, res, { email: '', name: '', role: 'editor' }, {});
  });

  router.post('/admin/users', ...can('users:manage'), form, security.csrfProtection, async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const values = { email: text(body.email).trim(), name: text(body.name), role: text(body.role) };
    const parsed = inviteUserBody.safeParse({ email: values.email, name: values.name.trim() ? values.name : null, role: values.role });
    if (!parsed.success) {
      res.status(422);
      return showTeam(req, res, values, fieldErrors(parsed.error));
    }
    const user = await inviteUser(db, queues, req.log, parsed.data);
    if (user === 'taken') {
      res.status(409);
      return showTeam(req, res, values, { email: 'Someone on the team already has this email.' });
    }
    await auditRequest(db, req, res, 'user.invited', { type: 'user', id: user.id, label: user.email }, { role: user.role });
    res.redirect(303, `/admin/users/${user.id}?notice=invited`);
  });

  router.get('/admin/users/:id', ...can('users:manage'), async (req, res) => {
    await showUser(req, res, req.params.id);
  });

  const change = async (req: Request, res: Response, input: UpdateUserInput, notice: string) => {
    const id = parseId(req.params.id, 'user');
    const changed = await changeUser(db, id, input);
    if (changed === 'not_found') throw gone();
    if (changed === 'last_owner') {
      res.status(409);
      return showUser(req, res, id, lastOwnerMessage);
    }
    await auditUserChange(db, req, res, changed);
    // An owner who demoted or disabled themselves can no longer see the team pages.
    const leftTheTeamPages = changed.after.id === actorOf(res)?.userId && (changed.after.role !== 'owner' || changed.after.status === 'disabled');
    res.redirect(303, leftTheTeamPages ? '/admin' : `/admin/users/${id}?notice=${notice}`);
  };

  router.post('/admin/users/:id/role', ...can('users:manage'), form, security.csrfProtection, async (req, res) => {
    const parsed = updateUserBody.safeParse({ role: text((req.body as Record<string, unknown> | undefined)?.role) });
    if (!parsed.success) {
      res.status(422);
      return showUser(req, res, parseId(req.params.id, 'user'), 'Choose one of the roles listed.');
    }
    await change(req, res, parsed.data, 'role-changed');
  });

  for (const [action, disabled] of [['disable', true], ['enable', false]] as const) {
    router.post(`/admin/users/:id/${action}`, ...can('users:manage'), form, security.csrfProtection, async (req, res) => {
      await change(req, res, { disabled }, disabled ? 'disabled' : 'enabled');
    });
  }

  router.post('/admin/users/:id/invitation', ...can('users:manage'), form, security.csrfProtection, async (req, res) => {
    const id = parseId(req.params.id, 'user');
    const sent = await resendInvitation(db, queues, req.log, id);
    if (sent === 'not_found') throw gone();
    if (sent !== 'joined' && sent !== 'disabled') {
      await auditRequest(db, req, res, 'user.invited', { type: 'user', id: sent.id, label: sent.email }, { role: sent.role, resent: true });
      return res.redirect(303, `/admin/users/${id}?notice=resent`);
    }
    res.status(409);
    await showUser(req, res, id, sent === 'joined' ? 'They have joined already: there is no invitation to send.' : 'They are disabled; enable them first.');
  });

  router.get('/admin/users/:id/remove', ...can('users:manage'), async (req, res) => {
    const user = await findOr404(req.params.id);
    render(req, res, 'users-remove', { title: `Remove ${user.email}?`, user, self: actorOf(res)?.userId === user.id });
  });

  router.post('/admin/users/:id/remove', ...can('users:manage'), form, security.csrfProtection, async (req, res) => {
    const id = parseId(req.params.id, 'user');
    const removed = await removeUser(db, id);
    if (removed === 'not_found') throw gone();
    if (removed === 'last_owner') {
      res.status(409);
      return showUser(req, res, id, lastOwnerMessage);
    }
    await auditRequest(db, req, res, 'user.removed', { type: 'user', id: removed.id, label: removed.email }, { role: removed.role });
    res.redirect(303, '/admin/users?notice=removed');
  });

  return router;
}
