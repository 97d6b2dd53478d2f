import { z } from 'zod';
import { storableText } from '@herald/shared';

/** Lower-case letters and digits in dash-separated runs, as the database's CHECK on lists.slug. */
export const slugPattern = /^[a-z0-9]+(-[a-z0-9]+)*$/;
export const maxSlugLength = 64;
const maxWelcomeBodyBytes = 1_000_000;

const name = storableText('name', 'name is required')
  .trim()
  .min(1, 'name is required')
  .max(200, 'name must be at most 200 characters')
  .refine((value) => !/[\r\n]/.test(value), 'name must be one line');

const slug = z
  .string({ error: 'slug must be text' })
  .max(maxSlugLength, `slug must be at most ${maxSlugLength} characters`)
  .regex(slugPattern, 'slug must be lower-case letters, digits and single dashes, e.g. "weekly-digest"');

const description = storableText('description').trim().max(2000, 'description must be at most 2000 characters');

const welcome = z.strictObject(
  {
    subject: storableText('welcome.subject', 'welcome.subject is required')
      .trim()
      .min(1, 'welcome.subject is required')
      .max(200, 'welcome.subject must be at most 200 characters')
      // A line break in a subject is header injection.
      .refine((value) => !/[\r\n]/.test(value), 'welcome.subject must be one line'),
    body: storableText('welcome.body', 'welcome.body is required')
      .refine((value) => value.trim().length > 0, 'welcome.body is required')
      .refine((value) => Buffer.byteLength(value, 'utf8') <= maxWelcomeBodyBytes, 'welcome.body must be at most 1 MB'),
    format: z.enum(['html', 'markdown'], { error: 'welcome.format must be "html" or "markdown"' }).default('markdown'),
  },
  { error: 'welcome must be an object with subject and body' },
);

const visibility = z.enum(['public', 'private'], { error: 'visibility must be "public" or "private"' });
const doubleOptIn = z.boolean({ error: 'doubleOptIn must be true or false' });

export const createListInput = z.strictObject({
  name,
  slug: slug.optional(),
  description: description.optional(),
  visibility,
  doubleOptIn: doubleOptIn.default(true),
  welcome: welcome.optional(),
});

/** Every field optional; `description: null` and `welcome: null` remove them. */
export const editListInput = z.strictObject({
  name: name.optional(),
  slug: slug.optional(),
  description: description.nullable().optional(),
  visibility: visibility.optional(),
  doubleOptIn: doubleOptIn.optional(),
  welcome: welcome.nullable().optional(),
});

export type CreateListInput = z.infer<typeof createListInput>;
export type EditListInput = z.infer<typeof editListInput>;

/**
 * A slug for a name: accents dropped, anything else that is not a letter or digit turned into a
 * dash, cut to fit. "Weekly Digest (EN)" → "weekly-digest-en". A name with nothing usable (all
 * emoji, say) gives "list".
 */
export function slugFromName(text: string): string {
  const slugged = text
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, maxSlugLength - 4)
    .replace(/-+$/, '');
  return slugged || 'list';
}

/** A path's list reference (id or slug) as text, or undefined when it cannot name a list. */
export function listRefOf(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 && value.length <= 100 ? value : undefined;
}
