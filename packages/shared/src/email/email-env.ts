import { z } from 'zod';
import type { EmailBrand } from './email-layout.js';

/**
 * How Herald's emails look, for every process that renders one (the worker that sends, the web that
 * previews). Spread into each app's environment schema; the newsletter's name is NEWSLETTER_NAME,
 * which every process reads.
 */
export const emailEnv = {
  /** An EJS layout of the operator's own; the default is packages/shared/email-templates/layout.ejs. */
  EMAIL_LAYOUT_PATH: z.string().min(1).optional(),
  EMAIL_BRAND_COLOR: z
    .string()
    .regex(/^#[0-9a-fA-F]{6}$/, 'must be a hex colour such as #3056d3')
    .default('#3056d3'),
  EMAIL_LOGO_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  EMAIL_FOOTER_TEXT: z.string().trim().max(500).optional(),
  EMAIL_LANG: z
    .string()
    .regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'must be a language tag such as en or pt-BR')
    .default('en'),
};

type EmailEnv = z.output<z.ZodObject<typeof emailEnv>>;

/** The brand and layout file a process renders with, from its parsed environment. */
export function emailSettingsOf(
  parsed: EmailEnv,
  identity: { newsletterName: string; postalAddress: string | undefined },
): { brand: EmailBrand; layoutPath: string | undefined } {
  const { newsletterName, postalAddress } = identity;
  return {
    brand: {
      newsletterName,
      brandColor: parsed.EMAIL_BRAND_COLOR,
      logoUrl: parsed.EMAIL_LOGO_URL,
      footerText: parsed.EMAIL_FOOTER_TEXT || undefined,
      postalAddress,
      lang: parsed.EMAIL_LANG,
    },
    layoutPath: parsed.EMAIL_LAYOUT_PATH,
  };
}
