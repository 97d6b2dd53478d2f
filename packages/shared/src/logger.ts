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
