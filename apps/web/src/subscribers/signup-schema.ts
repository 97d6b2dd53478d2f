import { z } from 'zod';
import { storableText } from '@herald/shared';

const controlCharacters = /\p{Cc}/u;

/** Trimmed and lower-cased, so one person is one row whatever they type. */
export const emailAddress = storableText('email', 'Enter your email address.')
  .trim()
  .toLowerCase()
  .min(1, 'Enter your email address.')
  .max(254, 'That address is too long.')
  .pipe(z.email({ error: 'Enter a valid email address, like you@example.com.' }));

export const signupInput = z.object({
  email: emailAddress,
  name: storableText('name', 'Names are text.')
    .trim()
    .max(100, 'Keep your name under 100 characters.')
    .refine((name) => !controlCharacters.test(name), 'Names cannot contain control characters.')
    .optional()
    .transform((name) => (name ? name : null)),
});

export type SignupInput = z.infer<typeof signupInput>;
