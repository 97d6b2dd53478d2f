import { z } from 'zod';
import { parseEnv } from '@herald/shared/config';

export type MailSinkConfig = { port: number; host: string; apiKey: string };

const envSchema = z.object({
  MAIL_SINK_PORT: z.coerce.number().int().min(0).max(65_535).default(3100),
  MAIL_SINK_HOST: z.string().min(1).default('0.0.0.0'),
  /** The key the sink accepts; Herald's web and worker must be given the same one. */
  SENDGRID_API_KEY: z.string().min(1),
});

/**
 * Parses the environment once, with the same rules as Herald's own processes (an empty variable
 * is unset); throws listing every problem so a bad deploy fails at boot.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): MailSinkConfig {
  const { MAIL_SINK_PORT, MAIL_SINK_HOST, SENDGRID_API_KEY } = parseEnv(envSchema, env);
  return { port: MAIL_SINK_PORT, host: MAIL_SINK_HOST, apiKey: SENDGRID_API_KEY };
}
