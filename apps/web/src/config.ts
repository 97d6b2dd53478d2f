import { z } from 'zod';
import { booleanString, checkNewsletterName, commonEnv, developmentNewsletterName, emailEnv, emailSettingsOf, parseEnv } from '@herald/shared';
import { trustProxySetting } from './http/trust-proxy.js';

const webEnv = z.object({
  ...commonEnv,
  ...emailEnv,
  /** Shown in the footer of previews, as the worker puts it in every email. */
  MAIL_POSTAL_ADDRESS: z.string().trim().max(500).optional(),
  PORT: z.coerce.number().int().min(1).max(65_535).default(3000),
  /**
   * Which peers may set X-Forwarded-For (see http/trust-proxy.ts). Only the local host by default:
   * a proxy on another address must be named, or its clients' addresses are not believed.
   */
  TRUST_PROXY: trustProxySetting.default(['loopback']),
  /**
   * How long an idle keep-alive connection stays open. Longer than the idle timeout of a proxy in
   * front (an AWS ALB's is 60 s), so the proxy, never Node, closes it: a connection Node closes as
   * the proxy reuses it fails that request with a 502.
   */
  HTTP_KEEP_ALIVE_TIMEOUT_MS: z.coerce.number().int().positive().default(65_000),
  /**
   * Origins (`https://example.com`, comma-separated) an embedded signup form may send the person
   * back to with its `redirect` field; any other target gets Herald's own page.
   */
  SIGNUP_REDIRECT_ORIGINS: z
    .string()
    .default('')
    .transform((value, ctx) => {
      const origins: string[] = [];
      for (const entry of value.split(',').map((part) => part.trim()).filter(Boolean)) {
        const origin = originOf(entry.replace(/\/+$/, ''));
        if (origin && origin === entry.replace(/\/+$/, '')) origins.push(origin);
        else ctx.addIssue({ code: 'custom', message: `${entry} is not an origin like https://example.com (scheme and host, no path)` });
      }
      return origins;
    }),
  /**
   * Whether a new campaign has SendGrid's open and click tracking on when it does not say. Opens
   * are inflated by privacy proxies that fetch every image (Apple Mail Privacy Protection), so an
   * operator may rather not track them at all.
   */
  TRACK_OPENS: booleanString.default(true),
  TRACK_CLICKS: booleanString.default(true),
  ADMIN_TOKEN: z.string().min(32, 'must be at least 32 characters (generate one with `openssl rand -hex 32`)'),
  ADMIN_PASSWORD: z.string().min(12, 'must be at least 12 characters'),
  /**
   * The first owner's email, with ADMIN_PASSWORD: the account made while there is none (the first
   * start, or the first after upgrading from one shared password). Unset: admin@ and PUBLIC_URL's host.
   */
  // Any address with an @: a development install's owner is admin@localhost, which has no dot.
  ADMIN_EMAIL: z.string().trim().max(254).regex(/^[^\s@]+@[^\s@]+$/, 'must be an email address').optional(),
  SESSION_SECRET: z.string().min(32, 'must be at least 32 characters'),
  SENDGRID_WEBHOOK_PUBLIC_KEY: z.string().min(1).optional(),
  /** Accept unsigned webhook posts when no public key is set. Development only. */
  SENDGRID_WEBHOOK_ALLOW_UNSIGNED: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
});

export type WebConfig = ReturnType<typeof loadConfig>;

/** Reads the web process's configuration once, at boot; throws listing every problem. */
export function loadConfig(env: Record<string, string | undefined> = process.env) {
  const parsed = parseEnv(
    webEnv.superRefine((value, ctx) => {
      checkNewsletterName(value, ctx);
      // Unsigned events let anyone on the internet bounce or unsubscribe any address.
      if (value.NODE_ENV === 'production' && value.SENDGRID_WEBHOOK_ALLOW_UNSIGNED) {
        ctx.addIssue({ code: 'custom', path: ['SENDGRID_WEBHOOK_ALLOW_UNSIGNED'], message: 'must not be true in production' });
      }
      // The development values in .env.example and docker-compose.yml are public.
      for (const name of ['ADMIN_TOKEN', 'ADMIN_PASSWORD', 'SESSION_SECRET', 'METRICS_TOKEN'] as const) {
        if (value.NODE_ENV === 'production' && value[name]?.includes('change-me')) {
          ctx.addIssue({ code: 'custom', path: [name], message: 'is the public example value; set your own in production' });
        }
      }
    }),
    env,
  );
  const newsletterName = parsed.NEWSLETTER_NAME ?? developmentNewsletterName;
  return {
    env: parsed.NODE_ENV,
    logLevel: parsed.LOG_LEVEL,
    port: parsed.PORT,
    trustProxy: parsed.TRUST_PROXY,
    keepAliveTimeoutMs: parsed.HTTP_KEEP_ALIVE_TIMEOUT_MS,
    publicUrl: parsed.PUBLIC_URL.replace(/\/+$/, ''),
    /** WEBHOOK_ALLOW_PRIVATE: endpoint URLs may name private and loopback addresses. */
    webhookAllowPrivate: parsed.WEBHOOK_ALLOW_PRIVATE,
    newsletterName,
    email: emailSettingsOf(parsed, { newsletterName, postalAddress: parsed.MAIL_POSTAL_ADDRESS || undefined }),
    databaseUrl: parsed.DATABASE_URL,
    redisUrl: parsed.REDIS_URL,
    queuePrefix: parsed.QUEUE_PREFIX,
    doubleOptIn: parsed.DOUBLE_OPT_IN,
    /** The tracking a campaign gets when its request or form does not choose. */
    tracking: { opens: parsed.TRACK_OPENS, clicks: parsed.TRACK_CLICKS },
    signupRedirectOrigins: parsed.SIGNUP_REDIRECT_ORIGINS,
    adminToken: parsed.ADMIN_TOKEN,
    metricsToken: parsed.METRICS_TOKEN,
    adminPassword: parsed.ADMIN_PASSWORD,
    adminEmail: (parsed.ADMIN_EMAIL ?? `admin@${new URL(parsed.PUBLIC_URL).hostname}`).toLowerCase(),
    sessionSecret: parsed.SESSION_SECRET,
    mail: { postalAddress: parsed.MAIL_POSTAL_ADDRESS || undefined },
    webhook: {
      publicKey: parsed.SENDGRID_WEBHOOK_PUBLIC_KEY,
      allowUnsigned: parsed.SENDGRID_WEBHOOK_ALLOW_UNSIGNED,
    },
  };
}

/** The origin of an http(s) URL, or null. */
function originOf(text: string): string | null {
  try {
    const url = new URL(text);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.origin : null;
  } catch {
    return null;
  }
}
