/**
 * `npm run admin:create -- --email you@example.com [--name "Your Name"]`: makes an owner who can log
 * in, or makes an existing user one again (enabled, unlocked, with the new password), for an
 * installation where nobody can. The password is read from ADMIN_PASSWORD, or from the first line of
 * stdin with `--password-stdin`, never from the command line (which other users of the machine and
 * the shell's history can read). Needs DATABASE_URL. Recorded in the audit log as `admin:create`.
 */
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { z } from 'zod';
import { hashPassword, minPasswordLength } from '../apps/web/src/team/passwords.js';

function fail(message: string, code = 2): never {
  console.error(message);
  process.exit(code);
}

const { values } = parseArgs({
  options: { email: { type: 'string' }, name: { type: 'string' }, 'password-stdin': { type: 'boolean', default: false } },
});
const url = process.env.DATABASE_URL ?? fail('DATABASE_URL is not set.');
const email = z.email().max(254).safeParse(values.email?.trim().toLowerCase());
if (!email.success) fail('Give the owner\'s address: npm run admin:create -- --email you@example.com');
const password = values['password-stdin']
  ? await new Promise<string>((resolve) => createInterface({ input: process.stdin }).once('line', resolve).once('close', () => resolve('')))
  : (process.env.ADMIN_PASSWORD ?? '');
if (password.length < minPasswordLength) fail(`The password (ADMIN_PASSWORD, or stdin with --password-stdin) needs at least ${minPasswordLength} characters.`);

const client = new pg.Client({ connectionString: url });
await client.connect();
try {
  const { rows } = await client.query<{ id: string; made: boolean }>(
    `INSERT INTO users (email, name, role, password_hash) VALUES ($1, $2, 'owner', $3)
     ON CONFLICT (email) DO UPDATE SET role = 'owner', password_hash = EXCLUDED.password_hash,
       name = COALESCE(EXCLUDED.name, users.name), disabled_at = NULL, failed_logins = 0, failed_logins_since = NULL,
       invited_at = NULL, invite_token_hash = NULL, invite_expires_at = NULL, updated_at = now()
     RETURNING id, (xmax = 0) AS made`,
    [email.data, values.name ?? null, await hashPassword(password)],
  );
  const user = rows[0]!;
  await client.query(
    `INSERT INTO audit_entries (actor, action, target_type, target_id, target_label) VALUES ('admin:create', $1, 'user', $2, $3)`,
    [user.made ? 'user.created' : 'user.role_changed', user.id, email.data],
  );
  console.log(user.made ? `made ${email.data} an owner; log in at /admin/login` : `${email.data} is an owner again, enabled, with the new password`);
} finally {
  await client.end();
}
