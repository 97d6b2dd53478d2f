/**
 * Send throughput, in-flight sends and memory, in one run on this machine: bare BullMQ making one
 * @sendgrid/mail call per job against Herald end to end (POST /send → fan-out → claim → SendGrid
 * client → mark sent), at provider latency 0 and 100 ms and WORKER_CONCURRENCY 20 and 200, then
 * Herald at concurrency 200 and 100 ms over growing audiences for worker RSS and Redis memory.
 *
 * Each system runs in a process of its own (Herald's real worker entry point, built, or the bare sender)
 * against a private Redis started for the run (so its memory is Herald's alone) and a minimal
 * provider stand-in in its own process that answers after the latency and counts requests,
 * recipients and in-flight requests. The web app runs in this process over a scratch database.
 * Figures are ratios within the run; the machine is shared, so run it twice and report the spread.
 *
 * Usage: npm run measure:throughput -- [recipients=5000] [audiences=10000,100000] [--profile] [--only-matrix|--only-scale|--only-profile]
 *   --profile  runs Herald's worker with --cpu-prof at concurrency 200, 100 ms, and prints where its CPU went.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { startMailSink } from '../apps/mail-sink/src/start.js';
import { benchAdminToken, startBenchWeb } from './bench-web.js';

const flags = new Set(process.argv.slice(2).filter((arg) => arg.startsWith('--')));
const [recipientsArg, audiencesArg] = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
const recipients = Number(recipientsArg ?? 5_000);
const audiences = (audiencesArg ?? '10000,100000').split(',').map(Number);
const root = path.resolve(import.meta.dirname, '..');
const tsxNode = [process.execPath, '--import', 'tsx', '--conditions=herald-source'];
const metricsToken = 'bench-metrics-token-0123456789';
const log = (...parts: unknown[]) => console.error(`[${new Date().toISOString().slice(11, 19)}]`, ...parts);

type Run = {
  system: 'bare' | 'herald';
  latencyMs: number;
  concurrency: number;
  recipients: number;
  sendsPerSecond: number;
  /** Requests open at the provider, time-averaged over the run, and at most. */
  inFlightAverage: number;
  inFlightPeak: number;
  exactlyOnce: boolean;
  workerRssPeakMb: number;
  workerCpuPercent: number;
  redisPeakMb: number;
  /** Herald only, from the worker's /metrics: running send jobs, pool waits, event-loop delay. */
  jobsRunningAverage?: number;
  dbPoolWaitingAverage?: number;
  redisPendingAverage?: number;
  eventLoopP99MaxMs?: number;
};

// ---------------------------------------------------------------- processes

type Child = { process: ChildProcess; lines: string[]; waitForLine(match: (line: string) => boolean, timeoutMs?: number): Promise<string> };

const children = new Set<ChildProcess>();
// A run stopped with Ctrl-C (or killed) takes its workers, stand-ins and Redis servers with it.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    for (const child of children) child.kill('SIGKILL');
    process.exit(1);
  });
}

process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

function startChild(args: string[], env: Record<string, string>): Child {
  const child = track(spawn(args[0]!, args.slice(1), { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] }));
  const lines: string[] = [];
  const waiters: { match: (line: string) => boolean; resolve: (line: string) => void }[] = [];
  const onLine = (line: string) => {
    if (lines.length < 200) lines.push(line);
    for (const waiter of [...waiters]) {
      if (waiter.match(line)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  };
  createInterface({ input: child.stdout! }).on('line', onLine);
  createInterface({ input: child.stderr! }).on('line', onLine);
  return {
    process: child,
    lines,
    waitForLine(match, timeoutMs = 120_000) {
      const found = lines.find(match);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`child did not print the expected line:\n${lines.join('\n')}`)), timeoutMs);
        waiters.push({ match, resolve: (line) => (clearTimeout(timer), resolve(line)) });
      });
    },
  };
}

async function stopChild(child: Child): Promise<void> {
  if (child.process.exitCode !== null) return;
  const exited = once(child.process, 'exit');
  child.process.kill('SIGTERM');
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 30_000))]);
  if (child.process.exitCode === null) child.process.kill('SIGKILL');
}

