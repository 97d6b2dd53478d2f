/**
 * End-to-end tests of the schema-engine stand-in: the real Prisma CLI, the real migrations, a real
 * PostgreSQL. Each test creates its own database (herald_engine_<random>) and drops it afterwards.
 * What a dummy engine cannot fake is checked in the database itself (tables, migration rows).
 * The tests are independent and run concurrently (each CLI run takes seconds, mostly start-up).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { describe, expect, it, type TestContext } from 'vitest';
import { migrateDeploy } from '../deploy.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const engine = fileURLToPath(new URL('../schema-engine.js', import.meta.url));
const prismaCli = createRequire(import.meta.url).resolve('prisma/build/index.js');
/** Any database on the test server; the tests' own databases are created next to it. */
const adminUrl = process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

interface Result {
  code: number;
  stdout: string;
  stderr: string;
  /** The process id (of the Prisma CLI, for prisma()): the engine it starts records it as its ppid. */
  pid: number | undefined;
}

/** Run a command to completion; never rejects, so tests can assert on failures. */
function run(file: string, args: string[], env: Record<string, string> = {}, cwd = repoRoot): Promise<Result> {
  return new Promise((resolve) => {
    const child = execFile(
      file,
      args,
      { cwd, env: { ...process.env, CHECKPOINT_DISABLE: '1', PRISMA_HIDE_UPDATE_MESSAGE: '1', ...env } },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr, pid: child.pid });
      },
    );
  });
}

/** The Prisma CLI against `databaseUrl`, with this folder's engine selected explicitly. */
function prisma(args: string[], databaseUrl: string, cwd = repoRoot): Promise<Result> {
  return run(process.execPath, [prismaCli, ...args], { DATABASE_URL: databaseUrl, PRISMA_SCHEMA_ENGINE_BINARY: engine }, cwd);
}

async function adminQuery<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, url = adminUrl) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query<R>(sql);
  } finally {
    await client.end();
  }
}

function urlFor(database: string, query = ''): string {
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  url.search = query;
  return url.toString();
}

// Concurrent tests must register clean-up through their own context, not the global hooks.
type Context = Pick<TestContext, 'onTestFinished'>;

/** A new empty database, dropped after the test. */
async function scratchDatabase({ onTestFinished }: Context): Promise<string> {
  const name = `herald_engine_${randomBytes(6).toString('hex')}`;
  await adminQuery(`CREATE DATABASE ${name}`);
  onTestFinished(async () => {
    await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  });
  return name;
}

/** A throw-away Prisma project (config, schema, migrations) in a temp folder. */
async function scratchProject({ onTestFinished }: Context, schema: string, migrations: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'herald-engine-'));
  onTestFinished(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  await writeFile(
    join(dir, 'prisma.config.mjs'),
    "export default { schema: 'schema.prisma', migrations: { path: 'migrations' }, datasource: { url: process.env.DATABASE_URL } };\n",
  );
  await writeFile(join(dir, 'schema.prisma'), `datasource db {\n  provider = "postgresql"\n}\n\n${schema}`);
  await mkdir(join(dir, 'migrations'));
  await writeFile(join(dir, 'migrations', 'migration_lock.toml'), 'provider = "postgresql"\n');
  for (const [name, sql] of Object.entries(migrations)) {
    await mkdir(join(dir, 'migrations', name));
    await writeFile(join(dir, 'migrations', name, 'migration.sql'), sql);
  }
  return dir;
}

/** The server's shadow databases (name → comment; the stand-in notes its pid, parent pid etc. there). */
async function shadowDatabases(): Promise<Map<string, string | null>> {
  const { rows } = await adminQuery<{ name: string; comment: string | null }>(
    "SELECT datname AS name, shobj_description(oid, 'pg_database') AS comment FROM pg_database WHERE datname LIKE 'prisma\\_migrate\\_shadow\\_db\\_%'",
  );
  return new Map(rows.map((row) => [row.name, row.comment]));
}

