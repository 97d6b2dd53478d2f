#!/usr/bin/env node
// Stand-in for Prisma's native `schema-engine` binary, which cannot be downloaded on machines that only
// reach the npm registry. It speaks the binary's command-line protocol to the Prisma CLI and does the
// work with Prisma's own WebAssembly schema engine (@prisma/schema-engine-wasm) over @prisma/adapter-pg.
// Selected through PRISMA_SCHEMA_ENGINE_BINARY (see prisma.config.ts). README.md explains the protocol.
//
//   schema-engine --version
//   schema-engine --datasource JSON cli can-connect-to-database|create-database|drop-database
//   schema-engine [--datamodels FILE]... [--datasource JSON]   (JSON-RPC 2.0 on stdin/stdout)

import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { createInterface } from 'node:readline';
import { PrismaPg } from '@prisma/adapter-pg';
import { bindMigrationAwareSqlAdapterFactory, ColumnTypeEnum } from '@prisma/driver-adapter-utils';
import * as wasmGlue from '@prisma/schema-engine-wasm/schema_engine_bg';
import pg from 'pg';

// The CLI reads our stderr as JSON log lines (and, for `cli` commands, fails on anything else), so
// Node's own warnings (e.g. pg deprecations) must not be printed raw.
process.removeAllListeners('warning');
process.on('warning', (warning) => log('WARN', warning.message));

/**
 * One JSON log line on stderr, shaped like the native engine's tracing output.
 * @param {'INFO' | 'WARN' | 'ERROR'} level
 * @param {string} message
 * @param {Record<string, unknown>} [fields]
 */
function log(level, message, fields = {}) {
  const line = { timestamp: new Date().toISOString(), level, fields: { message, ...fields }, target: 'schema_engine::logger' };
  process.stderr.write(`${JSON.stringify(line)}\n`);
}

// ---------------------------------------------------------------------------------------------------
// PostgreSQL connections

/** Marks a result column that PostgreSQL sent as "char" (see CatalogSafeClient). */
const CHAR_COLUMN = Symbol('char column');

/** Test-only fault injection (`HERALD_SCHEMA_ENGINE_FAULT=char-as-text`): hand "char" columns to the
 * engine as text again, the bug that made the engine panic, so the tests can check that a panic still
 * ends in an error from the CLI (and no leftover shadow database). Never set it otherwise. */
const CHAR_AS_TEXT = process.env.HERALD_SCHEMA_ENGINE_FAULT === 'char-as-text';

/** adapter-pg rejects the catalog type "char" (OID 18), which the schema describer selects
 * (pg_constraint.contype, confdeltype, confupdtype): relabel it as text (OID 25) so the adapter accepts
 * it, and mark the column so that reportCharColumns() hands it to the engine as a Character, which is
 * what the describer reads it as (a text value there makes the wasm engine panic). `name` (OID 19) is
 * relabelled as text too (older adapter-pg builds rejected it; 7.10.1 maps it to text itself). */
class CatalogSafeClient extends pg.Client {
  /** @param {{ fields: { dataTypeID: number, [CHAR_COLUMN]?: boolean }[] }} message */
  _handleRowDescription(message) {
    for (const field of message.fields) {
      if (field.dataTypeID === 18) field[CHAR_COLUMN] = true;
      if (field.dataTypeID === 18 || field.dataTypeID === 19) field.dataTypeID = 25;
    }
    // @ts-expect-error private pg.Client method (pg is pinned; the tests cover introspection)
    super._handleRowDescription(message);
  }
}

/** Result rows (the array adapter-pg returns unchanged from queryRaw) → indexes of "char" columns. */
/** @type {WeakMap<unknown[], number[]>} */
const charColumnsOfRows = new WeakMap();

/**
 * Make adapter-pg report "char" columns as ColumnType Character instead of Text. The native engine
 * reads them as quaint `Char` values (`get_expect_char("constraint_type")` etc.); given text, the wasm
 * engine panics ("Getting constraint_type from Resultrow ... as char failed" → `RuntimeError:
 * unreachable`) as soon as a database has a CHECK constraint or a foreign key. adapter-pg keeps its
 * column-type mapping private, so this patches the class that both adapters and transactions share
 * (PgQueryable): performIO() notes which columns CatalogSafeClient marked, queryRaw() retypes them.
 * @param {object} adapter an adapter-pg adapter
 */
