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

/** The most lists one signup may name; the form offers far fewer. */
export const maxSignupLists = 50;

/** Lists a signup names, by id or slug; none means the default list. */
export const signupListRefs = z
  .array(storableText('lists', 'lists must be ids or slugs').trim().min(1, 'lists must not hold empty names').max(100, 'A list id or slug is shorter than that.'), {
    error: 'lists must be an array of list ids or slugs',
  })
  .max(maxSignupLists, `Name at most ${maxSignupLists} lists.`)
  .optional()
  .transform((refs) => [...new Set(refs ?? [])]);

export const signupRequest = signupInput.extend({ lists: signupListRefs });

export type SignupInput = z.infer<typeof signupInput>;
export type SignupRequest = z.infer<typeof signupRequest>;
