import { createLogger, reportFatal, stopOnSignals } from '@herald/shared/process';
import { loadConfig } from './config.js';
import { startMailSink } from './start.js';

const shutdownDeadlineMs = 5_000;

async function main(): Promise<void> {
  const logger = createLogger({ name: 'mail-sink', level: 'info' });
  const config = loadConfig();
  const sink = await startMailSink({ apiKey: config.apiKey, port: config.port, host: config.host, logger, ...(config.events ? { events: config.events } : {}) });
  logger.info({ url: sink.url, eventWebhook: config.events?.url ?? null }, 'mail sink listening');
  stopOnSignals(logger, shutdownDeadlineMs, async () => {
    await sink.close();
    return true;
  });
}

main().catch((err: unknown) => {
  reportFatal('mail-sink', err);
  process.exit(1);
});