/**
 * Shadow databases that exist now but did not `before` and that the given CLI runs left behind. Other
 * runs (the other tests, or anyone else using the server) may create their own meanwhile: the
 * stand-in's comment names the CLI that started it (ppid), so only unmarked ones and those count.
 * The stand-in marks a database just after creating it (CREATE DATABASE cannot share a transaction
 * with COMMENT ON), so a concurrent run's database can be seen unmarked for a moment: an unmarked one
 * counts only if it is still there, still unmarked, a few seconds later.
 */
async function leftoverShadowDatabases(before: Map<string, string | null>, runs: Result[]): Promise<string[]> {
  const cliPids = new Set(runs.map((result) => result.pid));
  const ppidOf = (comment: string | null) => /"ppid":(\d+)/.exec(comment ?? '')?.[1];
  const ours = (comment: string | null) => {
    const ppid = ppidOf(comment);
    return ppid === undefined || cliPids.has(Number(ppid));
  };
  const suspects = () => shadowDatabases().then((now) => [...now].filter(([name, comment]) => !before.has(name) && ours(comment)));
  let found = await suspects();
  for (let wait = 0; wait < 10 && found.some(([, comment]) => ppidOf(comment) === undefined); wait++) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    found = await suspects();
  }
  return found.map(([name]) => name);
}

/** Migrations and schema with a foreign key and a CHECK constraint: describing them reads PostgreSQL
 * "char" columns (pg_constraint.contype, confdeltype), which once made the wasm engine panic. */
const relationsSchema = (extra: string) => `model Author {
  id    Int    @id
  notes Note[]
}

model Note {
  id       Int    @id
  text     String
  authorId Int
  author   Author @relation(fields: [authorId], references: [id], onDelete: Cascade)
${extra}}
`;
const relationsMigration = `CREATE TABLE "Author" ("id" INTEGER NOT NULL, CONSTRAINT "Author_pkey" PRIMARY KEY ("id"));
CREATE TABLE "Note" ("id" INTEGER NOT NULL, "text" TEXT NOT NULL, "authorId" INTEGER NOT NULL,
  CONSTRAINT "Note_pkey" PRIMARY KEY ("id"), CONSTRAINT "Note_text_not_blank" CHECK (btrim("text") <> ''));
ALTER TABLE "Note" ADD CONSTRAINT "Note_authorId_fkey" FOREIGN KEY ("authorId") REFERENCES "Author"("id") ON DELETE CASCADE ON UPDATE CASCADE;
`;

