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
 * `attributeKeys`: the subscriber attributes its placeholders name (`{{attributes.KEY}}`), so the
 * send path reads attributes only for campaigns that use them, and only those keys. `headers`:
 * headers every recipient's email carries (the campaign's List-Id).
 */
export type CampaignContent = { subject: string; html: string; text: string; attributeKeys?: string[]; headers?: Record<string, string> };
/** `attributes`: the subscriber's attributes, or the keys of them the campaign uses; absent ones are empty. */
export type Recipient = { email: string; name: string | null; attributes?: Record<string, unknown> | null };
export type RenderedEmail = { subject: string; html: string; text: string; headers: Record<string, string> };

// Case-insensitive: html-to-text upper-cases headings, so `<h1>{{name}}</h1>` becomes `{{NAME}}`.
const placeholder = /\{\{\s*(name|email|unsubscribe_url|preferences_url|attributes\.[A-Za-z_][A-Za-z0-9_]{0,63})\s*\}\}/gi;

/**
 * A placeholder's key as values are looked up: the fixed ones in lower case, `attributes.KEY` with
 * the key as written (attribute keys are case-sensitive; an upper-cased heading's key is matched
 * without case by attributeText).
 */
function keyOfMatch(name: string): string {
  return /^attributes\./i.test(name) ? `attributes.${name.slice('attributes.'.length)}` : name.toLowerCase();
}

/**
 * An attribute as text in an email: strings as they are, numbers and booleans written out, anything
 * else and an absent key empty. A key written in another case (`{{ATTRIBUTES.PLAN}}` from a heading
 * the text part upper-cased) finds the attribute only when the exact key is absent.
 */
function attributeText(attributes: Record<string, unknown> | null | undefined, key: string): string {
  if (!attributes) return '';
  // Own keys only: `{{attributes.constructor}}` is an absent key, not Object.prototype's.
  let value = Object.hasOwn(attributes, key) ? attributes[key] : undefined;
  if (value === undefined) {
    const lower = key.toLowerCase();
    const found = Object.keys(attributes).find((candidate) => candidate.toLowerCase() === lower);
    value = found === undefined ? undefined : attributes[found];
  }
  return typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'boolean' ? String(value) : '';
}

/** The attribute keys a campaign's placeholders name, each once, as written. */
export function attributeKeysOf(...templates: string[]): string[] {
  const keys = new Set<string>();
  for (const template of templates) {
    for (const match of template.matchAll(placeholder)) {
      const key = keyOfMatch(match[1]!);
      if (key.startsWith('attributes.')) keys.add(key.slice('attributes.'.length));
    }
  }
  return [...keys];
}

/**
 * Replaces the known placeholders; anything else in the body, including EJS-looking or
 * template-looking text, stays as the admin wrote it. The body is data, never compiled as a template.
 */
export function substitute(template: string, values: Record<string, string> | ((key: string) => string), escape: (value: string) => string): string {
  const valueOf = typeof values === 'function' ? values : (key: string) => values[key] ?? '';
  return template.replace(placeholder, (_match, name: string) => escape(valueOf(keyOfMatch(name))));
}

/** The text part before personalisation: the admin's own, or derived from the HTML. */
export function textTemplateOf(html: string, text: string | null): string {
  return text ?? convert(html, { wordwrap: 78 });
}

export type CampaignLinks = {
  unsubscribeUrl: string;
  /** The person's preference centre, in the footer as "Manage your subscriptions". */
  preferencesUrl?: string | undefined;
  postalAddress: string | undefined;
  /** The public page, for readers whose mail client shows it badly. */
  viewInBrowserUrl?: string | undefined;
};

