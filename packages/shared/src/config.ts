import { readFileSync } from 'node:fs';
import { z } from 'zod';

/** Thrown at boot with every problem in the environment listed, one per line. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * The environment with every empty variable left out. `FOO=` in an env file and compose's
 * `${FOO:-}` both yield "", and an operator who writes that means "not set": the default applies,
 * and a required variable is reported as missing rather than malformed.
 */
export function withoutEmpty(env: Record<string, string | undefined>): Record<string, string> {
  const present: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && value !== '') present[name] = value;
  }
  return present;
}

/**
 * Secrets that may be given as a file instead (`NAME_FILE=/run/secrets/name`), as Docker and
 * Kubernetes secrets are mounted, so they need not sit in the environment. The file's content, less
 * a trailing newline, is the value.
 */
export const fileVariables = [
  'DATABASE_URL',
  'ADMIN_TOKEN',
  'ADMIN_PASSWORD',
  'SESSION_SECRET',
  'METRICS_TOKEN',
  'SENDGRID_API_KEY',
  'SENDGRID_WEBHOOK_PUBLIC_KEY',
  'SINK_EVENT_WEBHOOK_PRIVATE_KEY',
] as const;

/** `env` with every `NAME_FILE` read into `NAME`; problems (unreadable, both set) are returned by name. */
function withFiles(env: Record<string, string>): { env: Record<string, string>; problems: string[] } {
  const read = { ...env };
  const problems: string[] = [];
  for (const name of fileVariables) {
    const path = env[`${name}_FILE`];
    if (path === undefined) continue;
    delete read[`${name}_FILE`];
    if (env[name] !== undefined) {
      problems.push(`  ${name}_FILE: is set together with ${name}; set one of them`);
      continue;
    }
    try {
      read[name] = readFileSync(path, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      problems.push(`  ${name}_FILE: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
  }
  return { env: read, problems };
}

/** Parses `env` with `schema`, naming every missing or malformed variable at once. Empty means unset. */
export function parseEnv<S extends z.ZodType>(schema: S, env: Record<string, string | undefined>): z.output<S> {
  const files = withFiles(withoutEmpty(env));
  if (files.problems.length > 0) throw new ConfigError(`Invalid configuration:\n${files.problems.join('\n')}`);
  const result = schema.safeParse(files.env);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => {
    const name = issue.path.join('.');
    const missing = issue.path.length === 1 && files.env[name] === undefined;
    return `  ${name || '(env)'}: ${missing ? 'is required' : issue.message}`;
  });
  throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
}

const booleanString = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

/** Variables both processes read. Each app extends this with its own. */
export const commonEnv = {
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/, error: 'must be a postgresql:// URL' }),
  REDIS_URL: z.url({ protocol: /^rediss?$/, error: 'must be a redis:// URL' }).default('redis://127.0.0.1:6379'),
  QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_{}-]+$/, 'letters, digits, _, - and {} (a Redis Cluster hash tag) only')
    .default('herald'),
  PUBLIC_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).default('http://localhost:3000'),
  DOUBLE_OPT_IN: booleanString.default(true),
  /** Bearer token Prometheus sends to read /metrics (web and worker). Unset: /metrics is refused. */
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters (generate one with `openssl rand -hex 32`)').optional(),
  /** The newsletter's name: page titles, email headers and footers, the sender's display name. */
  NEWSLETTER_NAME: z.string().trim().min(1).max(100, 'must be at most 100 characters').optional(),
  /**
   * Lets outbound webhooks reach loopback, private and link-local addresses (a receiver on the same
   * machine or network, as in the development stack). Unset: refused, so an endpoint URL cannot be
   * used to reach the services behind Herald.
   */
  WEBHOOK_ALLOW_PRIVATE: booleanString.default(false),
};

/** What development and test runs call the newsletter when NEWSLETTER_NAME is not set. */
export const developmentNewsletterName = 'Herald';

/**
 * NEWSLETTER_NAME is what every subscriber reads in each email and page: production must set it
 * rather than ship under a placeholder. Call from each app's superRefine.
 */
export function checkNewsletterName(
  value: { NODE_ENV: string; NEWSLETTER_NAME?: string | undefined },
  ctx: { addIssue(issue: { code: 'custom'; path: string[]; message: string }): void },
): void {
  if (value.NODE_ENV === 'production' && !value.NEWSLETTER_NAME) {
    ctx.addIssue({ code: 'custom', path: ['NEWSLETTER_NAME'], message: 'is required in production' });
  }
}

export { booleanString };

export type ConfigWarning = { variable: string; value: string; problem: string };

/**
 * Boot-time warnings about a configuration that works but is wrong for production. RFC 8058
 * requires an https URI for one-click unsubscribe, so mailbox providers ignore an http one; this
 * only warns, since TLS may end at a proxy in front that forwards plain http to Herald.
 */
export function productionWarnings(config: { env: string; publicUrl: string }): ConfigWarning[] {
  const warnings: ConfigWarning[] = [];
  if (config.env === 'production' && !/^https:\/\//i.test(config.publicUrl)) {
    warnings.push({
      variable: 'PUBLIC_URL',
      value: config.publicUrl,
      problem: 'not https: one-click unsubscribe (RFC 8058) needs an https URL; put TLS in front and set an https PUBLIC_URL',
    });
  }
  return warnings;
}
