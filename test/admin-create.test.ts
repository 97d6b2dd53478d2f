import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { passwordMatches } from '../apps/web/src/team/passwords.js';
import { createTestDatabase } from './support/database.js';

const run = promisify(execFile);
let database: Awaited<ReturnType<typeof createTestDatabase>>;

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database.drop();
});

function adminCreate(args: string[], env: Record<string, string>, input?: string) {
  const child = run('npx', ['tsx', '--conditions=herald-source', 'scripts/admin-create.ts', ...args], {
    env: { PATH: process.env.PATH!, HOME: process.env.HOME ?? '/tmp', DATABASE_URL: database.url, ...env },
  });
  if (input !== undefined) {
    child.child.stdin!.end(`${input}\n`);
  }
  return child;
}

describe('npm run admin:create', { timeout: 60_000 }, () => {
  it('makes an owner from ADMIN_PASSWORD, and makes an existing user an owner again, enabled and unlocked', async () => {
    const made = await adminCreate(['--email', 'Rescue@Example.com', '--name', 'Rescue'], { ADMIN_PASSWORD: 'a rescue password 1' });
    expect(made.stdout).toContain('made rescue@example.com an owner');
    const user = await database.db.user.findUniqueOrThrow({ where: { email: 'rescue@example.com' } });
    expect(user).toMatchObject({ role: 'owner', name: 'Rescue', disabledAt: null });
    expect(await passwordMatches(user.passwordHash, 'a rescue password 1')).toBe(true);

    await database.db.user.create({ data: { email: 'second@example.com', role: 'owner', passwordHash: user.passwordHash } });
    await database.db.user.update({ where: { id: user.id }, data: { role: 'viewer', disabledAt: new Date(), failedLogins: 5, failedLoginsSince: new Date() } });
    const again = await adminCreate(['--email', 'rescue@example.com', '--password-stdin'], {}, 'another password 22');
    expect(again.stdout).toContain('is an owner again');
    const restored = await database.db.user.findUniqueOrThrow({ where: { id: user.id } });
    expect(restored).toMatchObject({ role: 'owner', name: 'Rescue', disabledAt: null, failedLogins: 0 });
    expect(await passwordMatches(restored.passwordHash, 'another password 22')).toBe(true);
    const audit = await database.db.auditEntry.findMany({ orderBy: { id: 'asc' } });
    expect(audit.map((entry) => [entry.actor, entry.action, entry.targetLabel])).toEqual([
      ['admin:create', 'user.created', 'rescue@example.com'],
      ['admin:create', 'user.role_changed', 'rescue@example.com'],
    ]);
  });

  it('refuses a short password or a missing email, changing nothing', async () => {
    const before = await database.db.user.count();
    await expect(adminCreate(['--email', 'short@example.com'], { ADMIN_PASSWORD: 'short' })).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('at least 12') });
    await expect(adminCreate([], { ADMIN_PASSWORD: 'a long enough password' })).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('--email') });
    expect(await database.db.user.count()).toBe(before);
  });
});
