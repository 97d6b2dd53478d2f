/**
 * The worker process's composition root: the only place that reads configuration, opens
 * connections, starts workers, listens and handles signals.
 */
import { once } from 'node:events';
import {
  closeQueues,
  createDb,
  createLogger,
  createPgPool,
  createProducerConnection,
  createQueues,
  createWorkerConnection,
  loadEmailLayout,
  productionWarnings,
  reportFatal,
  stopOnSignals,
} from '@herald/shared';
import { createCampaignFinisher } from './campaigns/campaign-finisher.js';
import { loadConfig } from './config.js';
import { createSendGridMailer } from './mail/sendgrid.js';
import { instrumentMailer } from './ops/instrument-mailer.js';
import { createOpsServer } from './ops/ops-server.js';
import { createSendPressure, registerSendPressureMetrics } from './ops/send-pressure.js';
import { trackProviderCalls } from './ops/track-provider-calls.js';
import { createWorkerMetrics } from './ops/worker-metrics.js';
import { keepReconcilerScheduled, scheduleReconciler, startWorkers } from './workers.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ name: 'worker', level: config.logLevel });
  for (const warning of productionWarnings(config)) logger.warn(warning, 'configuration unfit for production');
  // Before any connection: a broken layout stops the worker here, never at send time.
  const emailLayout = loadEmailLayout(config.email.brand, config.email.layoutPath);
  // The pool is sized on its own, not after WORKER_CONCURRENCY: a send holds a connection only for
  // its claim and its `sent` mark, and a pool as large as the concurrency overran Postgres's
  // max_connections ("too many clients"), failing claims and stranding `sent` marks.
  const pool = createPgPool(config.databaseUrl, config.databasePoolSize);
  const db = createDb(config.databaseUrl, { pool });
  const connection = createWorkerConnection(config.redisUrl);
  const queues = createQueues(connection, config.queuePrefix, logger);
  const metrics = createWorkerMetrics();
  const pressure = createSendPressure({ pool, redis: connection });
  registerSendPressureMetrics(metrics.registry, pressure, { concurrency: config.concurrency, pool });
  const mailer = trackProviderCalls(
    instrumentMailer(createSendGridMailer({ ...config.sendgrid, from: config.mail.from }), metrics),
    pressure,
  );
  const finisher = createCampaignFinisher(db, logger);
  const deps = { config, db, pool, queues, mailer, emailLayout, logger, metrics, pressure, finisher };

  // Readiness pings Redis on a fail-fast connection: the workers' own waits through an outage.
  const probeRedis = createProducerConnection(config.redisUrl);
  probeRedis.on('error', () => undefined);
  // Connects in the background and keeps retrying; /readyz answers 503 until it is up.
  probeRedis.connect().catch(() => undefined);
  const ops = createOpsServer({ db, redis: probeRedis, registry: metrics.registry, metricsToken: config.metricsToken, logger });
  ops.listen(config.http.port, config.http.host);
  await once(ops, 'listening');
  const opsAddress = ops.address();
  const opsPort = typeof opsAddress === 'object' && opsAddress ? opsAddress.port : config.http.port;

  const workers = startWorkers(deps, connection);
  await scheduleReconciler(deps);
  const schedule = keepReconcilerScheduled(deps);
  logger.info(
    { concurrency: config.concurrency, sendBatchSize: config.sendBatchSize, ratePerSecond: config.sendRatePerSecond ?? null, opsPort },
    'worker started',
  );

  // worker.close() stops taking jobs and waits for the ones in flight; past SHUTDOWN_DEADLINE_SECONDS
  // the worker closes its connections and exits non-zero, and the reconciler repairs whatever was
  // left mid-send. The hard deadline only covers connections that will not close.
  stopOnSignals(logger, config.shutdownDeadlineMs + 10_000, async () => {
    schedule.stop();
    const drained = await Promise.race([
      // The last sends' campaign-done checks run before the connections close.
      workers.close().then(() => finisher.flush()).then(() => true),
      new Promise<false>((resolve) => setTimeout(() => resolve(false), config.shutdownDeadlineMs).unref()),
    ]);
    ops.close();
    ops.closeAllConnections();
    await closeQueues(queues).catch(() => undefined);
    connection.disconnect();
    probeRedis.disconnect();
    await db.$disconnect();
    return drained;
  });
}

main().catch((err: unknown) => {
  reportFatal('worker', err);
  process.exit(1);
});
