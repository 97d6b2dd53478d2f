import { escapeHtml } from './escape-html.js';
import type { RenderedEmail } from './render-campaign.js';

/** The double opt-in email: one link to a page whose button confirms (a GET alone never does). */
export function renderConfirmationEmail(confirmUrl: string, postalAddress: string | undefined): RenderedEmail {
  const footer = postalAddress ? `<p style="font-size:12px;color:#5b6478">${escapeHtml(postalAddress)}</p>` : '';
  return {
    subject: 'Please confirm your subscription',
    html:
      '<p>Hello,</p><p>Someone, hopefully you, asked to receive this newsletter at this address.</p>' +
      `<p><a href="${escapeHtml(confirmUrl)}">Confirm my subscription</a></p>` +
      '<p>The link works for 7 days. If it was not you, ignore this email and nothing happens.</p>' +
      footer,
    text:
      'Hello,\n\nSomeone, hopefully you, asked to receive this newsletter at this address.\n\n' +
      `Confirm your subscription: ${confirmUrl}\n\n` +
      'The link works for 7 days. If it was not you, ignore this email and nothing happens.' +
      (postalAddress ? `\n\n${postalAddress}` : ''),
    headers: {},
  };
}
