import type { EmailLayout } from './email-layout.js';
import { escapeHtml } from './escape-html.js';
import type { RenderedEmail } from './render-campaign.js';
import { button } from './render-confirmation.js';

export type InvitationIdentity = {
  newsletterName: string;
  recipientName: string | null;
  role: string;
  /** How long the link works, as the email says it ("7 days"). */
  lifetime: string;
};

/** Stand for each email's own values in the laid-out email; nothing a person types can contain them. */
const tokens = {
  greeting: 'herald-greeting-5e81d2',
  ask: 'herald-ask-5e81d2',
  expiry: 'herald-expiry-5e81d2',
  acceptUrl: 'herald-accept-url-5e81d2',
};
const preheader = 'Choose a password and you are in.';

/** Laid out once per layout, as the confirmation is (laying out and inlining take tens of milliseconds). */
const laidOut = new WeakMap<EmailLayout, string>();

function invitationHtml(layout: EmailLayout): string {
  let html = laidOut.get(layout);
  if (!html) {
    const content =
      `<p>${tokens.greeting}</p><p>${tokens.ask}</p>` +
      button(tokens.acceptUrl, 'Accept the invitation', layout.brand.brandColor) +
      `<p>${tokens.expiry}</p>` +
      '<p style="font-size: 13px; line-height: 20px; color: #5b6478;">If the button does not work, open this address: ' +
      `<a href="${tokens.acceptUrl}" style="word-break: break-all;">${tokens.acceptUrl}</a></p>`;
    html = layout.wrap({ subject: 'You are invited', preheader, content });
    laidOut.set(layout, html);
  }
  return html;
}

/**
 * The invitation to join a newsletter's team: one button to the page where the invited person
 * chooses a password. It names the newsletter and the role they are given.
 */
export function renderInvitationEmail(
  acceptUrl: string,
  layout: EmailLayout,
  postalAddress: string | undefined,
  { newsletterName, recipientName, role, lifetime }: InvitationIdentity,
): RenderedEmail {
  const greeting = recipientName?.trim() ? `Hello ${recipientName.trim()},` : 'Hello,';
  const ask = `You are invited to join the team behind ${newsletterName} as ${/^[aeiou]/.test(role) ? 'an' : 'a'} ${role}.`;
  const expiry = `The link works for ${lifetime}, once. If you did not expect this, ignore this email and nothing happens.`;
  const html = invitationHtml(layout)
    .replaceAll(tokens.greeting, escapeHtml(greeting))
    .replaceAll(tokens.ask, escapeHtml(ask))
    .replaceAll(tokens.expiry, escapeHtml(expiry))
    .replaceAll(tokens.acceptUrl, escapeHtml(acceptUrl));
  return {
    subject: `Join ${newsletterName} on Herald`.replace(/[\r\n]+/g, ' '),
    html,
    text: `${greeting}\n\n${ask}\n\nAccept the invitation: ${acceptUrl}\n\n${expiry}` + (postalAddress ? `\n\n${postalAddress}` : ''),
    headers: {},
  };
}
