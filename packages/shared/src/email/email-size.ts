/** Gmail cuts a message whose HTML passes about 102 KB and hides the rest (the footer with it). */
export const gmailClipBytes = 102 * 1024;

export type EmailWarning = { code: 'gmail_clipping'; message: string };

/** Warnings an admin should see before sending this HTML to everyone. */
export function emailSizeWarnings(html: string): EmailWarning[] {
  const bytes = Buffer.byteLength(html, 'utf8');
  if (bytes <= gmailClipBytes) return [];
  return [
    {
      code: 'gmail_clipping',
      message: `The email is ${Math.ceil(bytes / 1024)} KB of HTML; Gmail clips messages over 102 KB and hides the rest, unsubscribe link included.`,
    },
  ];
}