function reportCharColumns(adapter) {
  /** @type {any} */
  let queryable = adapter;
  while (queryable && !Object.hasOwn(queryable, 'performIO')) queryable = Object.getPrototypeOf(queryable);
  if (!queryable || !Object.hasOwn(queryable, 'queryRaw')) {
    throw new Error('@prisma/adapter-pg changed: no PgQueryable.performIO/queryRaw to patch (see README.md, "Upgrading Prisma").');
  }
  if (queryable[CHAR_COLUMN] || CHAR_AS_TEXT) return;
  queryable[CHAR_COLUMN] = true;
  const { performIO, queryRaw } = queryable;
  /** @param {unknown} query */
  queryable.performIO = async function performIOWithCharColumns(query) {
    const result = await performIO.call(this, query);
    const columns = (result?.fields ?? []).flatMap((/** @type {any} */ field, /** @type {number} */ i) => (field[CHAR_COLUMN] ? [i] : []));
    if (columns.length > 0) charColumnsOfRows.set(result.rows, columns);
    return result;
  };
  /** @param {unknown} query */
  queryable.queryRaw = async function queryRawWithCharColumns(query) {
    const result = await queryRaw.call(this, query);
    for (const i of charColumnsOfRows.get(result.rows) ?? []) result.columnTypes[i] = ColumnTypeEnum.Character;
    return result;
  };
}

// Query parameters that only Prisma's Rust driver understands; pg would ignore or misread them.
const PRISMA_ONLY_PARAMS = ['schema', 'connection_limit', 'pool_timeout', 'connect_timeout', 'socket_timeout',
  'pgbouncer', 'statement_cache_size', 'max_connection_lifetime', 'max_idle_connection_lifetime', 'sslaccept'];

/**
 * pg settings for a Prisma connection URL. `?schema=` must reach both the adapter ({schema}) and the
 * session's search_path, or the engine inspects one schema while the migrations create tables in
 * `public`.
 * @param {string} url
 * @param {string} [database] connect to this database instead of the URL's
 */
function pgSettings(url, database) {
  const parsed = new URL(url);
  const schema = parsed.searchParams.get('schema') ?? undefined;
  const timeout = Number(parsed.searchParams.get('connect_timeout') ?? 5); // Prisma's default: 5 s
  for (const param of PRISMA_ONLY_PARAMS) parsed.searchParams.delete(param);
  // A connection string beats a separate `database` option in pg, so switch databases in the URL.
  if (database !== undefined) parsed.pathname = `/${encodeURIComponent(database)}`;
  /** @type {pg.PoolConfig} */
  const config = { connectionString: parsed.toString(), Client: CatalogSafeClient, connectionTimeoutMillis: timeout * 1000 };
  if (schema) config.options = `-c search_path="${schema}"`;
  return { config, schema, database: decodeURIComponent(parsed.pathname.slice(1)), address: `${parsed.hostname}:${parsed.port || 5432}`, user: decodeURIComponent(parsed.username) };
}

/**
 * Run one SQL string (simple protocol, so it may hold several statements) on a fresh connection.
 * @param {string} url
 * @param {string} sql
 * @param {string} [database]
 */
async function runSql(url, sql, database) {
  const client = new CatalogSafeClient(pgSettings(url, database).config);
  client.on('error', () => {}); // a dropped connection surfaces through the query instead
  try {
    await client.connect();
    return await client.query(sql);
  } finally {
    await client.end().catch(() => {});
  }
}

/** @param {string} name */
const quoteIdent = (name) => `"${name.replaceAll('"', '""')}"`;

/**
 * Statements that act on a whole database (CREATE/DROP DATABASE) run from a maintenance database,
 * as the native engine does: `postgres`, else `template1`.
 * @param {string} url
 * @param {string} sql
 */
