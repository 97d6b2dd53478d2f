import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaClient } from './generated/prisma/client.js';

export type Db = PrismaClient;

/** What raw-SQL helpers need: satisfied by the client and by a transaction alike. */
export type SqlClient = Pick<Db, '$executeRaw' | '$queryRaw'>;

export type PgPool = pg.Pool;

/**
 * A node-postgres pool for `createDb`, made apart so its owner can read its counters
 * (`totalCount`, `idleCount`, `waitingCount`) as metrics.
 */
export function createPgPool(databaseUrl: string, size: number): PgPool {
  return new pg.Pool({ connectionString: databaseUrl, max: size });
}

/**
 * Opens a Prisma client over node-postgres, on `pool` if given (closed with the client), else on a
 * pool of its own. Callers own it and must `$disconnect()` it.
 */
export function createDb(databaseUrl: string, options: { poolSize?: number; pool?: PgPool } = {}): Db {
  const adapter = options.pool
    ? new PrismaPg(options.pool, { disposeExternalPool: true })
    : new PrismaPg({ connectionString: databaseUrl, max: options.poolSize ?? 10 });
  return new PrismaClient({ adapter });
}
