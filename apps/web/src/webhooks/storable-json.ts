import { toStorableText } from '@herald/shared';

/** How deep an event may nest; SendGrid's are two levels deep, Postgres jsonb gives up far later. */
const maxDepth = 32;

export type StorableJson = { ok: true; value: unknown } | { ok: false; problem: string };

/**
 * A parsed JSON value that Postgres can store: JSON allows `\u0000` and unpaired surrogates in keys
 * and values, Postgres text and jsonb refuse both, and one such event would fail its whole batch on
 * every retry SendGrid makes. Both become U+FFFD (the project's one rule, toStorableText), in
 * object keys as well as strings (two keys that become equal keep the later value, as JSON.parse does for
 * duplicates). Values nested deeper than `maxDepth` are refused rather than walked.
 */
export function toStorableJson(value: unknown): StorableJson {
  try {
    return { ok: true, value: clean(value, 0) };
  } catch (err) {
    if (err instanceof TooDeep) return { ok: false, problem: `is nested more than ${maxDepth} levels deep` };
    throw err;
  }
}

class TooDeep extends Error {}

function clean(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return toStorableText(value);
  if (typeof value !== 'object' || value === null) return value;
  if (depth >= maxDepth) throw new TooDeep();
  if (Array.isArray(value)) return value.map((item) => clean(item, depth + 1));
  // fromEntries defines own properties, so a `__proto__` key stays a plain key.
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [toStorableText(key), clean(item, depth + 1)]));
}