async function runOnServer(url, sql) {
  try {
    return await runSql(url, sql, 'postgres');
  } catch (error) {
    if (/** @type {{ code?: string }} */ (error).code !== '3D000') throw error;
    return await runSql(url, sql, 'template1');
  }
}

/**
 * A pg failure as the native engine reports it: Prisma's error code for connection problems and
 * (not) existing databases, otherwise `db error: ERROR: ...` without a code.
 * @param {unknown} error
 * @param {string} url
 * @returns {{ error_code?: string, message: string }}
 */
function describePgError(error, url) {
  const { address, database, user } = pgSettings(url);
  const { code = '', message = String(error) } = /** @type {{ code?: string, message?: string }} */ (error);
  // The database a failing statement names (e.g. DROP DATABASE in `db execute`), else the URL's.
  const named = /database "(.+)" (?:does not|already) exist/.exec(message)?.[1] ?? database;
  if (['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ETIMEDOUT', 'EAI_AGAIN'].includes(code) || /timeout/i.test(message)) {
    return { error_code: 'P1001', message: `Can't reach database server at \`${address}\`\n\nPlease make sure your database server is running at \`${address}\`.` };
  }
  if (code === '3D000') return { error_code: 'P1003', message: `Database \`${named}\` does not exist on the database server at \`${address}\`.` };
  if (code === '28P01' || code === '28000') {
    return { error_code: 'P1000', message: `Authentication failed against database server at \`${address}\`, the provided database credentials for \`${user}\` are not valid.\n\nPlease make sure to provide valid database credentials for the database server at \`${address}\`.` };
  }
  if (code === '42P04') return { error_code: 'P1009', message: `Database \`${named}\` already exists on the database server at \`${address}\`` };
  return { message: code ? `db error: ERROR: ${message}` : message };
}

/**
 * Run `work` and rethrow a pg failure in the shape rpcError() reports (code = Prisma's error code).
 * @template T
 * @param {string} url
 * @param {() => Promise<T>} work
 */
async function withPrismaErrors(url, work) {
  try {
    return await work();
  } catch (error) {
    const { error_code, message } = describePgError(error, url);
    throw Object.assign(new Error(message), { code: error_code });
  }
}

// ---------------------------------------------------------------------------------------------------
// `cli` sub-commands: exit code plus log lines on stderr. The CLI skips the first stderr line and then
// looks for an ERROR line from `schema_engine::logger` with fields.error_code and fields.message.

/**
 * @param {string} command
 * @param {string} url
 */
async function runCliCommand(command, url) {
  log('INFO', `Starting schema engine CLI (${command})`);
  const { database } = pgSettings(url);
  try {
    if (command === 'can-connect-to-database') await runSql(url, 'SELECT 1');
    else if (command === 'create-database') await runOnServer(url, `CREATE DATABASE ${quoteIdent(database)}`);
    else if (command === 'drop-database') await runOnServer(url, `DROP DATABASE ${quoteIdent(database)}`);
    else throw new Error(`Unknown schema engine CLI command: ${command}`);
    return 0;
  } catch (error) {
    const { error_code, message } = describePgError(error, url);
    log('ERROR', message, { is_panic: false, ...(error_code ? { error_code } : {}) });
    return 1;
  }
}

// ---------------------------------------------------------------------------------------------------
// The WebAssembly engine

/** Node 20 cannot `import` a .wasm file, so instantiate it by hand against the package's JS glue. */
async function loadWasm() {
  // The glue reports panics to this registry (the same one the Prisma CLI installs for its own wasm).
  /** @type {any} */ (globalThis).PRISMA_WASM_PANIC_REGISTRY ??= {
    message: '',
    /** @param {string} message */
    set_message(message) { this.message = `RuntimeError: ${message}`; },
  };
  const wasmUrl = new URL('schema_engine_bg.wasm', import.meta.resolve('@prisma/schema-engine-wasm/schema_engine_bg'));
  const module = await WebAssembly.compile(await readFile(wasmUrl));
  const instance = new WebAssembly.Instance(module, { './schema_engine_bg.js': /** @type {any} */ (wasmGlue) });
  wasmGlue.__wbg_set_wasm(instance.exports);
  /** @type {any} */ (instance.exports).__wbindgen_start();
  return wasmGlue;
}

