import { z } from 'zod';
import { isStorableText } from './storable-text.js';

/**
 * A subscriber's attributes: a flat JSON object of string, number and boolean values, set by the
 * API, the CSV import and the admin, read by segments and by `{{attributes.KEY}}` in emails. Keys
 * are identifiers, so a placeholder, a CSV header and a segment rule can all name them as written.
 */
export type AttributeValue = string | number | boolean;
export type Attributes = Record<string, AttributeValue>;

/** A key: a letter or underscore, then letters, digits and underscores; 64 characters at most. */
export const attributeKeyPattern = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

export const maxAttributeKeys = 50;
export const maxAttributeStringLength = 1000;
/** The database's CHECK on subscribers.attributes (octet_length of its text form). */
export const maxAttributesBytes = 8192;

/** Why `key` cannot be an attribute key, or undefined when it can. */
export function attributeKeyProblem(key: string): string | undefined {
  if (attributeKeyPattern.test(key)) return undefined;
  return `attribute key "${printable(key)}" must start with a letter or underscore and hold only letters, digits and underscores (64 at most)`;
}

/** Why `value` cannot be the value of attribute `key`, or undefined when it can. */
export function attributeValueProblem(key: string, value: unknown): string | undefined {
  if (typeof value === 'boolean') return undefined;
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : `attribute ${key} must be a finite number`;
  if (typeof value !== 'string') return `attribute ${key} must be a string, number or boolean`;
  if (value.length > maxAttributeStringLength) return `attribute ${key} is longer than ${maxAttributeStringLength} characters`;
  if (!isStorableText(value)) return `attribute ${key} must not contain NUL characters or invalid Unicode`;
  return undefined;
}

/** Bytes the object takes in Postgres's jsonb text form, which the CHECK measures: `{"k": v, …}`. */
export function attributesBytes(attributes: Record<string, unknown>): number {
  // jsonb prints `"key": value` with ", " between pairs; JSON.stringify leaves the spaces out.
  const entries = Object.keys(attributes).length;
  return Buffer.byteLength(JSON.stringify(attributes), 'utf8') + Math.max(0, entries * 2 - 1);
}

/** Why a whole attributes object is too big, or undefined. */
export function attributesSizeProblem(attributes: Record<string, unknown>): string | undefined {
  if (Object.keys(attributes).length > maxAttributeKeys) return `a subscriber has at most ${maxAttributeKeys} attributes`;
  if (attributesBytes(attributes) > maxAttributesBytes) return `attributes take at most ${maxAttributesBytes / 1024} KiB`;
  return undefined;
}

function checkEntries(value: Record<string, unknown>, ctx: z.RefinementCtx, allowNull: boolean): void {
  for (const [key, entry] of Object.entries(value)) {
    const keyProblem = attributeKeyProblem(key);
    if (keyProblem) {
      ctx.addIssue({ code: 'custom', message: keyProblem, path: [key] });
      continue;
    }
    if (allowNull && entry === null) continue;
    const problem = attributeValueProblem(key, entry);
    if (problem) ctx.addIssue({ code: 'custom', message: problem, path: [key] });
  }
}

const plainObject = z.record(z.string(), z.unknown(), { error: 'attributes must be a JSON object' });

/** A complete attributes object (what a subscriber holds). Messages name the key. */
export const attributesSchema = plainObject
  .superRefine((value, ctx) => {
    checkEntries(value, ctx, false);
    const problem = attributesSizeProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  .transform((value) => value as Attributes);

/**
 * A change to attributes: given keys are set, a `null` value removes the key. The size of the
 * result is checked against what the subscriber already holds, by `mergeAttributes`.
 */
export const attributesPatchSchema = plainObject
  .superRefine((value, ctx) => {
    checkEntries(value, ctx, true);
    if (Object.keys(value).length > maxAttributeKeys) ctx.addIssue({ code: 'custom', message: `a subscriber has at most ${maxAttributeKeys} attributes` });
  })
  .transform((value) => value as Record<string, AttributeValue | null>);

/** Applies a patch: given keys set, null removes. Returns the result and a problem if it is too big. */
export function mergeAttributes(current: Attributes, patch: Record<string, AttributeValue | null>): { attributes: Attributes; problem?: string } {
  const attributes: Attributes = { ...current };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete attributes[key];
    else attributes[key] = value;
  }
  return { attributes, problem: attributesSizeProblem(attributes) };
}

/** A key shown in a message: cut short and with control characters made visible. */
function printable(key: string): string {
  const cut = key.length > 40 ? `${key.slice(0, 40)}…` : key;
  return JSON.stringify(cut).slice(1, -1);
}
