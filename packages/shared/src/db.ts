import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from './generated/prisma/client.js';

export type Db = PrismaClient;

/** What raw-SQL helpers need: satisfied by the client and by a transaction alike. */
export type SqlClient = Pick<Db, '$executeRaw' | '$queryRaw'>;

/** Opens a Prisma client over node-postgres. Callers own it and must `$disconnect()` it. */
export function createDb(databaseUrl: string, options: { poolSize?: number } = {}): Db {
  const adapter = new PrismaPg({ connectionString: databaseUrl, max: options.poolSize ?? 10 });
  return new PrismaClient({ adapter });
}
