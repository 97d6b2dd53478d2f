/** Replaces every substitution key in a text with its value. */
export type Substitute = (text: string) => string;

const REGEX_SPECIAL = /[.*+?^${}()|[\]\\]/g;

/**
 * SendGrid's legacy `substitutions` of one personalization, as one left-to-right pass: every
 * occurrence of a key is replaced by its value literally (no escaping, no pattern semantics, `$&`
 * in a value stays `$&`), and what a value brings in is never substituted again. Where two keys
 * match at the same place the longer one wins, so the result does not depend on the order of the
 * keys in the request. An empty key would match between every two characters and is left out.
 */
export function createSubstitute(substitutions: Record<string, string> | undefined): Substitute {
  const entries = Object.entries(substitutions ?? {}).filter(([key]) => key !== '');
  if (entries.length === 0) return (text) => text;
  const values = new Map(entries);
  const keys = entries.map(([key]) => key).sort((a, b) => b.length - a.length || (a < b ? -1 : a > b ? 1 : 0));
  // An alternation tries its branches in order at each position, which gives "longest key first".
  const pattern = new RegExp(keys.map((key) => key.replace(REGEX_SPECIAL, '\\$&')).join('|'), 'g');
  // A replacer function's result is inserted as is; a replacement string would expand `$&`, `$1`, `$$`.
  return (text) => text.replace(pattern, (key) => values.get(key)!);
}
