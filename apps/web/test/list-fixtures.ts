import { createHash, randomBytes } from 'node:crypto';
import type { Db } from '@herald/shared';

export type ListSeed = {
  name?: string;
  slug: string;
  visibility?: 'public' | 'private';
  doubleOptIn?: boolean;
  welcome?: boolean;
  description?: string;
};

/** A list as an admin would make it; with `welcome`, it has a welcome email. Returns its id. */
export async function seedList(db: Db, seed: ListSeed): Promise<string> {
  const [row] = await db.$queryRaw<{ id: string }[]>`
    INSERT INTO lists (name, slug, description, visibility, double_opt_in, welcome_subject, welcome_body)
    VALUES (${seed.name ?? seed.slug}, ${seed.slug}, ${seed.description ?? null}, ${seed.visibility ?? 'public'}::list_visibility,
            ${seed.doubleOptIn ?? true}, ${seed.welcome ? `Welcome to ${seed.slug}` : null}, ${seed.welcome ? 'Hello {{name}}' : null})
    RETURNING id`;
  return row!.id;
}

/** The default list's id. */
export async function defaultList(db: Db): Promise<string> {
  const [row] = await db.$queryRaw<{ id: string }[]>`SELECT id FROM lists WHERE is_default`;
  return row!.id;
}

/** A person's subscriptions as slug → status. */
export async function subscriptionsByEmail(db: Db, email: string): Promise<Record<string, string>> {
  const rows = await db.$queryRaw<{ slug: string; status: string }[]>`
    SELECT l.slug, sub.status::text AS status FROM subscriptions sub
    JOIN lists l ON l.id = sub.list_id JOIN subscribers s ON s.id = sub.subscriber_id
    WHERE s.email = ${email} ORDER BY l.slug`;
  return Object.fromEntries(rows.map((row) => [row.slug, row.status]));
}

/** Welcome email rows of a person, as list slugs (one entry per row). */
export async function welcomeRowsOf(db: Db, email: string): Promise<string[]> {
  const rows = await db.$queryRaw<{ slug: string }[]>`
    SELECT l.slug FROM welcome_emails w JOIN lists l ON l.id = w.list_id JOIN subscribers s ON s.id = w.subscriber_id
    WHERE s.email = ${email} ORDER BY l.slug`;
  return rows.map((row) => row.slug);
}

/**
 * Gives a person a live confirmation link, as the worker's confirmation email does (only the
 * token's hash is stored), and returns the link's path.
 */
export async function issueConfirmLink(db: Db, email: string): Promise<string> {
  const token = randomBytes(32).toString('base64url');
  await db.$executeRaw`
    UPDATE subscribers SET confirm_token_hash = ${createHash('sha256').update(token).digest('hex')},
      confirm_token_expires_at = now() + interval '7 days', confirmation_sent_at = now()
    WHERE email = ${email}`;
  return `/confirm/${token}`;
}
