/**
 * The web process's composition root: the only place that reads configuration, opens connections,
 * listens and handles signals.
 */
import { once } from 'node:events';
import { closeQueues, createDb, createLogger, createProducerConnection, createQueues, loadEmailLayout, productionWarnings, reportFatal, stopOnSignals } from '@herald/shared';
import { createApp, viewsDir } from './app.js';
import { loadConfig } from './config.js';
import { startServer } from './http/start-server.js';
import { webWarmUpSteps } from './readiness/warm-up-steps.js';
import { startWarmUp } from './readiness/warm-up.js';
import { ensureFirstOwner } from './team/first-owner.js';

const shutdownDeadlineMs = 10_000;

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ name: 'web', level: config.logLevel });
  for (const warning of productionWarnings(config)) logger.warn(warning, 'configuration unfit for production');
  const emailLayout = loadEmailLayout(config.email.brand, config.email.layoutPath);
  const db = createDb(config.databaseUrl);
  const redis = createProducerConnection(config.redisUrl);
  redis.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
  await redis.connect().catch((err: unknown) => logger.warn({ err }, 'redis unreachable at start; will retry'));
  const queues = createQueues(redis, config.queuePrefix, logger);
  // The login page tries again while there is no user, so an unreachable database here is no failure.
  await ensureFirstOwner(db, config, logger).catch((err: unknown) => logger.warn({ err }, 'first owner not made at start; the login page will'));

  // Runs while the port opens: /healthz answers at once, /readyz once this has finished.
  const warmUp = startWarmUp(webWarmUpSteps({ db, queues, newsletterName: config.newsletterName }, viewsDir), logger);
  const app = createApp({ config, db, redis, queues, logger, emailLayout, warmUp });
  const server = await startServer(app, { port: config.port, keepAliveTimeoutMs: config.keepAliveTimeoutMs });
  logger.info({ port: config.port, publicUrl: config.publicUrl }, 'web listening');

  stopOnSignals(logger, shutdownDeadlineMs, async () => {
    server.close();
    server.closeIdleConnections();
    await once(server, 'close');
    await closeQueues(queues);
    redis.disconnect();
    await db.$disconnect();
    return true;
  });
}

main().catch((err: unknown) => {
  reportFatal('web', err);
  process.exit(1);
});