/**
 * adapter-pg's executeScript() splits a script on every `;` and runs the pieces one by one: a failing
 * migration stays half-applied, and a `;` inside a string or a function body breaks the script. The
 * native engine sends the whole script as one simple-protocol query, which PostgreSQL runs as one
 * implicit transaction; do the same. Also applies reportCharColumns().
 * @template {{ executeScript(script: string): Promise<void> }} A
 * @param {A} adapter
 * @returns {A}
 */
function prepareAdapter(adapter) {
  reportCharColumns(adapter);
  const pool = /** @type {any} */ (adapter).underlyingDriver();
  adapter.executeScript = async (script) => {
    try {
      await pool.query(script);
    } catch (error) {
      /** @type {any} */ (adapter).onError(error); // throws the adapter's DriverAdapterError
    }
  };
  return adapter;
}

/** @param {number} ms */
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms).unref());

/**
 * Shadow databases this process created and has not dropped yet: name → release(), which closes the
 * pool and drops the database (once; retried if it failed). The engine disposes of each shadow
 * database before it answers the request that needed it; whatever is still here when a request has
 * been answered (the engine panicked) or at exit is released by us.
 * @type {Map<string, () => Promise<void>>}
 */
const shadowDatabases = new Map();

// Shadow databases are marked with a comment, so that one left behind by a process that died (killed,
// or a crash of the machine) can be told apart from one in use and dropped later (dropStaleShadowDatabases).
const SHADOW_MARKER = 'herald prisma-schema-engine shadow database ';
const STALE_AFTER_MS = 5 * 60_000;

/**
 * adapter-pg's own connectToShadowDb() drops the shadow database while its pool is still connected
 * (so the drop fails), and with a connection string it even connects to the main database. This one
 * creates `prisma_migrate_shadow_db_<uuid>` on the same server, closes the pool, then drops it; with a
 * shadowDatabaseUrl it uses that database after emptying it, as the native engine does.
 */
class MigrationAdapterFactory extends PrismaPg {
  /**
   * @param {string} url
   * @param {string | undefined} shadowDatabaseUrl
   */
  constructor(url, shadowDatabaseUrl) {
    const { config, schema } = pgSettings(url);
    super(config, { schema });
    this.url = url;
    this.shadowDatabaseUrl = shadowDatabaseUrl;
  }

  async connect() {
    return prepareAdapter(await super.connect());
  }

  async connectToShadowDb() {
    if (this.shadowDatabaseUrl) {
      const { config, schema = 'public', address, database } = pgSettings(this.shadowDatabaseUrl);
      const main = pgSettings(this.url);
      if (address === main.address && database === main.database) {
        // Emptying it would wipe the main database; the native engine refuses too.
        throw Object.assign(new Error('The shadow database you configured appears to be the same as the main database. Please specify another shadow database.'), { code: 'P3014' });
      }
      await runSql(this.shadowDatabaseUrl, `DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE; CREATE SCHEMA ${quoteIdent(schema)}`);
      return prepareAdapter(await new PrismaPg(config, { schema }).connect());
    }
    await dropStaleShadowDatabases(this.url).catch((error) => log('WARN', `Could not check for stale shadow databases: ${error}`));
    const name = `prisma_migrate_shadow_db_${randomUUID()}`;
    await runSql(this.url, `CREATE DATABASE ${quoteIdent(name)}`);
    const marker = { host: hostname(), pid: process.pid, ppid: process.ppid, created: new Date().toISOString() };
    /** @type {() => Promise<void>} */
    let closePool = async () => {};
    let released = /** @type {Promise<void> | undefined} */ (undefined);
    const release = () => (released ??= (async () => {
      // pool.end() waits for checked-out clients, which an engine that panicked never releases.
      const closed = await Promise.race([closePool().then(() => true, () => false), sleep(2000).then(() => false)]);
      await dropDatabase(this.url, name, !closed);
      shadowDatabases.delete(name);
    })().catch((error) => {
      released = undefined; // try again at exit
      throw error;
    }));
    shadowDatabases.set(name, release);
    try {
      await runSql(this.url, `COMMENT ON DATABASE ${quoteIdent(name)} IS '${SHADOW_MARKER}${JSON.stringify(marker).replaceAll("'", "''")}'`);
      const { config, schema } = pgSettings(this.url, name);
      const adapter = prepareAdapter(await new PrismaPg(config, { schema }).connect());
      closePool = adapter.dispose.bind(adapter);
      adapter.dispose = release;
      return adapter;
    } catch (error) {
      await release().catch(() => {});
      throw error;
    }
  }
}