/** Resident memory now and at its peak (VmHWM), and CPU seconds used, of a live process. */
function processStats(pid: number): { rssMb: number; peakRssMb: number; cpuSeconds: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const ticks = Number(stat[11]) + Number(stat[12]);
  return { rssMb: kb('VmRSS') / 1024, peakRssMb: kb('VmHWM') / 1024, cpuSeconds: ticks / 100 };
}

let redisPort = 6390;

/** A Redis of this run's own (no persistence, noeviction), so its memory is the system's alone. */
async function startRedis(): Promise<{ url: string; client: Redis; usedMemoryMb(): Promise<number>; close(): Promise<void> }> {
  for (; redisPort <= 6399; redisPort += 1) {
    const port = redisPort;
    const server = track(spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    }));
    const output: string[] = [];
    server.stdout!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    const ready = await new Promise<boolean>((resolve) => {
      server.on('exit', () => resolve(false));
      const poll = setInterval(() => {
        if (output.join('').includes('Ready to accept connections')) {
          clearInterval(poll);
          resolve(true);
        }
      }, 20);
    });
    if (!ready) continue;
    const url = `redis://127.0.0.1:${port}`;
    const client = new Redis(url);
    return {
      url,
      client,
      async usedMemoryMb() {
        const info = await client.info('memory');
        return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0) / 1024 / 1024;
      },
      async close() {
        client.disconnect();
        const exited = once(server, 'exit');
        server.kill('SIGTERM');
        await exited;
      },
    };
  }
  throw new Error('no free port for a private Redis in 6390-6399');
}

// ---------------------------------------------------------------- provider stand-in

type ProviderStats = { requests: number; recipients: number; duplicates: number; inFlightAverage: number; inFlightPeak: number };

async function startProvider(latencyMs: number) {
  const child = startChild([...tsxNode, 'scripts/throughput/provider-stand-in.ts'], { LATENCY_MS: String(latencyMs) });
  const { port } = JSON.parse(await child.waitForLine((line) => line.startsWith('{"port"'))) as { port: number };
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    async stats(): Promise<ProviderStats> {
      return (await (await fetch(`${url}/stats`)).json()) as ProviderStats;
    },
    async reset() {
      await fetch(`${url}/stats`, { method: 'DELETE' });
    },
    close: () => stopChild(child),
  };
}
type Provider = Awaited<ReturnType<typeof startProvider>>;

// ---------------------------------------------------------------- sampling

/** Samples a run every 250 ms until stopped: Redis memory, worker RSS and, for Herald, its /metrics. */
function sampleRun(redis: { usedMemoryMb(): Promise<number> }, pid: number, metricsUrl?: string) {
  let redisPeak = 0;
  let rssPeak = 0;
  const series: Record<string, number[]> = {};
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      redisPeak = Math.max(redisPeak, await redis.usedMemoryMb().catch(() => 0));
      try {
        rssPeak = Math.max(rssPeak, processStats(pid).rssMb);
      } catch {
        // The process is gone; the run is over.
      }
      if (metricsUrl) {
        const text = await fetch(metricsUrl, { headers: { authorization: `Bearer ${metricsToken}` } })
          .then((res) => res.text())
          .catch(() => '');
        for (const line of text.split('\n')) {
          const match = /^(herald_worker_[a-z0-9_]+) ([0-9.e+-]+)$/.exec(line);
          if (match) (series[match[1]!] ??= []).push(Number(match[2]));
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  })();
  const average = (name: string) => {
    const values = series[name] ?? [];
    return values.length > 0 ? values.reduce((sum, value) => sum + value, 0) / values.length : 0;
  };
  return {
    async stop() {
      stopped = true;
      await loop;
      return {
        redisPeakMb: redisPeak,
        rssPeakMb: rssPeak,
        jobsRunningAverage: average('herald_worker_send_jobs_running'),
        dbPoolWaitingAverage: average('herald_worker_db_pool_waiting'),
        redisPendingAverage: average('herald_worker_redis_commands_pending'),
        eventLoopP99MaxMs: Math.max(0, ...(series.herald_worker_event_loop_delay_p99_seconds ?? [])) * 1000,
      };
    },
  };
}

