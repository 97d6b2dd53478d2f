import { Router } from 'express';
import type { Request, Response } from 'express';
import { fieldErrors } from '../http/field-errors.js';
import { recordAudit } from '../team/audit.js';
import { acceptInvitation, findInvitation } from '../team/invitations.js';
import type { OpenInvitation } from '../team/invitations.js';
import { hashPassword, minPasswordLength } from '../team/passwords.js';
import { choosePasswordForm } from '../team/user-schema.js';
import type { AdminContext } from './admin-context.js';

const tokenOf = (req: Request) => (typeof req.params.token === 'string' ? req.params.token : '');

const choosePassword = choosePasswordForm(minPasswordLength);

const refusals = {
  unknown: {
    status: 404,
    heading: 'This invitation link does not work',
    message: 'It has been used already, or a newer invitation replaced it. Ask an owner of the team to send you a new one, or log in if you have joined.',
  },
  expired: {
    status: 410,
    heading: 'This invitation has expired',
    message: 'An invitation link works for 7 days. Ask an owner of the team to send you a new one.',
  },
} as const;

/**
 * Taking up an invitation: the page the invitation email links to, where the invited person
 * chooses their name and password, and is then logged in. No session needed; the link is the key.
 */
export function invitationPages({ deps, security, form, render }: AdminContext): Router {
  const { db } = deps;
  const router = Router();

  const refuse = (req: Request, res: Response, why: keyof typeof refusals) => {
    const refusal = refusals[why];
    res.status(refusal.status);
    render(req, res, 'invitation-refused', { title: refusal.heading, ...refusal });
  };

  const showForm = (req: Request, res: Response, token: string, invitation: OpenInvitation, values: { name: string }, errors: Record<string, string>) => {
    // The address holds the token: never kept by a cache.
    res.set('Cache-Control', 'no-store');
    render(req, res, 'invitation', { title: 'Join the team', token, invitation, values, errors, minPasswordLength });
  };

  router.get('/admin/invitations/:token', async (req, res) => {
    const token = tokenOf(req);
    const invitation = await findInvitation(db, token);
    if (typeof invitation === 'string') return refuse(req, res, invitation);
    showForm(req, res, token, invitation, { name: invitation.name ?? '' }, {});
  });

  router.post('/admin/invitations/:token', form, security.csrfProtection, async (req, res) => {
    const token = tokenOf(req);
    const invitation = await findInvitation(db, token);
    if (typeof invitation === 'string') return refuse(req, res, invitation);
    const body = (req.body ?? {}) as Record<string, unknown>;
    const values = { name: typeof body.name === 'string' ? body.name : '' };
    // The name as sent: a repeated field (an array) is refused, not taken for an empty name.
    const parsed = choosePassword.safeParse({ name: body.name ?? '', password: body.password, passwordAgain: body.passwordAgain });
    if (!parsed.success) {
      res.status(422);
      return showForm(req, res, token, invitation, values, fieldErrors(parsed.error));
    }
    const joined = await acceptInvitation(db, token, { name: parsed.data.name, passwordHash: await hashPassword(parsed.data.password) });
    // Used, replaced or expired between the check above and now.
    if (!joined) return refuse(req, res, 'unknown');
    await security.logIn(req, joined);
    await recordAudit(db, { actor: { userId: joined.id, label: joined.email }, action: 'user.joined', target: { type: 'user', id: joined.id, label: joined.email }, address: req.ip, details: { role: joined.role } });
    res.redirect(303, '/admin');
  });

  return router;
}
