import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import ejs from 'ejs';
import type { Db, Queues } from '@herald/shared';
import { nameDefaultList } from '../lists/name-default-list.js';
import type { WarmUpStep } from './warm-up.js';

/**
 * Connections opened before readiness: as many as the signup intake runs upserts at once (see
 * signup-intake.ts), the burst a load balancer sends as soon as /readyz turns 200. The pool closes
 * them again after ten idle seconds; they serve that first burst, not a quiet start.
 */
const warmConnections = 4;

/**
 * What the web process prepares before it reports ready (see warm-up.ts). With `newsletterName`,
 * the default list is named after it while it still has the migration's placeholder name.
 */
export function webWarmUpSteps({ db, queues, newsletterName }: { db: Db; queues: Queues; newsletterName?: string }, viewsDir: string): WarmUpStep[] {
  return [
    { name: 'database', run: () => openConnections(db) },
    ...(newsletterName === undefined ? [] : [{ name: 'default list name', run: () => nameDefaultList(db, newsletterName) }]),
    { name: 'templates', run: () => compileTemplates(viewsDir) },
    { name: 'queues', run: () => Promise.all(Object.values(queues).map((queue) => queue.waitUntilReady())) },
  ];
}

/** Opens pool connections side by side, and runs a first model query (Prisma compiles its query path then). */
async function openConnections(db: Db): Promise<void> {
  await Promise.all(Array.from({ length: warmConnections }, () => db.$queryRaw`SELECT 1`));
  await db.subscriber.findFirst({ select: { id: true } });
}

/**
 * Compiles every template into EJS's cache, keyed by its path, with the options Express renders it
 * with (`cache`; Express's `views` is a string, which EJS ignores for includes), so a production
 * process, where Express turns the cache on, never compiles on a request. Elsewhere the cache is
 * not read, and this still proves every template compiles. Returns the files compiled.
 */
export async function compileTemplates(viewsDir: string): Promise<string[]> {
  const files = (await readdir(viewsDir, { recursive: true })).filter((file) => file.endsWith('.ejs')).map((file) => path.join(viewsDir, file));
  for (const filename of files) {
    const source = (await readFile(filename, 'utf8')).replace(/^\uFEFF/, '');
    ejs.cache.set(filename, ejs.compile(source, { filename, cache: true }));
  }
  return files;
}
