import type { z } from 'zod';
import { isStorableText } from '@herald/shared';
import { signupInput } from './signup-schema.js';
import { unguardFormula } from './spreadsheet-text.js';

export type CheckedImportRow = { valid: true; email: string; name: string | null } | { valid: false; reason: string };

/**
 * Checks one row with the signup rules, so an imported subscriber is exactly what the form would
 * accept; reasons are worded for someone fixing a spreadsheet rather than filling in a form.
 */
export function validateImportRow(email: string, name: string | undefined): CheckedImportRow {
  const parsed = signupInput.safeParse({ email, name: name === undefined ? undefined : unguardFormula(name) });
  if (parsed.success) return { valid: true, email: parsed.data.email, name: parsed.data.name };
  return { valid: false, reason: [...new Set(parsed.error.issues.map((issue) => reasonFor(issue, email, name ?? '')))].join('; ') };
}

function reasonFor(issue: z.core.$ZodIssue, email: string, name: string): string {
  if (issue.path[0] === 'name') {
    if (issue.code === 'too_big') return 'name is longer than 100 characters';
    return isStorableText(name) ? 'name contains control characters' : 'name contains NUL characters or invalid Unicode';
  }
  if (email.trim() === '') return 'email address is missing';
  return issue.code === 'too_big' ? 'email address is longer than 254 characters' : 'email address is not valid';
}
