/**
 * The worker process's composition root: the only place that reads configuration, opens
 * connections, starts workers and handles signals.
 */
import { closeQueues, createDb, createLogger, createQueues, createWorkerConnection } from '@herald/shared';
import { loadConfig } from './config.js';
import { createSendGridMailer } from './mail/sendgrid.js';
import { keepReconcilerScheduled, scheduleReconciler, startWorkers } from './workers.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ name: 'worker', level: config.logLevel });
  const db = createDb(config.databaseUrl, { poolSize: Math.max(10, config.concurrency + 5) });
  const connection = createWorkerConnection(config.redisUrl);
  const queues = createQueues(connection, config.queuePrefix, logger);
  const mailer = createSendGridMailer({ ...config.sendgrid, from: config.mail.from });
  const deps = { config, db, queues, mailer, logger };

  const workers = startWorkers(deps, connection);
  await scheduleReconciler(deps);
  const schedule = keepReconcilerScheduled(deps);
  logger.info({ concurrency: config.concurrency, ratePerSecond: config.sendRatePerSecond }, 'worker started');

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    schedule.stop();
    logger.info({ signal, deadlineMs: config.shutdownDeadlineMs }, 'draining');
    // worker.close() stops taking jobs and waits for the ones in flight; past the deadline we exit
    // non-zero and the reconciler repairs whatever was left mid-send.
    const drained = await Promise.race([
      workers.close().then(() => true),
      new Promise<false>((resolve) => setTimeout(() => resolve(false), config.shutdownDeadlineMs).unref()),
    ]);
    await closeQueues(queues).catch(() => undefined);
    connection.disconnect();
    await db.$disconnect();
    logger[drained ? 'info' : 'error']({ drained }, drained ? 'stopped cleanly' : 'stopped before the drain finished');
    process.exit(drained ? 0 : 1);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
