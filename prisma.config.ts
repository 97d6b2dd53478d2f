import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'prisma/config';

// `npm run db:deploy` and friends read `.env` like every other documented script; variables
// already set in the environment win, as with node's --env-file.
const envFile = fileURLToPath(new URL('./.env', import.meta.url));
if (existsSync(envFile)) process.loadEnvFile(envFile);

// Prisma's CLI runs a native schema engine that it downloads on first use. Where that download is
// impossible, a small stand-in runs Prisma's own WebAssembly engine instead (see
// tools/prisma-schema-engine). Anyone with a real engine binary can still point at it.
process.env.PRISMA_SCHEMA_ENGINE_BINARY ??= fileURLToPath(
  new URL('./tools/prisma-schema-engine/schema-engine.js', import.meta.url),
);

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  // `generate` needs no database, so a missing DATABASE_URL only matters to migrate commands.
  datasource: { url: process.env.DATABASE_URL ?? '' },
});
