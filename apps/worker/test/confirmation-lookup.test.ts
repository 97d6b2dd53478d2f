import { expect, it } from 'vitest';
import { createDb } from '@herald/shared';
import { sendConfirmation } from '../src/handlers/send-confirmation.js';
import { jobContext, useStack } from '../../../test/support/stack.js';

const stack = useStack();

/**
 * Rows of `subscribers` read by scans since `db`'s connection last flushed its statistics: it has
 * one connection, so everything it ran is counted once it flushes, and nothing else runs meanwhile.
 */
async function subscriberRowsRead(db: ReturnType<typeof createDb>): Promise<number> {
  await db.$queryRaw`SELECT pg_stat_force_next_flush()::text`;
  await db.$queryRaw`SELECT pg_stat_clear_snapshot()::text`;
  const [row] = await db.$queryRaw<{ read: number }[]>`
    SELECT (coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0))::int AS read
    FROM pg_stat_user_tables WHERE relname = 'subscribers'`;
  return row!.read;
}

it('reads its one subscriber, not every pending one, when statistics lag behind a burst of signups', async () => {
  // One connection, so its statistics can be flushed on demand and read back.
  const db = createDb(stack.web.config.databaseUrl, { poolSize: 1 });
  try {
    // The statistics say every subscriber is active (as after an audience import), then 20,000
    // signups arrive before autovacuum analyses the table again: the planner believes no row is pending.
    await db.$executeRaw`ALTER TABLE subscribers SET (autovacuum_enabled = false)`;
    await db.$executeRaw`
      INSERT INTO subscribers (email, name, status) SELECT 'reader-' || n || '@example.com', 'Reader', 'active' FROM generate_series(1, 50) n`;
    await db.$executeRaw`ANALYZE subscribers`;
    await db.$executeRaw`
      INSERT INTO subscribers (email, name, status) SELECT 'signup-' || n || '@example.com', 'Signup', 'pending' FROM generate_series(1, 20000) n`;
    const [subscriber] = await db.$queryRaw<{ id: string }[]>`SELECT id FROM subscribers WHERE email = 'signup-777@example.com'`;

    const deps = { ...stack.workerDeps(), db };
    const before = await subscriberRowsRead(db);
    expect(await sendConfirmation({ subscriberId: subscriber!.id }, jobContext(deps), deps)).toBe('sent');
    // The claim's row, seen from each side of its join, and the lookup in the statements around it.
    expect((await subscriberRowsRead(db)) - before).toBeLessThan(10);
    expect(stack.sink.inbox.findByRecipient('signup-777@example.com')).toHaveLength(1);
  } finally {
    await db.$executeRaw`ALTER TABLE subscribers RESET (autovacuum_enabled)`;
    await db.$disconnect();
  }
});
