import { z } from 'zod';

export type MailSinkConfig = { port: number; host: string; apiKey: string };

const envSchema = z.object({
  MAIL_SINK_PORT: z.coerce.number().int().min(0).max(65_535).default(3100),
  MAIL_SINK_HOST: z.string().min(1).default('0.0.0.0'),
  /** The key the sink accepts; Herald's web and worker must be given the same one. */
  SENDGRID_API_KEY: z.string().min(1),
});

/** Parses the environment once; throws listing every problem so a bad deploy fails at boot. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): MailSinkConfig {
  const result = envSchema.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`Invalid mail sink configuration:\n  ${problems.join('\n  ')}`);
  }
  const { MAIL_SINK_PORT, MAIL_SINK_HOST, SENDGRID_API_KEY } = result.data;
  return { port: MAIL_SINK_PORT, host: MAIL_SINK_HOST, apiKey: SENDGRID_API_KEY };
}
