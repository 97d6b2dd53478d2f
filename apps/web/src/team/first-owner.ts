import type { Db, Logger } from '@herald/shared';
import { hashPassword } from './passwords.js';

/**
 * While there is no user at all (the first start, or the first after upgrading from the single
 * ADMIN_PASSWORD), makes the owner from ADMIN_EMAIL and ADMIN_PASSWORD, so the documented password
 * logs in as before. Once anyone exists it does nothing: passwords then belong to their users.
 * Called at boot and by the login page, and safe to race (the insert checks, the email is unique).
 */
export async function ensureFirstOwner(db: Db, config: { adminEmail: string; adminPassword: string }, logger?: Logger): Promise<boolean> {
  if ((await db.user.count()) > 0) return false;
  const passwordHash = await hashPassword(config.adminPassword);
  const made = await db.$executeRaw`
    INSERT INTO users (email, name, role, password_hash)
    SELECT ${config.adminEmail}, 'Owner', 'owner', ${passwordHash}
    WHERE NOT EXISTS (SELECT 1 FROM users)
    ON CONFLICT (email) DO NOTHING`;
  if (made > 0) logger?.info({ email: config.adminEmail }, 'made the first owner from ADMIN_EMAIL and ADMIN_PASSWORD');
  return made > 0;
}
