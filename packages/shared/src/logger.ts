import { pino } from 'pino';
import type { Logger } from 'pino';

export type { Logger };

/**
 * One JSON line per event. Secrets and personal data that may ride along in objects are redacted;
 * email bodies are never logged at all.
 */
export function createLogger(options: { name: string; level: string }): Logger {
  return pino({
    name: options.name,
    level: options.level,
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'res.headers["set-cookie"]',
        '*.password',
        '*.apiKey',
        '*.token',
      ],
      censor: '[redacted]',
    },
  });
}

/**
 * The last word of a process that could not start or run. A configuration problem is an operator's
 * to fix and reads best as the plain list it already is; anything else is logged with its stack.
 */
export function reportFatal(name: string, err: unknown): void {
  if (err instanceof Error && (err.name === 'ConfigError' || err.name === 'EmailLayoutError')) {
    console.error(err.message);
    return;
  }
  createLogger({ name, level: 'fatal' }).fatal({ err }, 'stopped by an unexpected error');
}
