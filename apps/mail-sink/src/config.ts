import type { KeyObject } from 'node:crypto';
import { z } from 'zod';
import { parseEnv } from '@herald/shared/config';
import type { EventRates } from './event-plan.js';
import { parseEventSigningKey } from './sign-event-batch.js';

/** Where and how the sink reports events; absent when SINK_EVENT_WEBHOOK_URL is unset. */
export type EventWebhookConfig = {
  url: string;
  signingKey: KeyObject;
  rates: EventRates;
  delayMs: number;
  bouncePattern: RegExp;
  seed?: number;
};

export type MailSinkConfig = { port: number; host: string; apiKey: string; events?: EventWebhookConfig };

const rate = (fallback: number) => z.coerce.number().min(0, 'must be between 0 and 1').max(1, 'must be between 0 and 1').default(fallback);

const envSchema = z
  .object({
    MAIL_SINK_PORT: z.coerce.number().int().min(0).max(65_535).default(3100),
    MAIL_SINK_HOST: z.string().min(1).default('0.0.0.0'),
    /** The key the sink accepts; Herald's web and worker must be given the same one. */
    SENDGRID_API_KEY: z.string().min(1),
    /** Herald's Event Webhook; unset, the sink reports nothing. */
    SINK_EVENT_WEBHOOK_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
    SINK_EVENT_WEBHOOK_PRIVATE_KEY: z
      .string()
      .transform((text, ctx) => {
        try {
          return parseEventSigningKey(text);
        } catch (err) {
          ctx.addIssue({ code: 'custom', message: (err as Error).message });
          return z.NEVER;
        }
      })
      .optional(),
    SINK_EVENT_OPEN_RATE: rate(0.4),
    SINK_EVENT_CLICK_RATE: rate(0.1),
    SINK_EVENT_BOUNCE_RATE: rate(0.01),
    SINK_EVENT_SPAMREPORT_RATE: rate(0.001),
    SINK_EVENT_UNSUBSCRIBE_RATE: rate(0.002),
    SINK_EVENT_DELAY_MS: z.coerce.number().int().min(0).default(5_000),
    /** Matched against the local part, case-insensitively. */
    SINK_EVENT_BOUNCE_PATTERN: z
      .string()
      .default('^bounce')
      .transform((source, ctx) => {
        try {
          return new RegExp(source, 'i');
        } catch {
          ctx.addIssue({ code: 'custom', message: 'is not a regular expression' });
          return z.NEVER;
        }
      }),
    SINK_EVENT_SEED: z.coerce.number().int().min(0).optional(),
  })
  .superRefine((env, ctx) => {
    // Unsigned events would be refused by Herald (or, worse, accepted with signing switched off).
    if (env.SINK_EVENT_WEBHOOK_URL && !env.SINK_EVENT_WEBHOOK_PRIVATE_KEY) {
      ctx.addIssue({ code: 'custom', path: ['SINK_EVENT_WEBHOOK_PRIVATE_KEY'], message: 'is required when SINK_EVENT_WEBHOOK_URL is set' });
    }
  });

/**
 * Parses the environment once, with the same rules as Herald's own processes (an empty variable
 * is unset); throws listing every problem so a bad deploy fails at boot.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): MailSinkConfig {
  const parsed = parseEnv(envSchema, env);
  const config: MailSinkConfig = { port: parsed.MAIL_SINK_PORT, host: parsed.MAIL_SINK_HOST, apiKey: parsed.SENDGRID_API_KEY };
  if (parsed.SINK_EVENT_WEBHOOK_URL && parsed.SINK_EVENT_WEBHOOK_PRIVATE_KEY) {
    config.events = {
      url: parsed.SINK_EVENT_WEBHOOK_URL,
      signingKey: parsed.SINK_EVENT_WEBHOOK_PRIVATE_KEY,
      rates: {
        open: parsed.SINK_EVENT_OPEN_RATE,
        click: parsed.SINK_EVENT_CLICK_RATE,
        bounce: parsed.SINK_EVENT_BOUNCE_RATE,
        spamreport: parsed.SINK_EVENT_SPAMREPORT_RATE,
        unsubscribe: parsed.SINK_EVENT_UNSUBSCRIBE_RATE,
      },
      delayMs: parsed.SINK_EVENT_DELAY_MS,
      bouncePattern: parsed.SINK_EVENT_BOUNCE_PATTERN,
      ...(parsed.SINK_EVENT_SEED === undefined ? {} : { seed: parsed.SINK_EVENT_SEED }),
    };
  }
  return config;
}
