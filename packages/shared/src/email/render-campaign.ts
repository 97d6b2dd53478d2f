import { randomBytes } from 'node:crypto';
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

type PlaceholderKey = 'name' | 'email' | 'unsubscribe_url';
type Part = 'html' | 'text' | 'subject';

/** How each part escapes a value: HTML-escaped in the HTML, as is in the text, on one line in the subject. */
const escapes: Record<Part, (value: string) => string> = {
  html: escapeHtml,
  text: (value) => value,
  subject: (value) => value.replace(/[\r\n]+/g, ' '),
};

function valuesOf(recipient: Recipient, unsubscribeUrl: string): Record<PlaceholderKey, string> {
  return { name: recipient.name ?? '', email: recipient.email, unsubscribe_url: unsubscribeUrl };
}

function unsubscribeHeaders(unsubscribeUrl: string): Record<string, string> {
  return { 'List-Unsubscribe': `<${unsubscribeUrl}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' };
}

/**
 * One recipient's email from a prepared campaign: personalised HTML and text (the text part gets the
 * footer with the unsubscribe link and postal address; the HTML has it from the layout), and the
 * RFC 8058 one-click unsubscribe headers.
 */
export function renderCampaignEmail(content: CampaignContent, recipient: Recipient, links: CampaignLinks): RenderedEmail {
  const values = valuesOf(recipient, links.unsubscribeUrl);
  return {
    subject: substitute(content.subject, values, escapes.subject),
    html: substitute(content.html, values, escapes.html),
    text: substitute(content.text, values, escapes.text) + textFooter(links),
    headers: unsubscribeHeaders(links.unsubscribeUrl),
  };
}

/**
 * SendGrid's legacy substitution keys standing for a placeholder in one part: random per process, so
 * no text an admin or a subscriber writes can contain one by accident.
 */
const keyPrefix = `%%herald_${randomBytes(6).toString('hex')}_`;
const keyOf = (key: PlaceholderKey, part: Part) => `${keyPrefix}${key}_${part}%%`;

export type BatchRecipient = Recipient & { unsubscribeUrl: string };
export type BatchPersonalization = { headers: Record<string, string>; substitutions: Record<string, string> };
/** One message for many recipients: the shared parts with substitution keys, and what each recipient's differs by. */
export type RenderedBatch = { subject: string; html: string; text: string; personalizations: BatchPersonalization[] };

/**
 * Many recipients' emails as one SendGrid request: each placeholder of each part becomes a
 * substitution key, and each recipient's personalization maps the keys found to its values, escaped
 * for their part. SendGrid replaces every key in the subject, the text and the HTML, so every
 * recipient gets exactly what `renderCampaignEmail` gives them alone.
 */
export function renderCampaignBatch(
  content: CampaignContent,
  recipients: BatchRecipient[],
  links: Omit<CampaignLinks, 'unsubscribeUrl'>,
): RenderedBatch {
  const used = new Map<string, { key: PlaceholderKey; part: Part }>();
  const withKeys = (template: string, part: Part) =>
    template.replace(placeholder, (_match, name: string) => {
      const key = name.toLowerCase() as PlaceholderKey;
      used.set(keyOf(key, part), { key, part });
      return keyOf(key, part);
    });
  const subject = withKeys(content.subject, 'subject');
  const html = withKeys(content.html, 'html');
  const text = withKeys(content.text, 'text') + textFooter({ ...links, unsubscribeUrl: keyOf('unsubscribe_url', 'text') });
  used.set(keyOf('unsubscribe_url', 'text'), { key: 'unsubscribe_url', part: 'text' });
  return {
    subject,
    html,
    text,
    personalizations: recipients.map((recipient) => {
      const values = valuesOf(recipient, recipient.unsubscribeUrl);
      const substitutions: Record<string, string> = {};
      for (const [substitutionKey, { key, part }] of used) substitutions[substitutionKey] = escapes[part](values[key]);
      return { headers: unsubscribeHeaders(recipient.unsubscribeUrl), substitutions };
    }),
  };
}
