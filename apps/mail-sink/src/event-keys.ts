/**
 * One-shot entry: `node apps/mail-sink/dist/event-keys.js <dir>` makes sure `dir` holds the key pair
 * the sink signs its events with and Herald's web verifies them by (see ensure-event-keys.ts), then
 * exits 0. docker-compose.yml runs it before both start, so every stack gets a pair of its own
 * instead of one published with Herald, which would let anyone forge events to a stack that kept it.
 */
import { createLogger, reportFatal } from '@herald/shared/process';
import { ensureEventKeys } from './ensure-event-keys.js';

function main(): void {
  const dir = process.argv[2];
  if (!dir) throw new Error('usage: event-keys.js <directory for private.key and public.key>');
  const keys = ensureEventKeys(dir);
  const logger = createLogger({ name: 'event-keys', level: 'info' });
  logger.info(
    { privateKey: keys.privateKeyPath, publicKey: keys.publicKeyPath, fingerprint: keys.fingerprint },
    keys.outcome === 'generated' ? 'event key pair generated' : 'event key pair kept',
  );
}

try {
  main();
} catch (err) {
  reportFatal('event-keys', err);
  process.exitCode = 1;
}
