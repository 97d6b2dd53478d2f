/**
 * How a Herald process logs, stops and reports a fatal error, without the database and queue code
 * the main entry brings: the mail sink imports this alone.
 */
export * from './logger.js';
export * from './stop-on-signals.js';
