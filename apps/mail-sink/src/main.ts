import { pino } from 'pino';
import { loadConfig } from './config.js';
import { startMailSink } from './start.js';

async function main(): Promise<void> {
  const logger = pino({ name: 'mail-sink' });
  const config = loadConfig();
  const sink = await startMailSink({ apiKey: config.apiKey, port: config.port, host: config.host, logger });
  logger.info({ url: sink.url }, 'mail sink listening');

  const shutdown = (signal: NodeJS.Signals) => {
    logger.info({ signal }, 'mail sink stopping');
    sink.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'mail sink failed to stop');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
