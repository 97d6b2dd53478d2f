import type { Role } from './roles.js';

/**
 * Who is making a request: a logged-in user, a user's API token, or ADMIN_TOKEN (the owner's
 * bootstrap token, which belongs to no user). Put in `res.locals.actor` by the session and bearer
 * checks; the permission check and the audit log read it.
 */
export type Actor = {
  userId: string | null;
  tokenId: string | null;
  /** How the audit log names it: the user's email, or "ADMIN_TOKEN". */
  label: string;
  role: Role;
};

export const bootstrapTokenActor: Actor = { userId: null, tokenId: null, label: 'ADMIN_TOKEN', role: 'owner' };