function textFooter({ unsubscribeUrl, preferencesUrl, postalAddress, viewInBrowserUrl }: CampaignLinks): string {
  const view = viewInBrowserUrl ? `\nView in browser: ${viewInBrowserUrl}` : '';
  const preferences = preferencesUrl ? `\nManage your subscriptions: ${preferencesUrl}` : '';
  return `\n\n--${view}\nYou receive this because you subscribed. Unsubscribe: ${unsubscribeUrl}${preferences}` + (postalAddress ? `\n${postalAddress}` : '');
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
 * unsubscribe link is the `{{unsubscribe_url}}` placeholder, filled in per recipient like the body's,
 * and with `preferencesLink` the footer links the preference centre through `{{preferences_url}}`.
 */
export function prepareCampaignContent(
  source: CampaignSource,
  layout: EmailLayout,
  options: { viewInBrowserUrl?: string | undefined; preferencesLink?: boolean; headers?: Record<string, string> } = {},
): CampaignContent {
  const content = documentStyles(source.html) + innerBody(source.html);
  const text = textTemplateOf(source.html, source.text);
  return {
    subject: source.subject,
    html: layout.wrap({
      subject: source.subject,
      preheader: source.preheader?.trim() || defaultPreheader(content),
      content,
      unsubscribeUrl: '{{unsubscribe_url}}',
      preferencesUrl: options.preferencesLink ? '{{preferences_url}}' : undefined,
      viewInBrowserUrl: options.viewInBrowserUrl,
    }),
    text,
    attributeKeys: attributeKeysOf(source.subject, source.html, text),
    ...(options.headers ? { headers: options.headers } : {}),
  };
}

type Part = 'html' | 'text' | 'subject';

/** How each part escapes a value: HTML-escaped in the HTML, as is in the text, on one line in the subject. */
const escapes: Record<Part, (value: string) => string> = {
  html: escapeHtml,
  text: (value) => value,
  subject: (value) => value.replace(/[\r\n]+/g, ' '),
};

function valuesOf(recipient: Recipient, links: { unsubscribeUrl: string; preferencesUrl?: string | undefined }): (key: string) => string {
  return (key) => {
    switch (key) {
      case 'name':
        return recipient.name ?? '';
      case 'email':
        return recipient.email;
      case 'unsubscribe_url':
        return links.unsubscribeUrl;
      case 'preferences_url':
        return links.preferencesUrl ?? '';
      default:
        return attributeText(recipient.attributes, key.slice('attributes.'.length));
    }
  };
}

function unsubscribeHeaders(unsubscribeUrl: string, campaignHeaders: Record<string, string> | undefined): Record<string, string> {
  return { ...campaignHeaders, 'List-Unsubscribe': `<${unsubscribeUrl}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' };
}

/**
 * One recipient's email from a prepared campaign: personalised HTML and text (the text part gets the
 * footer with the unsubscribe link and postal address; the HTML has it from the layout), and the
 * RFC 8058 one-click unsubscribe headers.
 */
export function renderCampaignEmail(content: CampaignContent, recipient: Recipient, links: CampaignLinks): RenderedEmail {
  const values = valuesOf(recipient, links);
  return {
    subject: substitute(content.subject, values, escapes.subject),
    html: substitute(content.html, values, escapes.html),
    text: substitute(content.text, values, escapes.text) + textFooter(links),
    headers: unsubscribeHeaders(links.unsubscribeUrl, content.headers),
  };
}

/**
 * SendGrid's legacy substitution keys standing for a placeholder in one part: random per process, so
 * no text an admin or a subscriber writes can contain one by accident.
 */
const keyPrefix = `%%herald_${randomBytes(6).toString('hex')}_`;
const keyOf = (key: string, part: Part) => `${keyPrefix}${key}_${part}%%`;

export type BatchRecipient = Recipient & { unsubscribeUrl: string; preferencesUrl?: string | undefined };
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
  const used = new Map<string, { key: string; part: Part }>();
  const withKeys = (template: string, part: Part) =>
    template.replace(placeholder, (_match, name: string) => {
      const key = keyOfMatch(name);
      used.set(keyOf(key, part), { key, part });
      return keyOf(key, part);
    });
  const subject = withKeys(content.subject, 'subject');
  const html = withKeys(content.html, 'html');
  // Every recipient of a batch has a preference centre link, or none has.
  const preferences = recipients[0]?.preferencesUrl ? keyOf('preferences_url', 'text') : undefined;
  const text = withKeys(content.text, 'text') + textFooter({ ...links, unsubscribeUrl: keyOf('unsubscribe_url', 'text'), preferencesUrl: preferences });
  used.set(keyOf('unsubscribe_url', 'text'), { key: 'unsubscribe_url', part: 'text' });
  if (preferences) used.set(preferences, { key: 'preferences_url', part: 'text' });
  return {
    subject,
    html,
    text,
    personalizations: recipients.map((recipient) => {
      const values = valuesOf(recipient, recipient);
      const substitutions: Record<string, string> = {};
      for (const [substitutionKey, { key, part }] of used) substitutions[substitutionKey] = escapes[part](values(key));
      return { headers: unsubscribeHeaders(recipient.unsubscribeUrl, content.headers), substitutions };
    }),
  };
}
