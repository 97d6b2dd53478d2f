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
import { createInterface } from 'node:readline';
import { PrismaPg } from '@prisma/adapter-pg';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';
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

/** adapter-pg rejects the catalog types "char" (OID 18) and name (OID 19), which introspection
 * selects; both arrive as plain text, so relabel them as text (OID 25) before the adapter looks. */
class CatalogSafeClient extends pg.Client {
  /** @param {{ fields: { dataTypeID: number }[] }} message */
  _handleRowDescription(message) {
    for (const field of message.fields) if (field.dataTypeID === 18 || field.dataTypeID === 19) field.dataTypeID = 25;
    // @ts-expect-error private pg.Client method (pg is pinned; the tests cover introspection)
    super._handleRowDescription(message);
  }
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
 * implicit transaction; do the same.
 * @template {{ executeScript(script: string): Promise<void> }} A
 * @param {A} adapter
 * @returns {A}
 */
function runScriptsWhole(adapter) {
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

/** Shadow databases this process created and has not dropped yet (name → server URL), dropped at
 * exit in case the engine never disposed of them. */
/** @type {Map<string, string>} */
const shadowDatabases = new Map();

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
    return runScriptsWhole(await super.connect());
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
      return runScriptsWhole(await new PrismaPg(config, { schema }).connect());
    }
    const name = `prisma_migrate_shadow_db_${randomUUID()}`;
    await runSql(this.url, `CREATE DATABASE ${quoteIdent(name)}`);
    shadowDatabases.set(name, this.url);
    const { config, schema } = pgSettings(this.url, name);
    const adapter = runScriptsWhole(await new PrismaPg(config, { schema }).connect());
    const closePool = adapter.dispose.bind(adapter);
    adapter.dispose = async () => {
      await closePool();
      await dropShadowDatabase(this.url, name);
    };
    return adapter;
  }
}

/**
 * @param {string} url
 * @param {string} name
 */
async function dropShadowDatabase(url, name) {
  await runSql(url, `DROP DATABASE IF EXISTS ${quoteIdent(name)}`);
  shadowDatabases.delete(name);
}

// ---------------------------------------------------------------------------------------------------
// JSON-RPC mode

/** @param {unknown} message */
const send = (message) => process.stdout.write(`${JSON.stringify(message)}\n`);

let nextPrintId = 1;

/** Where the adapter binding keeps JS errors that the engine only reports as "External error id#N". */
/** @type {{ consumeError(id: number): { error: unknown } | undefined } | undefined} */
let errorRegistry;

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
 * @param {{ datamodels: string[], datasource: { url?: string, shadowDatabaseUrl?: string } }} options
 */
function serve({ datamodels, datasource }) {
  /** @type {Promise<import('@prisma/schema-engine-wasm').SchemaEngine> | undefined} */
  let enginePromise;
  const getEngine = () => (enginePromise ??= createEngine(datamodels, datasource));

  /**
   * @param {string} method
   * @param {any} params
   */
  async function handle(method, params) {
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
        // `--output` work); the CLI only gets the exit code back.
        const { exitCode, stdout } = await (await getEngine()).diff(params);
        if (stdout) send({ jsonrpc: '2.0', id: `print-${nextPrintId++}`, method: 'print', params: { content: stdout } });
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
    if (method === undefined) return; // the CLI's answer to one of our `print` requests
    queue = queue.then(async () => {
      try {
        const result = await handle(method, request.params);
        send({ jsonrpc: '2.0', id, result: result ?? null });
      } catch (error) {
        send({ jsonrpc: '2.0', id, error: rpcError(error) });
      }
    });
  });
  // Exit explicitly: leftover pg pools would otherwise keep the process alive for their idle timeout.
  lines.on('close', () => queue.then(() => cleanUpAndExit(0)));
}

/**
 * Turn an engine failure into the JSON-RPC error the CLI understands: data.error_code + data.message
 * for Prisma's user-facing errors, data.is_panic for crashes of the engine itself.
 * @param {any} error
 */
function rpcError(error) {
  const external = /External error id#(\d+)/.exec(String(error?.message));
  if (external) error = errorRegistry?.consumeError(Number(external[1]))?.error ?? error;
  if (error?.rpcCode) return { code: error.rpcCode, message: error.message };
  const summary = 'An error happened. Check the data field for details.';
  if (error instanceof WebAssembly.RuntimeError) {
    const message = /** @type {any} */ (globalThis).PRISMA_WASM_PANIC_REGISTRY.message || String(error);
    return { code: 4466, message: summary, data: { is_panic: true, message, backtrace: error.stack, error: { message } } };
  }
  if (/^P\d{4}$/.test(error?.code)) {
    return { code: 4466, message: summary, data: { is_panic: false, error_code: error.code, message: error.message, meta: error.meta ?? null } };
  }
  return { code: 4466, message: summary, data: { is_panic: false, message: String(error?.message ?? error) } };
}

/** @param {number} code */
async function cleanUpAndExit(code) {
  for (const [name, url] of shadowDatabases) {
    await dropShadowDatabase(url, name).catch((error) => log('WARN', `Could not drop ${name}: ${error}`));
  }
  process.exit(code);
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
  serve({ datamodels, datasource });
}

main().catch((error) => {
  log('ERROR', String(error?.stack ?? error), { is_panic: false });
  cleanUpAndExit(1);
});
