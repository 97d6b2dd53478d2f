import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ejs from 'ejs';
import juice from 'juice';

/** The operator's branding, from configuration; the same for every email a process renders. */
export type EmailBrand = {
  newsletterName: string;
  /** A hex colour for the header rule, links and buttons. */
  brandColor: string;
  logoUrl?: string | undefined;
  footerText?: string | undefined;
  postalAddress?: string | undefined;
  /** The `lang` of every email, e.g. "en". */
  lang: string;
};

/** What changes from one email (or one campaign) to the next. */
export type LayoutParts = {
  subject: string;
  preheader: string;
  /** HTML: the campaign body as written or Herald's own message. Placeholders may still be in it. */
  content: string;
  /** Empty for emails with no list to leave (the confirmation email). */
  unsubscribeUrl?: string | undefined;
  /** The recipient's preference centre; empty for emails that do not link it. */
  preferencesUrl?: string | undefined;
  viewInBrowserUrl?: string | undefined;
};

export type EmailLayout = {
  brand: EmailBrand;
  /** The complete email HTML, every style the content depends on inlined. */
  wrap(parts: LayoutParts): string;
};

/** A layout that cannot be used: raised at start, so no send ever meets it. */
export class EmailLayoutError extends Error {
  override name = 'EmailLayoutError';
}

export const defaultLayoutPath = fileURLToPath(new URL('../../email-templates/layout.ejs', import.meta.url));

/**
 * Email clients ignore <style> blocks (or some of them do), so every rule is written into the style
 * attribute of the elements it matches. Only @media rules (phones, dark mode) stay in a <style> block,
 * where the clients that understand them read them. Entities are kept as written.
 */
const inlineOptions: juice.Options = {
  removeStyleTags: true,
  preserveMediaQueries: true,
  preserveFontFaces: true,
  preserveImportant: true,
  applyWidthAttributes: true,
  applyHeightAttributes: false,
  applyAttributesTableElements: true,
};

const sample: Required<LayoutParts> = {
  subject: 'Sample subject',
  preheader: 'Sample preheader',
  content: '<p>herald-sample-content</p>',
  unsubscribeUrl: 'https://example.invalid/unsubscribe/sample-token',
  preferencesUrl: 'https://example.invalid/preferences/sample-token',
  viewInBrowserUrl: 'https://example.invalid/archive/sample',
};

/**
 * Compiles the layout template once (the default, or the operator's EMAIL_LAYOUT_PATH) and proves it
 * with a sample render: a template that does not compile, throws, or leaves out the unsubscribe link or
 * the postal address is refused here, at start, with the reason.
 */
export function loadEmailLayout(brand: EmailBrand, templatePath: string = defaultLayoutPath): EmailLayout {
  let render: ejs.TemplateFunction;
  try {
    render = ejs.compile(readFileSync(templatePath, 'utf8'), { filename: templatePath, strict: false });
  } catch (err) {
    throw new EmailLayoutError(`Email layout ${templatePath} cannot be used: ${(err as Error).message}`, { cause: err });
  }

  const layout: EmailLayout = {
    brand,
    wrap(parts) {
      const html = render({
        ...brand,
        logoUrl: brand.logoUrl ?? '',
        footerText: brand.footerText ?? '',
        postalAddress: brand.postalAddress ?? '',
        ...parts,
        unsubscribeUrl: parts.unsubscribeUrl ?? '',
        preferencesUrl: parts.preferencesUrl ?? '',
        viewInBrowserUrl: parts.viewInBrowserUrl ?? '',
      });
      return juice(html, inlineOptions);
    },
  };

  let proof: string;
  try {
    proof = layout.wrap(sample);
  } catch (err) {
    throw new EmailLayoutError(`Email layout ${templatePath} fails to render: ${(err as Error).message}`, { cause: err });
  }
  const missing = [
    ['herald-sample-content', 'the content'],
    [sample.unsubscribeUrl, 'the unsubscribe link (unsubscribeUrl)'],
    ...(brand.postalAddress ? [[ejs.escapeXML(brand.postalAddress), 'the postal address (postalAddress)']] : []),
  ].filter(([needle]) => !proof.includes(needle!));
  if (missing.length > 0) {
    throw new EmailLayoutError(`Email layout ${templatePath} must show ${missing.map(([, what]) => what).join(' and ')}`);
  }
  return layout;
}