async function waitUntil(check: () => Promise<boolean> | boolean, intervalMs = 100) {
  while (!(await check())) await new Promise((resolve) => setTimeout(resolve, intervalMs));
}

// ---------------------------------------------------------------- the two systems

/** Where the bare sender sends, when not to the stand-in: the mail sink, for the bottleneck check. */
type Target = { url: string; requests(): Promise<number> };

async function runBare(provider: Provider, latencyMs: number, concurrency: number, count: number, target?: Target): Promise<Run> {
  const redis = await startRedis();
  const prefix = `bare-${Date.now()}`;
  const child = startChild([...tsxNode, 'scripts/throughput/bare-sender.ts'], {
    REDIS_URL: redis.url,
    QUEUE_PREFIX: prefix,
    CONCURRENCY: String(concurrency),
    PROVIDER_URL: target?.url ?? provider.url,
  });
  await child.waitForLine((line) => line === 'ready');
  await provider.reset();
  const queue = new Queue('bare-sends', { connection: redis.client, prefix });
  const pid = child.process.pid!;
  const cpuBefore = processStats(pid).cpuSeconds;
  const sampler = sampleRun(redis, pid);
  const started = performance.now();
  for (let i = 0; i < count; i += 1_000) {
    await queue.addBulk(
      Array.from({ length: Math.min(1_000, count - i) }, (_, j) => ({ name: 'send', data: { email: `reader-${i + j}@example.com` } })),
    );
  }
  const requests = target ? target.requests : async () => (await provider.stats()).requests;
  await waitUntil(async () => (await requests()) >= count);
  const seconds = (performance.now() - started) / 1000;
  const { peakRssMb, cpuSeconds } = processStats(pid);
  const sampled = await sampler.stop();
  const stats = await provider.stats();
  await stopChild(child);
  await queue.close();
  await redis.close();
  return {
    system: 'bare',
    latencyMs,
    concurrency,
    recipients: count,
    sendsPerSecond: count / seconds,
    inFlightAverage: stats.inFlightAverage,
    inFlightPeak: stats.inFlightPeak,
    exactlyOnce: stats.recipients === count && stats.duplicates === 0,
    workerRssPeakMb: peakRssMb,
    workerCpuPercent: ((cpuSeconds - cpuBefore) / seconds) * 100,
    redisPeakMb: sampled.redisPeakMb,
  };
}

let databaseCount = 0;

