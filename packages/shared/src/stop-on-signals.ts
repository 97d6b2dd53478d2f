import type { Logger } from './logger.js';

/**
 * How a process stops: on the first SIGTERM or SIGINT, `stop` runs once (later signals are
 * ignored) and the process exits with its verdict: 0 when it resolves true (everything in flight
 * finished), 1 when it resolves false or throws, or when `deadlineMs` passes first.
 */
export function stopOnSignals(logger: Logger, deadlineMs: number, stop: (signal: NodeJS.Signals) => Promise<boolean>): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, deadlineMs }, 'stopping');
    setTimeout(() => {
      logger.error({ deadlineMs }, 'shutdown deadline passed; exiting');
      process.exit(1);
    }, deadlineMs).unref();
    stop(signal).then(
      (clean) => {
        if (clean) logger.info('stopped cleanly');
        else logger.error('stopped before everything in flight finished');
        process.exit(clean ? 0 : 1);
      },
      (err: unknown) => {
        logger.error({ err }, 'could not stop cleanly');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
