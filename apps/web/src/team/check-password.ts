import type { Db } from '@herald/shared';
import { authFailureWindowSeconds, maxAuthFailures } from '../http/auth-throttle.js';
import { passwordMatches } from './passwords.js';

export type PasswordCheck =
  | { outcome: 'ok'; user: { id: string; email: string; passwordHash: string } }
  | { outcome: 'wrong'; attemptsLeft: number | null }
  | { outcome: 'locked'; retryAfterSeconds: number };

/**
 * Checks an email and password, with the per-account throttle: after `maxAuthFailures` wrong
 * passwords for one account within the window, the account is locked for the rest of it whatever
 * the client address (the per-address throttle in auth-throttle.ts stays in front). The counts
 * live on the user's row in Postgres, so losing Redis does not reset them. An unknown email, a
 * disabled user and an invitation not yet taken up cost one argon2 verification like any other.
 */
export async function checkPassword(db: Db, email: string, password: string): Promise<PasswordCheck> {
  const user = await db.user.findUnique({ where: { email: email.trim().toLowerCase() } });
  const usable = user && !user.disabledAt && user.passwordHash ? user : null;
  const windowStart = Date.now() - authFailureWindowSeconds * 1000;
  if (usable && usable.failedLogins >= maxAuthFailures && usable.failedLoginsSince && usable.failedLoginsSince.getTime() > windowStart) {
    return { outcome: 'locked', retryAfterSeconds: Math.max(1, Math.ceil((usable.failedLoginsSince.getTime() - windowStart) / 1000)) };
  }
  const matches = await passwordMatches(usable?.passwordHash ?? null, password);
  if (!usable) return { outcome: 'wrong', attemptsLeft: null };
  if (!matches) {
    const [counted] = await db.$queryRaw<{ failed_logins: number }[]>`
      UPDATE users SET
        failed_logins = CASE WHEN failed_logins_since > ${new Date(windowStart)}::timestamp(3) THEN failed_logins + 1 ELSE 1 END,
        failed_logins_since = CASE WHEN failed_logins_since > ${new Date(windowStart)}::timestamp(3) THEN failed_logins_since ELSE now() END
      WHERE id = ${usable.id}::uuid
      RETURNING failed_logins`;
    return { outcome: 'wrong', attemptsLeft: Math.max(0, maxAuthFailures - (counted?.failed_logins ?? maxAuthFailures)) };
  }
  await db.user.update({ where: { id: usable.id }, data: { failedLogins: 0, failedLoginsSince: null, lastLoginAt: new Date() } });
  return { outcome: 'ok', user: { id: usable.id, email: usable.email, passwordHash: usable.passwordHash! } };
}
