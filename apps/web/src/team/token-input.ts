import { z } from 'zod';
import { storableText } from '@herald/shared';
import { roles } from './roles.js';

/** A token lives at most this long: long enough for a deploy pipeline, short enough to be rotated. */
export const maxTokenYears = 5;

/** Stored as given, so it must be text Postgres can keep: no NUL, no lone surrogate. */
export const tokenName = storableText('name').trim().min(1, 'is required').max(100, 'must be at most 100 characters');
export const tokenRole = z.enum(roles);

/** What is wrong with an expiry, or null: it must be in the future and within `maxTokenYears`. */
export function expiryProblem(expiresAt: Date, now = new Date()): string | null {
  if (expiresAt.getTime() <= now.getTime()) return 'must be in the future';
  const latest = new Date(now);
  latest.setUTCFullYear(latest.getUTCFullYear() + maxTokenYears);
  if (expiresAt.getTime() > latest.getTime()) return `must be within ${maxTokenYears} years`;
  return null;
}

const expiresAt = z.iso
  .datetime({ offset: true })
  .transform((value) => new Date(value))
  .superRefine((date, ctx) => {
    const problem = expiryProblem(date);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

/** `POST /tokens`. */
export const createTokenBody = z.strictObject({
  name: tokenName.meta({ description: 'What the token is for, shown in lists and the audit log.' }),
  role: tokenRole.meta({ description: 'The most the token may do: at most your own role. It never acts above your current role either.' }),
  expiresAt: expiresAt
    .nullable()
    .optional()
    .meta({ description: `When the token stops working: an ISO 8601 time with its offset, in the future, at most ${maxTokenYears} years away. Without it (or null) the token works until revoked.` }),
});
