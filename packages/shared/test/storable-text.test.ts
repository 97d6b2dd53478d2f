import { describe, expect, it } from 'vitest';
import { isStorableText, storableText, toStorableText } from '../src/storable-text.js';

describe('text that can be stored', () => {
  it.each([
    ['a NUL', 'a\u0000b'],
    ['a lone high surrogate', 'a\ud800'],
    ['a lone low surrogate', '\udc00b'],
    ['a reversed pair', '\udc00\ud800'],
  ])('refuses %s', (_name, text) => {
    expect(isStorableText(text)).toBe(false);
    expect(storableText('name').safeParse(text).error?.issues[0]?.message).toBe('name must not contain NUL characters or invalid Unicode');
  });

  it.each(['plain', 'émigré', 'emoji 😀 pairs', '\uFFFD', 'tab\tand\nnewline', ''])('accepts %j', (text) => {
    expect(isStorableText(text)).toBe(true);
    expect(storableText('name').safeParse(text).success).toBe(true);
  });

  it('names the field when the value is not a string', () => {
    expect(storableText('subject', 'subject is required').safeParse(42).error?.issues[0]?.message).toBe('subject is required');
  });

  it('makes any text storable, keeping valid pairs', () => {
    expect(toStorableText('a\u0000b\ud800c😀')).toBe('a\uFFFDb\uFFFDc😀');
  });
});
