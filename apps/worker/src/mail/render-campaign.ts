import { convert } from 'html-to-text';
import { escapeHtml } from './escape-html.js';

export type CampaignContent = { id: string; subject: string; html: string; text: string | null };
export type Recipient = { email: string; name: string | null };
export type RenderedEmail = { subject: string; html: string; text: string; headers: Record<string, string> };

// Case-insensitive: html-to-text upper-cases headings, so `<h1>{{name}}</h1>` becomes `{{NAME}}`.
const placeholder = /\{\{\s*(name|email|unsubscribe_url)\s*\}\}/gi;

/**
 * Replaces the three known placeholders; anything else in the body, including EJS-looking or
 * template-looking text, stays as the admin wrote it. The body is data, never compiled as a template.
 */
function substitute(template: string, values: Record<string, string>, escape: (value: string) => string): string {
  return template.replace(placeholder, (_match, key: string) => escape(values[key.toLowerCase()] ?? ''));
}

/**
 * The text part before personalisation: the admin's own, or derived from the HTML once per campaign
 * (html-to-text takes milliseconds on a long issue, far too slow to run per recipient). Campaign
 * content never changes after creation, so the cache needs no invalidation, only a size bound.
 */
const derivedTexts = new Map<string, string>();
const maxDerivedTexts = 50;

function textTemplate(content: CampaignContent): string {
  if (content.text) return content.text;
  let text = derivedTexts.get(content.id);
  if (text === undefined) {
    text = convert(content.html, { wordwrap: 78 });
    if (derivedTexts.size >= maxDerivedTexts) derivedTexts.delete(derivedTexts.keys().next().value!);
    derivedTexts.set(content.id, text);
  }
  return text;
}

function htmlFooter(unsubscribeUrl: string, postalAddress: string | undefined): string {
  const address = postalAddress ? `<br>${escapeHtml(postalAddress)}` : '';
  return (
    '<hr style="border:none;border-top:1px solid #dde1ea;margin:32px 0 16px">' +
    '<p style="font-size:12px;color:#5b6478;line-height:1.5">' +
    `You receive this because you subscribed. <a href="${escapeHtml(unsubscribeUrl)}">Unsubscribe</a>` +
    `${address}</p>`
  );
}

function textFooter(unsubscribeUrl: string, postalAddress: string | undefined): string {
  return `\n\n--\nYou receive this because you subscribed. Unsubscribe: ${unsubscribeUrl}` + (postalAddress ? `\n${postalAddress}` : '');
}

/** Puts the footer inside <body> when the admin wrote a full document, else at the end. */
function appendToBody(html: string, footer: string): string {
  const close = html.search(/<\/body\s*>/i);
  return close === -1 ? html + footer : html.slice(0, close) + footer + html.slice(close);
}

/**
 * One recipient's email: personalised HTML and text, the unsubscribe footer with the postal address,
 * and the RFC 8058 one-click unsubscribe headers.
 */
export function renderCampaignEmail(
  content: CampaignContent,
  recipient: Recipient,
  links: { unsubscribeUrl: string; postalAddress: string | undefined },
): RenderedEmail {
  const values = { name: recipient.name ?? '', email: recipient.email, unsubscribe_url: links.unsubscribeUrl };
  const html = appendToBody(substitute(content.html, values, escapeHtml), htmlFooter(links.unsubscribeUrl, links.postalAddress));
  const body = substitute(textTemplate(content), values, (value) => value);
  return {
    subject: substitute(content.subject, values, (value) => value.replace(/[\r\n]+/g, ' ')),
    html,
    text: body + textFooter(links.unsubscribeUrl, links.postalAddress),
    headers: {
      'List-Unsubscribe': `<${links.unsubscribeUrl}>`,
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    },
  };
}
