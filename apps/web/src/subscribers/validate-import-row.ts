import type { z } from 'zod';
import { attributeValueProblem, attributesSizeProblem, isStorableText } from '@herald/shared';
import type { Attributes } from '@herald/shared';
import { signupInput } from './signup-schema.js';
import { unguardFormula } from './spreadsheet-text.js';

export type CheckedImportRow = { valid: true; email: string; name: string | null; attributes: Attributes | undefined } | { valid: false; reason: string };

/** A plain decimal number (no leading zeros, so a postcode like 01234 stays text). */
const decimalNumber = /^-?(?:0|[1-9]\d{0,14})(?:\.\d{1,15})?$/;

/**
 * Checks one row with the signup rules, so an imported subscriber is exactly what the form would
 * accept; reasons are worded for someone fixing a spreadsheet rather than filling in a form.
 */
export function validateImportRow(email: string, name: string | undefined, cells?: Record<string, string>): CheckedImportRow {
  const parsed = signupInput.safeParse({ email, name: name === undefined ? undefined : unguardFormula(name) });
  if (!parsed.success) {
    return { valid: false, reason: [...new Set(parsed.error.issues.map((issue) => reasonFor(issue, email, name ?? '')))].join('; ') };
  }
  const attributes = cells === undefined ? undefined : attributesOf(cells);
  if (typeof attributes === 'string') return { valid: false, reason: attributes };
  return { valid: true, email: parsed.data.email, name: parsed.data.name, attributes };
}

/**
 * A row's attribute cells as values: `true` and `false` become booleans and plain decimal numbers
 * numbers (so segments compare them as numbers), anything else stays text. Returns the reason
 * when a cell cannot be stored.
 */
function attributesOf(cells: Record<string, string>): Attributes | string {
  const attributes: Attributes = {};
  for (const [key, cell] of Object.entries(cells)) {
    const text = unguardFormula(cell);
    const value = text === 'true' ? true : text === 'false' ? false : decimalNumber.test(text) ? Number(text) : text;
    const problem = attributeValueProblem(key, value);
    if (problem) return problem;
    attributes[key] = value;
  }
  return attributesSizeProblem(attributes) ?? attributes;
}

function reasonFor(issue: z.core.$ZodIssue, email: string, name: string): string {
  if (issue.path[0] === 'name') {
    if (issue.code === 'too_big') return 'name is longer than 100 characters';
    return isStorableText(name) ? 'name contains control characters' : 'name contains NUL characters or invalid Unicode';
  }
  if (email.trim() === '') return 'email address is missing';
  return issue.code === 'too_big' ? 'email address is longer than 254 characters' : 'email address is not valid';
}