/**
 * DROP DATABASE; with `force`, or when sessions are still connected (an engine that panicked), also
 * disconnect them (PostgreSQL 13+). Only for databases this process created.
 * @param {string} url
 * @param {string} name
 * @param {boolean} [force]
 */
async function dropDatabase(url, name, force = false) {
  if (!force) {
    try {
      await runSql(url, `DROP DATABASE IF EXISTS ${quoteIdent(name)}`);
      return;
    } catch (error) {
      if (/** @type {{ code?: string }} */ (error).code !== '55006') throw error; // object_in_use
    }
  }
  await runSql(url, `DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
}

/** Close and drop every shadow database this process still has (see shadowDatabases). */
async function releaseShadowDatabases() {
  for (const [name, release] of [...shadowDatabases]) {
    await release().catch((error) => log('WARN', `Could not drop shadow database ${name}: ${error}`));
  }
}

/** @param {number} pid */
function processIsAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return /** @type {{ code?: string }} */ (error).code === 'EPERM';
  }
}

/**
 * Drop shadow databases that this stand-in created and whose run is certainly over: marked by us,
 * created more than STALE_AFTER_MS ago, no session connected, and, if created on this host, the
 * creating process is gone. Unmarked ones (another tool's, or from older versions) are left alone.
 * @param {string} url
 */
async function dropStaleShadowDatabases(url) {
  const { rows } = await runSql(url, `SELECT d.datname AS name, shobj_description(d.oid, 'pg_database') AS comment,
      EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.datid = d.oid) AS in_use
    FROM pg_database d WHERE d.datname LIKE 'prisma\\_migrate\\_shadow\\_db\\_%'`);
  for (const { name, comment, in_use: inUse } of rows) {
    if (inUse || typeof comment !== 'string' || !comment.startsWith(SHADOW_MARKER)) continue;
    /** @type {{ host?: string, pid?: number, created?: string }} */
    let marker;
    try {
      marker = JSON.parse(comment.slice(SHADOW_MARKER.length));
    } catch {
      continue;
    }
    const age = Date.now() - Date.parse(marker.created ?? '');
    if (!(age > STALE_AFTER_MS)) continue;
    if (marker.host === hostname() && (typeof marker.pid !== 'number' || processIsAlive(marker.pid))) continue;
    try {
      await runSql(url, `DROP DATABASE IF EXISTS ${quoteIdent(name)}`); // no FORCE: if anyone connected meanwhile, keep it
      log('INFO', `Dropped stale shadow database ${name} (created ${marker.created} by process ${marker.pid} on ${marker.host})`);
    } catch (error) {
      log('WARN', `Could not drop stale shadow database ${name}: ${error}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// JSON-RPC mode

/** @param {unknown} message */
const send = (message) => process.stdout.write(`${JSON.stringify(message)}\n`);

let nextPrintId = 1;
/** `print` requests sent to the CLI and not answered yet: id → resolve. */
/** @type {Map<string, () => void>} */
const pendingPrints = new Map();

/**
 * Ask the CLI to print `content` and wait for its answer, as the native engine does before it answers
 * `diff`: the output is then on the CLI's stdout (or in its `--output` capture) before the CLI learns
 * the exit code and goes on to exit.
 * @param {string} content
 */
function printOnCli(content) {
  const id = `print-${nextPrintId++}`;
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      log('WARN', `No answer from the CLI to ${id} within 30 s; continuing.`);
      done();
    }, 30_000);
    const done = () => {
      clearTimeout(timer);
      pendingPrints.delete(id);
      resolve(undefined);
    };
    pendingPrints.set(id, done);
    send({ jsonrpc: '2.0', id, method: 'print', params: { content } });
  });
}

