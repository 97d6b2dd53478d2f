import { Router } from 'express';
import type { Request, Response } from 'express';
import { z } from 'zod';
import { fieldErrors } from '../http/field-errors.js';
import { HttpError } from '../http/http-error.js';
import { parseId } from '../http/parse-request.js';
import { createApiToken, tokenView } from '../team/api-tokens.js';
import { auditRequest } from '../team/audit.js';
import { checkPassword } from '../team/check-password.js';
import { hashPassword, minPasswordLength } from '../team/passwords.js';
import { actorOf } from '../team/require-permission.js';
import { roleAtMost, roleDescriptions, roles } from '../team/roles.js';
import type { Role } from '../team/roles.js';
import { expiryProblem, maxTokenYears, tokenName, tokenRole } from '../team/token-input.js';
import { listUserTokens, revokeToken } from '../team/token-store.js';
import type { AdminContext } from './admin-context.js';

/** argon2 takes any length; this bounds the work one form post can ask for. */
const maxPasswordLength = 256;

const passwordForm = z
  .object({
    current: z.string().min(1, 'enter your current password'),
    password: z.string().min(minPasswordLength, `must be at least ${minPasswordLength} characters`).max(maxPasswordLength, `must be at most ${maxPasswordLength} characters`),
    confirm: z.string(),
  })
  .refine((form) => form.password === form.confirm, { path: ['confirm'], message: 'does not match the new password' });

/** The expiry field is a day: the token works until that day begins (UTC). Empty means never. */
const tokenForm = z.object({
  name: tokenName,
  role: tokenRole,
  expires: z
    .union([z.literal(''), z.iso.date('expected a date')])
    .transform((value, ctx) => {
      if (value === '') return null;
      const date = new Date(value);
      const problem = expiryProblem(date);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
      return date;
    }),
});

type TokenFormValues = { name: string; role: string; expires: string };
type Errors = Record<string, string>;

const notices: Record<string, string> = {
  password: 'Your password is changed. Every other session of yours has ended.',
  revoked: 'The token is revoked: requests made with it are refused from now on.',
};

const text = (value: unknown) => (typeof value === 'string' ? value : '');

/** Your account: who you are and what your role allows, your password, and your API tokens. */
export function accountPages({ deps, security, form, can, render }: AdminContext): Router {
  const { db, config } = deps;
  const router = Router();

  /** The logged-in user; sessions always belong to one (ADMIN_TOKEN opens none). */
  const currentUser = async (res: Response) => {
    const user = await db.user.findUnique({ where: { id: actorOf(res)!.userId! } });
    if (!user) throw new HttpError(401, 'unauthorized', 'Log in first.');
    return user;
  };

  const showAccount = async (
    req: Request,
    res: Response,
    locals: { passwordErrors?: Errors; tokenErrors?: Errors; tokenValues?: TokenFormValues; notice?: string | null } = {},
  ) => {
    const user = await currentUser(res);
    const role = actorOf(res)!.role;
    render(req, res, 'account', {
      title: 'Your account',
      user,
      role,
      roleDescription: roleDescriptions[role],
      grantableRoles: roles.filter((candidate) => roleAtMost(candidate, role)),
      tokens: await listUserTokens(db, user.id),
      minPasswordLength,
      maxTokenYears,
      passwordErrors: locals.passwordErrors ?? {},
      tokenErrors: locals.tokenErrors ?? {},
      tokenValues: locals.tokenValues ?? { name: '', role: 'viewer', expires: '' },
      notice: locals.notice ?? null,
    });
  };

  router.get('/admin/account', ...can('tokens:own'), async (req, res) => {
    const notice = typeof req.query.notice === 'string' ? (notices[req.query.notice] ?? null) : null;
    await showAccount(req, res, { notice });
  });

  router.post('/admin/account/password', ...can('tokens:own'), form, security.csrfProtection, async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const parsed = passwordForm.safeParse({ current: text(body.current), password: text(body.password), confirm: text(body.confirm) });
    if (!parsed.success) {
      res.status(422);
      return showAccount(req, res, { passwordErrors: fieldErrors(parsed.error) });
    }
    const user = await currentUser(res);
    // The login's check, with its per-account lock, so a session left open cannot be used to
    // guess the password it was opened with.
    const check = await checkPassword(db, user.email, parsed.data.current);
    if (check.outcome === 'locked') {
      res.status(429).set('Retry-After', String(check.retryAfterSeconds));
      return showAccount(req, res, { passwordErrors: { current: `too many wrong passwords; try again in ${Math.ceil(check.retryAfterSeconds / 60)} min` } });
    }
    if (check.outcome === 'wrong') {
      res.status(422);
      return showAccount(req, res, { passwordErrors: { current: 'is not your current password' } });
    }
    const passwordHash = await hashPassword(parsed.data.password);
    await db.user.update({ where: { id: user.id }, data: { passwordHash } });
    await auditRequest(db, req, res, 'user.password_changed', { type: 'user', id: user.id, label: user.email });
    // Sessions fingerprint the password hash, so every session opened with the old one (this one
    // included) has just ended; this browser gets a new one.
    await security.logIn(req, { id: user.id, passwordHash });
    res.redirect(303, '/admin/account?notice=password');
  });

  router.post('/admin/account/tokens', ...can('tokens:own'), form, security.csrfProtection, async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const values: TokenFormValues = { name: text(body.name), role: text(body.role), expires: text(body.expires).trim() };
    const parsed = tokenForm.safeParse(values);
    const role = actorOf(res)!.role;
    const errors: Errors = parsed.success ? {} : fieldErrors(parsed.error);
    if (parsed.success && !roleAtMost(parsed.data.role, role)) errors.role = `must be at most your own role (${role})`;
    if (!parsed.success || Object.keys(errors).length > 0) {
      res.status(422);
      return showAccount(req, res, { tokenErrors: errors, tokenValues: values });
    }
    const user = await currentUser(res);
    const { row, token } = await createApiToken(db, user.id, { name: parsed.data.name, role: parsed.data.role as Role, expiresAt: parsed.data.expires ?? undefined });
    await auditRequest(db, req, res, 'token.created', { type: 'token', id: row.id, label: row.name }, { role: row.role, expiresAt: row.expiresAt?.toISOString() ?? null });
    // The token is shown on this answer alone: never in an address, never again.
    res.set('Cache-Control', 'no-store');
    res.status(201);
    render(req, res, 'account-token-created', { title: 'Token created', token, created: tokenView(row), apiUrl: config.publicUrl.replace(/\/$/, '') });
  });

  router.post('/admin/account/tokens/:id/revoke', ...can('tokens:own'), form, security.csrfProtection, async (req, res) => {
    const revoked = await revokeToken(db, actorOf(res)!, parseId(req.params.id, 'token'));
    if (!revoked) throw new HttpError(404, 'not_found', 'No token of yours with that id.');
    if (!revoked.alreadyRevoked) {
      await auditRequest(db, req, res, 'token.revoked', { type: 'token', id: revoked.id, label: revoked.name }, { ownerUserId: revoked.userId });
    }
    res.redirect(303, '/admin/account?notice=revoked');
  });

  return router;
}
