// `prisma migrate deploy` for one database, for test setup code (e.g. one migrated database per
// vitest worker). Runs the real CLI from the repo root, so prisma.config.ts picks the engine (this
// folder's stand-in unless PRISMA_SCHEMA_ENGINE_BINARY names another) and the migrations.

import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const prismaCli = createRequire(import.meta.url).resolve('prisma/build/index.js');

/**
 * Apply every migration in prisma/migrations to the database at `databaseUrl` (created if missing).
 * Resolves with the CLI's output; rejects with an Error carrying the CLI's output when it fails.
 * @param {string} databaseUrl a postgresql:// URL
 * @returns {Promise<string>}
 */
export function migrateDeploy(databaseUrl) {
  const env = {
    ...process.env,
    DATABASE_URL: databaseUrl,
    // No update check or telemetry from inside tests.
    CHECKPOINT_DISABLE: '1',
    PRISMA_HIDE_UPDATE_MESSAGE: '1',
  };
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [prismaCli, 'migrate', 'deploy'], { cwd: repoRoot, env }, (error, stdout, stderr) => {
      const output = `${stdout}${stderr}`.trim();
      if (error) reject(new Error(`prisma migrate deploy failed (${error.code ?? error.signal}):\n${output}`));
      // A dummy engine (e.g. PRISMA_SCHEMA_ENGINE_BINARY=/bin/true) makes the CLI exit 0 having
      // applied nothing; only a real run ends with one of these lines.
      else if (!/All migrations have been successfully applied|No pending migrations to apply/.test(output)) {
        reject(new Error(`prisma migrate deploy exited 0 but applied nothing (is the schema engine a dummy?):\n${output}`));
      } else resolve(output);
    });
  });
}