async function runHerald(provider: Provider, latencyMs: number, concurrency: number, count: number, options: { profileDir?: string } = {}): Promise<Run> {
  const redis = await startRedis();
  const prefix = `herald-${Date.now()}`;
  const web = await startBenchWeb(`herald_bench_inflight_${(databaseCount += 1)}`, { REDIS_URL: redis.url, QUEUE_PREFIX: prefix, NEWSLETTER_NAME: 'Bench' });
  await web.db.$executeRaw`
    INSERT INTO subscribers (email, name, status) SELECT 'reader-' || n || '@example.com', 'Reader ' || n, 'active'
    FROM generate_series(0, ${count - 1}::int) AS n`;
  const profile = options.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.profileDir}`] : [];
  // The worker as it runs in production: compiled JavaScript (built at the start of the run).
  const child = startChild([process.execPath, ...profile, 'apps/worker/dist/main.js'], {
    NODE_ENV: 'production',
    NEWSLETTER_NAME: 'Bench',
    LOG_LEVEL: 'info',
    DATABASE_URL: web.config.databaseUrl,
    REDIS_URL: redis.url,
    QUEUE_PREFIX: prefix,
    PUBLIC_URL: 'https://bench.example.com',
    SENDGRID_API_KEY: 'SG.bench',
    SENDGRID_API_URL: provider.url,
    MAIL_FROM: 'bench@example.com',
    MAIL_POSTAL_ADDRESS: '1 Bench Street',
    WORKER_CONCURRENCY: String(concurrency),
    SEND_RATE_PER_SECOND: '10000',
    WORKER_HTTP_PORT: '0',
    WORKER_HTTP_HOST: '127.0.0.1',
    METRICS_TOKEN: metricsToken,
  });
  const started = JSON.parse(await child.waitForLine((line) => line.includes('"worker started"'))) as { opsPort: number };
  await provider.reset();
  const pid = child.process.pid!;
  const cpuBefore = processStats(pid).cpuSeconds;
  const sampler = sampleRun(redis, pid, `http://127.0.0.1:${started.opsPort}/metrics`);
  const begin = performance.now();
  const res = await fetch(`${web.url}/send`, {
    method: 'POST',
    headers: { authorization: `Bearer ${benchAdminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ subject: 'Bench {{name}}', body: '<p>Hello {{name}}</p>' }),
  });
  const answer = (await res.json()) as { campaignId: string; tasks: string[] };
  if (res.status !== 202 || answer.tasks.length !== count) throw new Error(`POST /send answered ${res.status} with ${answer.tasks?.length} task ids`);
  await waitUntil(async () => (await web.db.campaign.findUniqueOrThrow({ where: { id: answer.campaignId } })).status === 'sent', 250);
  const seconds = (performance.now() - begin) / 1000;
  const { peakRssMb, cpuSeconds } = processStats(pid);
  const sampled = await sampler.stop();
  const stats = await provider.stats();
  await stopChild(child);
  await web.close();
  await redis.close();
  return {
    system: 'herald',
    latencyMs,
    concurrency,
    recipients: count,
    sendsPerSecond: count / seconds,
    inFlightAverage: stats.inFlightAverage,
    inFlightPeak: stats.inFlightPeak,
    exactlyOnce: stats.recipients === count && stats.duplicates === 0 && stats.requests === count,
    workerRssPeakMb: peakRssMb,
    workerCpuPercent: ((cpuSeconds - cpuBefore) / seconds) * 100,
    redisPeakMb: sampled.redisPeakMb,
    jobsRunningAverage: sampled.jobsRunningAverage,
    dbPoolWaitingAverage: sampled.dbPoolWaitingAverage,
    redisPendingAverage: sampled.redisPendingAverage,
    eventLoopP99MaxMs: sampled.eventLoopP99MaxMs,
  };
}

// ---------------------------------------------------------------- profile summary

/** The functions with the most self time in a .cpuprofile, as a share of all samples. */
function summariseProfile(dir: string, top = 20): string[] {
  const file = readdirSync(dir).find((name) => name.endsWith('.cpuprofile'));
  if (!file) return ['(no profile written)'];
  const profile = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as {
    nodes: { id: number; hitCount?: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  };
  const byFrame = new Map<string, number>();
  let total = 0;
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    total += hits;
    const where = node.callFrame.url.replace(/^.*node_modules\//, '').replace(`file://${root}/`, '');
    const key = `${node.callFrame.functionName || '(anonymous)'} ${where}:${node.callFrame.lineNumber + 1}`;
    byFrame.set(key, (byFrame.get(key) ?? 0) + hits);
  }
  return [...byFrame.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([key, hits]) => `${((hits / total) * 100).toFixed(1).padStart(5)}%  ${key}`);
}

// ---------------------------------------------------------------- main

function row(run: Run): string {
  const num = (value: number | undefined, digits = 0) => (value === undefined ? '—' : value.toFixed(digits));
  return `| ${run.system} | ${run.latencyMs} | ${run.concurrency} | ${run.recipients} | ${num(run.sendsPerSecond)} | ${num(run.inFlightAverage, 1)} / ${run.inFlightPeak} | ${num(run.jobsRunningAverage, 1)} | ${num(run.dbPoolWaitingAverage, 1)} | ${num(run.eventLoopP99MaxMs)} | ${num(run.workerRssPeakMb)} | ${num(run.workerCpuPercent)} | ${num(run.redisPeakMb, 1)} | ${run.exactlyOnce ? 'yes' : 'NO'} |`;
}

const header = [
  '| system | latency ms | concurrency | recipients | sends/s | provider in flight avg / peak | jobs running avg | pg pool waiting avg | event loop p99 max ms | worker RSS peak MB | worker CPU % | Redis peak MB | each once |',
  '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
];

const build = spawnSync('npx', ['tsc', '-b', 'apps/worker'], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) throw new Error('building the worker failed');

const runs: Run[] = [];
const cpus = os.cpus();
console.log(`machine: ${cpus.length} × ${cpus[0]?.model.trim()}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, load average ${os.loadavg().map((n) => n.toFixed(1)).join(' ')}`);

if (!flags.has('--only-scale') && !flags.has('--only-profile')) {
  // Is the project's mail sink itself a bottleneck? The same bare sender against both, at once.
  const sinkProvider = await startProvider(0);
  const sink = await startMailSink({ apiKey: 'SG.bench', inboxLimit: recipients * 2 });
  log('bare against the mail sink, latency 0, concurrency 200');
  const viaSink = await runBare(sinkProvider, 0, 200, recipients, { url: sink.url, requests: async () => sink.stats.get().requests });
  log('bare against the stand-in, latency 0, concurrency 200');
  const viaStandIn = await runBare(sinkProvider, 0, 200, recipients);
  await sink.close();
  await sinkProvider.close();
  console.log(
    `mail sink check (bare, latency 0, concurrency 200, ${recipients}): via the mail sink ${viaSink.sendsPerSecond.toFixed(0)}/s, via the minimal stand-in ${viaStandIn.sendsPerSecond.toFixed(0)}/s`,
  );

  for (const latencyMs of [0, 100]) {
    const provider = await startProvider(latencyMs);
    for (const concurrency of [20, 200]) {
      log(`bare, latency ${latencyMs}, concurrency ${concurrency}`);
      runs.push(await runBare(provider, latencyMs, concurrency, recipients));
      log(`herald, latency ${latencyMs}, concurrency ${concurrency}`);
      runs.push(await runHerald(provider, latencyMs, concurrency, recipients));
      log(row(runs.at(-2)!), '\n', row(runs.at(-1)!));
    }
    await provider.close();
  }
}

if (!flags.has('--only-matrix') && !flags.has('--only-profile')) {
  const provider = await startProvider(100);
  for (const audience of audiences) {
    log(`herald, latency 100, concurrency 200, ${audience} recipients`);
    runs.push(await runHerald(provider, 100, 200, audience));
    log(row(runs.at(-1)!));
  }
  await provider.close();
}

console.log(['', ...header, ...runs.map(row)].join('\n'));
console.log('\nHerald / bare (same latency and concurrency, this run):');
for (const herald of runs.filter((run) => run.system === 'herald')) {
  const bare = runs.find((run) => run.system === 'bare' && run.latencyMs === herald.latencyMs && run.concurrency === herald.concurrency && run.recipients === herald.recipients);
  if (!bare) continue;
  console.log(
    `  latency ${herald.latencyMs} ms, concurrency ${herald.concurrency}: ${(herald.sendsPerSecond / bare.sendsPerSecond).toFixed(2)}× ` +
      `(in flight at the provider: Herald ${herald.inFlightAverage.toFixed(1)}, bare ${bare.inFlightAverage.toFixed(1)}, of ${herald.concurrency})`,
  );
}

if (flags.has('--profile')) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'herald-profile-'));
  const provider = await startProvider(100);
  log('herald with --cpu-prof, latency 100, concurrency 200');
  const run = await runHerald(provider, 100, 200, recipients, { profileDir: dir });
  await provider.close();
  console.log(`\nprofile of Herald's worker (latency 100, concurrency 200, ${run.sendsPerSecond.toFixed(0)}/s), self time, in ${dir}:`);
  for (const line of summariseProfile(dir)) console.log(`  ${line}`);
}
process.exit(0);