/** Where the adapter binding keeps JS errors that the engine only reports as "External error id#N". */
/** @type {{ consumeError(id: number): { error: unknown } | undefined } | undefined} */
let errorRegistry;

// ---------------------------------------------------------------------------------------------------
// Engine failures. A panic in the wasm engine traps (`RuntimeError: unreachable`), usually inside a
// promise callback, so it surfaces as an uncaught exception rather than as a rejection of the pending
// engine call, which then never settles. Unhandled, Node would exit 1 with the CLI's request
// unanswered, and Prisma 7's CLI then often exits 0 without output: stop() waits for an `exit` event
// that has already happened, on an unref'd timer, so nothing keeps it alive. So a failure is answered
// as an error to the request in flight (and any later one), and the process lives on until stdin closes.

/** @type {unknown} */
let engineFailure;
/** @type {(error: unknown) => void} */
let rejectEngineFailed = () => {};
/** Rejects when the engine fails; raced against every request. */
const engineFailed = new Promise((_, reject) => {
  rejectEngineFailed = reject;
});
engineFailed.catch(() => {});

/** @param {unknown} error */
function failEngine(error) {
  if (engineFailure !== undefined) return;
  engineFailure = error;
  log('ERROR', `The schema engine failed: ${panicMessage(error)}`, { is_panic: error instanceof WebAssembly.RuntimeError });
  rejectEngineFailed(error);
}

/** The wasm panic message the glue reported (see loadWasm), else the error itself.
 * @param {unknown} error */
function panicMessage(error) {
  const registered = /** @type {any} */ (globalThis).PRISMA_WASM_PANIC_REGISTRY?.message;
  if (error instanceof WebAssembly.RuntimeError && registered) return registered;
  return String(/** @type {any} */ (error)?.stack ?? error);
}

/**
 * Create the wasm engine. SchemaEngine.new() already queries the database (version, schema), so it
 * needs a reachable database; its errors carry no Prisma error code, so ask pg what went wrong.
 * @param {string[]} datamodels
 * @param {{ url?: string, shadowDatabaseUrl?: string }} datasource
 */
async function createEngine(datamodels, datasource) {
  const { url, shadowDatabaseUrl } = datasource;
  if (!url) throw new Error('The schema engine needs a database: set `datasource.url` in prisma.config.ts (DATABASE_URL).');
  const wasm = await loadWasm();
  const files = datamodels.map((path) => [path, readFileSync(path, 'utf8')]);
  const factory = bindMigrationAwareSqlAdapterFactory(/** @type {any} */ (new MigrationAdapterFactory(url, shadowDatabaseUrl)));
  errorRegistry = /** @type {any} */ (factory).errorRegistry;
  try {
    return await wasm.SchemaEngine.new(
      /** @type {any} */ ({ datamodels: files.length > 0 ? files : undefined }),
      /** @param {string} line the engine's own JSON log line */
      (line) => process.stderr.write(line.endsWith('\n') ? line : `${line}\n`),
      factory,
    );
  } catch (error) {
    await withPrismaErrors(url, () => runSql(url, 'SELECT 1'));
    throw error;
  }
}

/**
 * Answer the CLI's requests until it closes stdin. The engine is created on first use, and a failure
 * to create it is answered per request: exiting early would leave the CLI waiting for an answer that
 * never comes, and it then exits 0 without output.
 * @param {{ datamodels: string[], datasource: { url?: string, shadowDatabaseUrl?: string }, startupError?: unknown }} options
 */
