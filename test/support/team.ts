import type { Db } from '@herald/shared';
import { createApiToken } from '../../apps/web/src/team/api-tokens.js';
import { hashPassword } from '../../apps/web/src/team/passwords.js';
import type { Role } from '../../apps/web/src/team/roles.js';

/** The password every user made by `makeUser` logs in with. */
export const memberPassword = 'a long enough member password';

let made = 0;

/** A user who has joined (with `memberPassword`), and an API token of their role. */
export async function makeUser(db: Db, role: Role, email = `${role}-${++made}@herald.test`) {
  const user = await db.user.create({ data: { email, role, name: `The ${role}`, passwordHash: await hashPassword(memberPassword) } });
  const { token } = await createApiToken(db, user.id, { name: 'tests', role });
  return { user, token, email, password: memberPassword };
}
