import type { EmailLayout } from './email-layout.js';
import { escapeHtml } from './escape-html.js';
import type { RenderedEmail } from './render-campaign.js';

/**
 * A call-to-action button that survives Outlook, which ignores padding on links and draws nothing
 * rounded: Outlook gets a VML shape inside a conditional comment, every other client a padded link
 * in a coloured cell.
 */
export function button(url: string, label: string, color: string): string {
  const href = escapeHtml(url);
  return (
    '<table role="presentation" cellpadding="0" cellspacing="0" border="0" class="button-table" style="margin: 24px 0;"><tr>' +
    '<td class="button-cell" align="center">' +
    '<!--[if mso]><v:roundrect xmlns:v="urn:schemas-microsoft-com:vml" xmlns:w="urn:schemas-microsoft-com:office:word" ' +
    `href="${href}" style="height:44px;v-text-anchor:middle;width:260px;" arcsize="14%" stroke="f" fillcolor="${color}">` +
    '<w:anchorlock/><center style="color:#ffffff;font-family:Arial,sans-serif;font-size:16px;font-weight:bold;">' +
    `${escapeHtml(label)}</center></v:roundrect><![endif]-->` +
    `<!--[if !mso]><!--><a class="button" href="${href}">${escapeHtml(label)}</a><!--<![endif]-->` +
    '</td></tr></table>'
  );
}

export type ConfirmationIdentity = { newsletterName: string; recipientName: string | null };

/** Stand for each email's own values in the laid-out email; nothing a person types can contain them. */
const tokens = { greeting: 'herald-greeting-0f3c9a', ask: 'herald-ask-0f3c9a', confirmUrl: 'herald-confirm-url-0f3c9a' };
const preheader = 'One click to confirm, and the next issue is yours.';

/**
 * Laying out and inlining takes tens of milliseconds, so the confirmation email is laid out once per
 * layout, with tokens where each email's greeting, newsletter and link go.
 */
const laidOut = new WeakMap<EmailLayout, string>();

function confirmationHtml(layout: EmailLayout): string {
  let html = laidOut.get(layout);
  if (!html) {
    const content =
      `<p>${tokens.greeting}</p><p>${tokens.ask}</p>` +
      button(tokens.confirmUrl, 'Confirm my subscription', layout.brand.brandColor) +
      '<p>The link works for 7 days. If it was not you, ignore this email and nothing happens.</p>' +
      // The address is one long unbroken token: it may break anywhere, or a phone would scroll sideways.
      '<p style="font-size: 13px; line-height: 20px; color: #5b6478;">If the button does not work, open this address: ' +
      `<a href="${tokens.confirmUrl}" style="word-break: break-all;">${tokens.confirmUrl}</a></p>`;
    html = layout.wrap({ subject: 'Confirm your subscription', preheader, content });
    laidOut.set(layout, html);
  }
  return html;
}

/**
 * The double opt-in email: one button to a page whose button confirms (a GET alone never does). It
 * names the newsletter, and greets the person by the name they gave, if any.
 */
export function renderConfirmationEmail(
  confirmUrl: string,
  layout: EmailLayout,
  postalAddress: string | undefined,
  { newsletterName, recipientName }: ConfirmationIdentity,
): RenderedEmail {
  const greeting = recipientName?.trim() ? `Hello ${recipientName.trim()},` : 'Hello,';
  const ask = `Someone, hopefully you, asked to receive ${newsletterName} at this address.`;
  const html = confirmationHtml(layout)
    .replaceAll(tokens.greeting, escapeHtml(greeting))
    .replaceAll(tokens.ask, escapeHtml(ask))
    .replaceAll(tokens.confirmUrl, escapeHtml(confirmUrl));
  return {
    // A subject is one header line, whatever the configured name holds.
    subject: `Confirm your subscription to ${newsletterName}`.replace(/[\r\n]+/g, ' '),
    html,
    text:
      `${greeting}\n\n${ask}\n\n` +
      `Confirm your subscription: ${confirmUrl}\n\n` +
      'The link works for 7 days. If it was not you, ignore this email and nothing happens.' +
      (postalAddress ? `\n\n${postalAddress}` : ''),
    headers: {},
  };
}
