import { convert } from 'html-to-text';
import type { EmailLayout } from './email-layout.js';
import { escapeHtml } from './escape-html.js';
import { defaultPreheader } from './preheader.js';

/** A campaign as stored, its body already HTML (see campaignHtml), with the writer's own text part and preview line if any. */
export type CampaignSource = { subject: string; html: string; text: string | null; preheader?: string | null };
/**
 * A campaign ready for its recipients: `html` is the whole email (layout, footer, inlined styles) and
 * `text` the template of the text part (see textTemplateOf), placeholders still in both.
 */
export type CampaignContent = { subject: string; html: string; text: string };
export type Recipient = { email: string; name: string | null };
export type RenderedEmail = { subject: string; html: string; text: string; headers: Record<string, string> };

// Case-insensitive: html-to-text upper-cases headings, so `<h1>{{name}}</h1>` becomes `{{NAME}}`.
const placeholder = /\{\{\s*(name|email|unsubscribe_url)\s*\}\}/gi;

/**
 * Replaces the three known placeholders; anything else in the body, including EJS-looking or
 * template-looking text, stays as the admin wrote it. The body is data, never compiled as a template.
 */
export function substitute(template: string, values: Record<string, string>, escape: (value: string) => string): string {
  return template.replace(placeholder, (_match, key: string) => escape(values[key.toLowerCase()] ?? ''));
}

/** The text part before personalisation: the admin's own, or derived from the HTML. */
export function textTemplateOf(html: string, text: string | null): string {
  return text ?? convert(html, { wordwrap: 78 });
}

export type CampaignLinks = {
  unsubscribeUrl: string;
  postalAddress: string | undefined;
  /** The public page, for readers whose mail client shows it badly. */
  viewInBrowserUrl?: string | undefined;
};

function textFooter({ unsubscribeUrl, postalAddress, viewInBrowserUrl }: CampaignLinks): string {
  const view = viewInBrowserUrl ? `\nView in browser: ${viewInBrowserUrl}` : '';
  return `\n\n--${view}\nYou receive this because you subscribed. Unsubscribe: ${unsubscribeUrl}` + (postalAddress ? `\n${postalAddress}` : '');
}

/** The content of <body> when the admin wrote a whole document, else the body as written. */
export function innerBody(html: string): string {
  const open = /<body[^>]*>/i.exec(html);
  if (!open) return html;
  const start = open.index + open[0].length;
  const close = html.slice(start).search(/<\/body\s*>/i);
  return close === -1 ? html.slice(start) : html.slice(start, start + close);
}

/** A whole document's own <style> blocks, which the inliner applies to its body. */
function documentStyles(html: string): string {
  const open = html.search(/<body[^>]*>/i);
  if (open === -1) return '';
  return (html.slice(0, open).match(/<style[^>]*>[\s\S]*?<\/style\s*>/gi) ?? []).join('\n');
}

/**
 * Lays a campaign out once, for all its recipients: the layout and the inlining cost milliseconds, so
 * they stay off the per-recipient path, which is only the placeholder substitution below. The footer's
 * unsubscribe link is the `{{unsubscribe_url}}` placeholder, filled in per recipient like the body's.
 */
export function prepareCampaignContent(
  source: CampaignSource,
  layout: EmailLayout,
  options: { viewInBrowserUrl?: string | undefined } = {},
): CampaignContent {
  const content = documentStyles(source.html) + innerBody(source.html);
  return {
    subject: source.subject,
    html: layout.wrap({
      subject: source.subject,
      preheader: source.preheader?.trim() || defaultPreheader(content),
      content,
      unsubscribeUrl: '{{unsubscribe_url}}',
      viewInBrowserUrl: options.viewInBrowserUrl,
    }),
    text: textTemplateOf(source.html, source.text),
  };
}

/**
 * One recipient's email from a prepared campaign: personalised HTML and text (the text part gets the
 * footer with the unsubscribe link and postal address; the HTML has it from the layout), and the
 * RFC 8058 one-click unsubscribe headers.
 */
export function renderCampaignEmail(content: CampaignContent, recipient: Recipient, links: CampaignLinks): RenderedEmail {
  const values = { name: recipient.name ?? '', email: recipient.email, unsubscribe_url: links.unsubscribeUrl };
  const body = substitute(content.text, values, (value) => value);
  return {
    subject: substitute(content.subject, values, (value) => value.replace(/[\r\n]+/g, ' ')),
    html: substitute(content.html, values, escapeHtml),
    text: body + textFooter(links),
    headers: {
      'List-Unsubscribe': `<${links.unsubscribeUrl}>`,
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    },
  };
}
