import { z } from 'zod';
import { storableText } from '@herald/shared';
import { roleDescriptions, roles } from './roles.js';

export const userRole = z
  .enum(roles, { error: `must be one of ${roles.join(', ')}` })
  .meta({ id: 'UserRole', description: roles.map((role) => `\`${role}\`: ${roleDescriptions[role]}`).join(' ') });

/** Trimmed and lower-cased as the table keeps it, so one person cannot be invited twice by case. */
const email = storableText('email')
  .trim()
  .toLowerCase()
  .min(1, 'is required')
  .max(254, 'must be at most 254 characters')
  .pipe(z.email({ error: 'must be an email address, like ada@example.com' }));

const name = storableText('name').trim().max(200, 'must be at most 200 characters').nullable().meta({ description: 'How the team sees them; they may change it when they join.' });

/** `POST /users`. */
export const inviteUserBody = z.strictObject({ email, name: name.optional(), role: userRole });
export type InviteUserInput = z.output<typeof inviteUserBody>;

/** `PATCH /users/:id`: a new role, or `disabled: true`/`false`. */
export const updateUserBody = z
  .strictObject({
    role: userRole,
    disabled: z.boolean().meta({ description: 'true ends their sessions and API tokens at once; false lets them back in.' }),
  })
  .partial()
  .refine((body) => Object.keys(body).length > 0, 'change at least one field');
export type UpdateUserInput = z.output<typeof updateUserBody>;

/** A password chosen on the invitation page. */
export function choosePasswordForm(minLength: number) {
  return z
    .object({
      name: storableText('name').trim().max(200, 'must be at most 200 characters'),
      password: z.string().min(minLength, `must be at least ${minLength} characters`).max(1000, 'must be at most 1000 characters'),
      passwordAgain: z.string(),
    })
    .refine((form) => form.password === form.passwordAgain, { path: ['passwordAgain'], message: 'the two passwords differ' });
}
