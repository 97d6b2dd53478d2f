import { z } from 'zod';

/**
 * Postgres `text` cannot hold U+0000 (the insert fails), and a lone UTF-16 surrogate has no UTF-8
 * form (the driver would silently store U+FFFD instead). In `u` mode `\p{Cs}` matches only
 * surrogates that are not part of a pair, so emoji and other astral characters pass.
 */
const loneSurrogates = /\p{Cs}/gu;
const nul = '\u0000';

/** Whether `text` can be stored exactly as given. */
export function isStorableText(text: string): boolean {
  return !text.includes(nul) && !/\p{Cs}/u.test(text);
}

/** Replaces what cannot be stored with U+FFFD, for text that must be kept whatever it holds. */
export function toStorableText(text: string): string {
  return text.replace(loneSurrogates, '\uFFFD').replaceAll(nul, '\uFFFD');
}

/**
 * The one rule every text input goes through: a string that can be stored, refused with a message
 * naming the field (`label`). `typeError` is the message for a missing or non-string value.
 */
export function storableText(label: string, typeError = `${label} must be text`) {
  return z.string({ error: typeError }).refine(isStorableText, `${label} must not contain NUL characters or invalid Unicode`);
}