async function tablesIn(database: string, schema = 'public'): Promise<string[]> {
  const { rows } = await adminQuery<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = '${schema}' ORDER BY table_name`,
    urlFor(database),
  );
  return rows.map((row) => row.table_name);
}

const heraldTables = [
  '_prisma_migrations',
  'api_tokens',
  'audit_entries',
  'campaign_event_hours',
  'campaign_link_clicks',
  'campaign_lists',
  'campaigns',
  'deliveries',
  'delivery_event_firsts',
  'delivery_link_clicks',
  'email_event_backlog',
  'email_event_retention',
  'email_events',
  'lists',
  'mail_holds',
  'malformed_email_events',
  'segments',
  'subscribers',
  'subscriptions',
  'unattributed_event_hours',
  'users',
  'webhook_attempts',
  'webhook_deliveries',
  'webhook_endpoints',
  'webhook_events',
  'welcome_emails',
];

describe('prisma schema-engine stand-in', { timeout: 60_000, concurrent: true }, () => {
  it('answers --version with the wasm engine build it runs', async () => {
    const { code, stdout } = await run(engine, ['--version']);
    const wasmPackage = JSON.parse(
      await readFile(join(repoRoot, 'node_modules/@prisma/schema-engine-wasm/package.json'), 'utf8'),
    ) as { version: string };
    expect(code).toBe(0);
    expect(stdout.trim()).toBe(`schema-engine-cli ${wasmPackage.version.split('.').at(-1)}`);
  });

  it('reports an unreachable server as P1001 from can-connect-to-database', async () => {
    const datasource = JSON.stringify({ url: 'postgresql://postgres@127.0.0.1:1/herald_engine_unreachable' });
    const { code, stderr } = await run(engine, ['--datasource', datasource, 'cli', 'can-connect-to-database']);
    expect(code).toBe(1);
    // The CLI skips the first stderr line and reads the ERROR line after it.
    const [, ...lines] = stderr.trim().split('\n').map((line) => JSON.parse(line) as { level: string; fields: Record<string, unknown> });
    expect(lines).toContainEqual(expect.objectContaining({ level: 'ERROR', fields: expect.objectContaining({ error_code: 'P1001' }) }));
  });

  it('migrate deploy creates the tables in an empty database, and status then reports it up to date', async (context) => {
    const database = await scratchDatabase(context);
    await migrateDeploy(urlFor(database));

    expect(await tablesIn(database)).toEqual(heraldTables);
    const { rows } = await adminQuery<{ migration_name: string; finished: boolean }>(
      'SELECT migration_name, finished_at IS NOT NULL AND rolled_back_at IS NULL AS finished FROM _prisma_migrations',
      urlFor(database),
    );
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((row) => row.finished)).toBe(true);

    const status = await prisma(['migrate', 'status'], urlFor(database));
    expect(status.stdout).toContain('Database schema is up to date!');
    expect(status.code).toBe(0);
  });

  // Its own timeout: five replays of every migration take longer with each migration, not with a fault.
  it('migrations and schema.prisma agree (migrate diff --exit-code), every time, leaving no shadow database', async (context) => {
    const database = await scratchDatabase(context);
    const before = await shadowDatabases();
    // --from-migrations replays the migrations in a shadow database. Several runs in a row: this once
    // failed on most runs (engine panic, then an error or a silent exit 0) and leaked the shadow database.
    const runs: Result[] = [];
    for (let attempt = 1; attempt <= 5; attempt++) {
      const diff = await prisma(
        ['migrate', 'diff', '--from-migrations', 'prisma/migrations', '--to-schema', 'prisma/schema.prisma', '--script', '--exit-code'],
        urlFor(database),
      );
      runs.push(diff);
      expect(diff.stdout.trim(), `run ${attempt}: ${diff.stderr}`).toBe('-- This is an empty migration.');
      expect(diff.code, `run ${attempt}: ${diff.stderr}`).toBe(0);
    }
    expect(await leftoverShadowDatabases(before, runs)).toEqual([]);
  }, 180_000);

  it('migrate diff --exit-code exits 2 with the script when migrations with a foreign key and a CHECK lag behind the schema', async (context) => {
    const database = await scratchDatabase(context);
    const project = await scratchProject(context, relationsSchema('  tag      String?\n'), { '20260101000000_init': relationsMigration });
    const before = await shadowDatabases();
    const diff = await prisma(
      ['migrate', 'diff', '--from-migrations', 'migrations', '--to-schema', 'schema.prisma', '--script', '--exit-code', '--config', 'prisma.config.mjs'],
      urlFor(database),
      project,
    );
    expect(diff.stdout.trim(), diff.stderr).toBe('-- AlterTable\nALTER TABLE "Note" ADD COLUMN     "tag" TEXT;');
    expect(diff.code, diff.stderr).toBe(2);
    expect(await leftoverShadowDatabases(before, [diff])).toEqual([]);
  });

  it('an engine panic is an error from the CLI (never a silent exit 0) and leaves no shadow database', async (context) => {
    const database = await scratchDatabase(context);
    const project = await scratchProject(context, relationsSchema(''), { '20260101000000_init': relationsMigration });
    const before = await shadowDatabases();
    // Test-only fault: hand "char" columns to the engine as text, the bug that made it panic.
    const diff = await run(
      process.execPath,
      [prismaCli, 'migrate', 'diff', '--from-migrations', 'migrations', '--to-schema', 'schema.prisma', '--script', '--exit-code', '--config', 'prisma.config.mjs'],
      { DATABASE_URL: urlFor(database), PRISMA_SCHEMA_ENGINE_BINARY: engine, HERALD_SCHEMA_ENGINE_FAULT: 'char-as-text' },
      project,
    );
    expect(diff.code).toBe(1);
    expect(diff.stdout + diff.stderr).toMatch(/panicked[\s\S]*Getting constraint_type from Resultrow/);
    expect(diff.stdout).not.toContain('This is an empty migration');
    expect(await leftoverShadowDatabases(before, [diff])).toEqual([]);
  });

  it('honours ?schema= in the URL', async (context) => {
    const database = await scratchDatabase(context);
    await migrateDeploy(urlFor(database, '?schema=herald'));
    expect(await tablesIn(database, 'herald')).toEqual(heraldTables);
    expect(await tablesIn(database, 'public')).toEqual([]);
  });

  it('migrate dev --create-only writes the next migration through a shadow database', async (context) => {
    const database = await scratchDatabase(context);
    const model = (extra: string) => `model Note {\n  id   Int    @id\n  text String\n${extra}}\n`;
    const project = await scratchProject(context, model(''), {
      '20260101000000_init': 'CREATE TABLE "Note" ("id" INTEGER NOT NULL, "text" TEXT NOT NULL, CONSTRAINT "Note_pkey" PRIMARY KEY ("id"));\n',
    });
    await writeFile(join(project, 'schema.prisma'), `datasource db {\n  provider = "postgresql"\n}\n\n${model('  tag  String?\n')}`);

    // Pending init migration + changed schema: the path that needs the devDiagnostic retry.
    const before = await shadowDatabases();
    const dev = await prisma(['migrate', 'dev', '--create-only', '--name', 'add_tag', '--config', 'prisma.config.mjs'], urlFor(database), project);
    expect(dev.code, dev.stdout + dev.stderr).toBe(0);
    const folder = (await readdir(join(project, 'migrations'))).find((name) => name.endsWith('_add_tag'));
    const created = await readFile(join(project, 'migrations', `${folder}`, 'migration.sql'), 'utf8');
    expect(created).toContain('ALTER TABLE "Note" ADD COLUMN     "tag" TEXT;');
    expect(await tablesIn(database)).toEqual(['Note', '_prisma_migrations']);
    expect(await leftoverShadowDatabases(before, [dev])).toEqual([]);
  });

  it('applies a migration script as a whole: `;` inside bodies works, a failure leaves nothing behind', async (context) => {
    const database = await scratchDatabase(context);
    const project = await scratchProject(context, '', {
      '20260101000000_function': "CREATE FUNCTION herald_one() RETURNS text LANGUAGE plpgsql AS $$ BEGIN RETURN 'a;b'; END $$;\n",
      '20260101000001_broken': 'CREATE TABLE half_applied (id INTEGER);\nSELEC 1;\n',
    });
    const deploy = await prisma(['migrate', 'deploy', '--config', 'prisma.config.mjs'], urlFor(database), project);
    expect(deploy.code).toBe(1);
    expect(deploy.stdout + deploy.stderr).toContain('syntax error at or near "SELEC"');

    const { rows } = await adminQuery<{ value: string }>('SELECT herald_one() AS value', urlFor(database));
    expect(rows[0]?.value).toBe('a;b');
    expect(await tablesIn(database)).toEqual(['_prisma_migrations']);
  });

  it('db execute runs a multi-statement script', async (context) => {
    const database = await scratchDatabase(context);
    const project = await scratchProject(context, '', {});
    await writeFile(join(project, 'script.sql'), "CREATE TABLE t (v text);\nINSERT INTO t VALUES ('x;y');\n");
    const exec = await prisma(['db', 'execute', '--file', 'script.sql', '--config', 'prisma.config.mjs'], urlFor(database), project);
    expect(exec.code, exec.stdout + exec.stderr).toBe(0);
    const { rows } = await adminQuery<{ v: string }>('SELECT v FROM t', urlFor(database));
    expect(rows).toEqual([{ v: 'x;y' }]);
  });
});
