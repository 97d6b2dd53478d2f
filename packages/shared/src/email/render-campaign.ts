import { convert } from 'html-to-text';
import { escapeHtml } from './escape-html.js';

/** `text` is the template of the text part (see textTemplateOf), placeholders still in it. */
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

function htmlFooter({ unsubscribeUrl, postalAddress, viewInBrowserUrl }: CampaignLinks): string {
  const address = postalAddress ? `<br>${escapeHtml(postalAddress)}` : '';
  const view = viewInBrowserUrl ? `<a href="${escapeHtml(viewInBrowserUrl)}">View in browser</a><br>` : '';
  return (
    '<hr style="border:none;border-top:1px solid #dde1ea;margin:32px 0 16px">' +
    '<p style="font-size:12px;color:#5b6478;line-height:1.5">' +
    view +
    `You receive this because you subscribed. <a href="${escapeHtml(unsubscribeUrl)}">Unsubscribe</a>` +
    `${address}</p>`
  );
}

function textFooter({ unsubscribeUrl, postalAddress, viewInBrowserUrl }: CampaignLinks): string {
  const view = viewInBrowserUrl ? `\nView in browser: ${viewInBrowserUrl}` : '';
  return `\n\n--${view}\nYou receive this because you subscribed. Unsubscribe: ${unsubscribeUrl}` + (postalAddress ? `\n${postalAddress}` : '');
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
  links: CampaignLinks,
): RenderedEmail {
  const values = { name: recipient.name ?? '', email: recipient.email, unsubscribe_url: links.unsubscribeUrl };
  const html = appendToBody(substitute(content.html, values, escapeHtml), htmlFooter(links));
  const body = substitute(content.text, values, (value) => value);
  return {
    subject: substitute(content.subject, values, (value) => value.replace(/[\r\n]+/g, ' ')),
    html,
    text: body + textFooter(links),
    headers: {
      'List-Unsubscribe': `<${links.unsubscribeUrl}>`,
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    },
  };
}
