import { escapeHtml } from './escape-html.js';
import type { RenderedEmail } from './render-campaign.js';

export type ConfirmationIdentity = { newsletterName: string; recipientName: string | null };

/**
 * The double opt-in email: one link to a page whose button confirms (a GET alone never does). It
 * names the newsletter, and greets the person by the name they gave, if any.
 */
export function renderConfirmationEmail(
  confirmUrl: string,
  postalAddress: string | undefined,
  { newsletterName, recipientName }: ConfirmationIdentity,
): RenderedEmail {
  const footer = postalAddress ? `<p style="font-size:12px;color:#5b6478">${escapeHtml(postalAddress)}</p>` : '';
  const greeting = recipientName?.trim() ? `Hello ${recipientName.trim()},` : 'Hello,';
  const ask = `Someone, hopefully you, asked to receive ${newsletterName} at this address.`;
  return {
    // A subject is one header line, whatever the configured name holds.
    subject: `Confirm your subscription to ${newsletterName}`.replace(/[\r\n]+/g, ' '),
    html:
      `<p>${escapeHtml(greeting)}</p><p>${escapeHtml(ask)}</p>` +
      `<p><a href="${escapeHtml(confirmUrl)}">Confirm my subscription</a></p>` +
      '<p>The link works for 7 days. If it was not you, ignore this email and nothing happens.</p>' +
      footer,
    text:
      `${greeting}\n\n${ask}\n\n` +
      `Confirm your subscription: ${confirmUrl}\n\n` +
      'The link works for 7 days. If it was not you, ignore this email and nothing happens.' +
      (postalAddress ? `\n\n${postalAddress}` : ''),
    headers: {},
  };
}
