import type { SqlClient } from '@herald/shared';

/** The name the audiences migration gives the default list until the web names it. */
export const placeholderListName = 'Newsletter';

/**
 * Names the default list after NEWSLETTER_NAME while it still carries the migration's placeholder
 * name. A name the admin gave it since is never overwritten, so this can run at every start.
 * Returns whether it renamed the list.
 */
export async function nameDefaultList(db: SqlClient, newsletterName: string): Promise<boolean> {
  if (newsletterName === placeholderListName) return false;
  const renamed = await db.$executeRaw`
    UPDATE lists SET name = ${newsletterName}, updated_at = now()
    WHERE is_default AND name = ${placeholderListName}`;
  return renamed > 0;
}