function serve({ datamodels, datasource, startupError }) {
  process.on('uncaughtException', failEngine);
  process.on('unhandledRejection', failEngine);
  // The CLI ends stdin and sends SIGTERM right after it (Prisma 7: on a 0 ms timer): clean up first.
  for (const signal of /** @type {const} */ (['SIGTERM', 'SIGINT', 'SIGHUP'])) {
    process.on(signal, () => shutDown(engineFailure === undefined ? 0 : 101));
  }
  process.stdout.on('error', () => shutDown(1)); // the CLI is gone (EPIPE)

  /** @type {Promise<import('@prisma/schema-engine-wasm').SchemaEngine> | undefined} */
  let enginePromise;
  const getEngine = () => (enginePromise ??= createEngine(datamodels, datasource));

  /**
   * @param {string} method
   * @param {any} params
   */
  async function handle(method, params) {
    if (startupError) throw startupError;
    if (engineFailure !== undefined) throw engineFailure; // a wasm instance that trapped is not used again
    switch (method) {
      case 'dbExecute': {
        // The script runs as one simple-protocol query, like the native engine's raw command.
        const url = params.datasourceType.tag === 'url' ? params.datasourceType.url : datasource.url;
        if (!url) throw new Error('No datasource URL was given for `db execute`.');
        await withPrismaErrors(url, () => runSql(url, params.script));
        return null;
      }
      case 'createDatabase': {
        const url = params.datasource.tag === 'ConnectionString' ? params.datasource.url : datasource.url;
        const { database } = pgSettings(url);
        await withPrismaErrors(url, () => runOnServer(url, `CREATE DATABASE ${quoteIdent(database)}`));
        return { databaseName: database };
      }
      case 'getDatabaseVersion':
        return (await getEngine()).version(params);
      case 'diff': {
        // The native engine prints the diff itself by asking the CLI to `print` it (which also makes
        // `--output` work), and answers `diff` (with the exit code only) once the CLI has answered that.
        const { exitCode, stdout } = await (await getEngine()).diff(params);
        if (stdout) await printOnCli(stdout);
        return { exitCode, stdout: null };
      }
      case 'evaluateDataLoss':
      case 'createMigration': {
        // Both read a cache that devDiagnostic fills; on a miss (e.g. `migrate dev` right after it
        // applied pending migrations) the connector fails with "PostgreSQL shadow DB must be provided
        // through an external factory". Filling the cache and retrying once fixes it.
        const engine = await getEngine();
        try {
          return await engine[method](params);
        } catch (error) {
          if (!/shadow DB must be provided through an external factory/.test(String(error))) throw error;
          log('INFO', `${method}: filling the engine's cache with devDiagnostic and retrying`);
          await engine.devDiagnostic({ migrationsList: params.migrationsList, filters: params.filters });
          return await engine[method](params);
        }
      }
      default: {
        // Everything else is a SchemaEngine method of the same name.
        const known = /** @type {any} */ (wasmGlue.SchemaEngine.prototype)[method];
        if (typeof known !== 'function' || ['free', 'constructor', '__destroy_into_raw'].includes(method)) {
          throw Object.assign(new Error(`Method not found: ${method}`), { rpcCode: -32601 });
        }
        return await /** @type {any} */ (await getEngine())[method](params);
      }
    }
  }

  // One request at a time: the CLI never overlaps requests, and the engine need not cope with it.
  let queue = Promise.resolve();
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  lines.on('line', (line) => {
    if (!line.trim()) return;
    /** @type {{ id?: string | number, method?: string, params?: unknown }} */
    let request;
    try {
      request = JSON.parse(line);
    } catch {
      send({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } });
      return;
    }
    const { id, method } = request;
    if (method === undefined) {
      // The CLI's answer to one of our `print` requests.
      pendingPrints.get(String(id))?.();
      return;
    }
    queue = queue.then(async () => {
      /** @type {object} */
      let answer;
      try {
        const result = await Promise.race([handle(method, request.params), engineFailed]);
        answer = { result: result ?? null };
      } catch (error) {
        // A synchronous trap (e.g. debugPanic) leaves the wasm instance as unusable as an async one.
        if (error instanceof WebAssembly.RuntimeError) failEngine(error);
        answer = { error: rpcError(error) };
      }
      // The engine disposes of (and so drops) each shadow database before it answers; one still here
      // was abandoned by a failed engine. Drop it before answering: the CLI kills this process as soon
      // as it is done with it.
      if (shadowDatabases.size > 0) {
        log('WARN', `Dropping ${shadowDatabases.size} shadow database(s) the engine did not dispose of`);
        await releaseShadowDatabases();
      }
      send({ jsonrpc: '2.0', id, ...answer });
    });
  });
  // Exit explicitly: leftover pg pools would otherwise keep the process alive for their idle timeout.
  lines.on('close', () => {
    for (const done of pendingPrints.values()) done();
    queue.then(() => shutDown(engineFailure === undefined ? 0 : 101));
  });
}

