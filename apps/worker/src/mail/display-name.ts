/**
 * Display names as SendGrid accepts them. SendGrid refuses the whole Mail Send request when a
 * `to`, `cc` or `bcc` name contains `,` or `;` ("Mail Send limitations"), and a 400 is permanent,
 * so a subscriber called "Doe, Jane" would never get a single email. Only the name on the envelope
 * changes: the stored name and `{{name}}` in the body stay exactly as the subscriber typed them.
 */

/** Characters SendGrid refuses in a recipient's display name. */
const refusedInName = /[,;]/;
/** Control characters (CR/LF above all) have no place in a header's display name. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const controlCharacters = /[\u0000-\u001f\u007f]/;

/**
 * The name to put on the envelope: each refused or control character becomes a space, runs of
 * spaces collapse, and a name left empty is dropped (the address alone is a valid recipient).
 */
export function toDisplayName(name: string | null | undefined): string | undefined {
  if (!name) return undefined;
  const cleaned = name
    .replace(new RegExp(`${refusedInName.source}|${controlCharacters.source}`, 'g'), ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return cleaned === '' ? undefined : cleaned;
}

/** `{ email, name? }` for SendGrid, with the name made acceptable or left out. */
export function toRecipient(address: { email: string; name?: string | null }): { email: string; name?: string } {
  const name = toDisplayName(address.name);
  return name === undefined ? { email: address.email } : { email: address.email, name };
}

/**
 * Why a configured sender name cannot be used as it is, or undefined when it can. The sender is
 * configuration, so it is refused at boot rather than silently rewritten on every email.
 */
export function findDisplayNameProblem(name: string): string | undefined {
  if (refusedInName.test(name)) return 'the display name may not contain "," or ";" (SendGrid refuses them)';
  if (controlCharacters.test(name)) return 'the display name may not contain control characters';
  return undefined;
}