/**
 * Turn an engine failure into the JSON-RPC error the CLI understands: data.error_code + data.message
 * for Prisma's user-facing errors, data.message for anything else. A wasm panic is reported with
 * is_panic false on purpose: with is_panic the CLI offers to file a crash report with Prisma (and
 * tries to reach Prisma's servers), which is not where a problem of this stand-in belongs.
 * @param {any} error
 */
function rpcError(error) {
  const external = /External error id#(\d+)/.exec(String(error?.message));
  if (external) error = errorRegistry?.consumeError(Number(external[1]))?.error ?? error;
  if (error?.rpcCode) return { code: error.rpcCode, message: error.message };
  const summary = 'An error happened. Check the data field for details.';
  if (error instanceof WebAssembly.RuntimeError) {
    const message = `The schema engine (${import.meta.url.replace(/^file:\/\//, '')}, running @prisma/schema-engine-wasm) panicked:\n${panicMessage(error)}`;
    return { code: 4466, message: summary, data: { is_panic: false, message, backtrace: error.stack } };
  }
  if (/^P\d{4}$/.test(error?.code)) {
    return { code: 4466, message: summary, data: { is_panic: false, error_code: error.code, message: error.message, meta: error.meta ?? null } };
  }
  return { code: 4466, message: summary, data: { is_panic: false, message: String(error?.message ?? error) } };
}

/** @type {Promise<never> | undefined} */
let shuttingDown;

/**
 * Drop what is left and exit (once). Bounded: a hanging server must not keep the process alive.
 * @param {number} code
 */
function shutDown(code) {
  shuttingDown ??= (async () => {
    setTimeout(() => process.exit(code), 15_000).unref();
    await releaseShadowDatabases();
    process.exit(code);
  })();
  return shuttingDown;
}

// ---------------------------------------------------------------------------------------------------
// Entry point

async function main() {
  const args = process.argv.slice(2);
  if (args.includes('--version') || args.includes('-V')) {
    const wasm = await loadWasm();
    process.stdout.write(`schema-engine-cli ${wasm.version()}\n`);
    return;
  }

  /** @type {string[]} */
  const datamodels = [];
  /** @type {{ url?: string, shadowDatabaseUrl?: string }} */
  let datasource = {};
  try {
    for (let i = 0; i < args.length; i++) {
      const arg = args[i];
      if (arg === '--datamodels') datamodels.push(/** @type {string} */ (args[++i]));
      else if (arg === '--datasource') datasource = JSON.parse(/** @type {string} */ (args[++i]));
      else if (arg === '--enabled-preview-features' || arg === '--extension-types') i++; // nothing to do for PostgreSQL
      else if (arg === 'cli') {
        const command = args[i + 1] ?? '';
        if (!datasource.url) {
          log('INFO', 'Starting schema engine CLI');
          log('ERROR', 'No datasource URL was given.');
          process.exit(1);
        }
        process.exit(await runCliCommand(command, datasource.url));
      }
    }
  } catch (error) {
    // Answer the CLI's requests with it instead of exiting (see serve()).
    log('ERROR', String(/** @type {any} */ (error)?.stack ?? error), { is_panic: false });
    serve({ datamodels, datasource, startupError: error });
    return;
  }
  serve({ datamodels, datasource });
}

main().catch((error) => {
  log('ERROR', String(error?.stack ?? error), { is_panic: false });
  shutDown(1);
});
