import { describe, expect, it } from 'vitest';
import { createSubstitute } from '../src/substitutions.js';

describe('createSubstitute (SendGrid legacy substitutions)', () => {
  it('replaces every occurrence of a key', () => {
    expect(createSubstitute({ '-name-': 'Ada' })('-name-, -name- and -name-!')).toBe('Ada, Ada and Ada!');
  });

  it('never substitutes what a value brought in, whatever the order of the keys', () => {
    const text = '-a- then -b-';
    expect(createSubstitute({ '-a-': '-b-', '-b-': 'B' })(text)).toBe('-b- then B');
    expect(createSubstitute({ '-b-': 'B', '-a-': '-b-' })(text)).toBe('-b- then B');
    // A value that rebuilds a key with the text around it stays as it is too.
    expect(createSubstitute({ '-x-': '-', 'y-': 'Y' })('-x-y-')).toBe('-Y');
  });

  it('leaves a text without any key unchanged, and a key absent from the text changes nothing', () => {
    expect(createSubstitute({ '-missing-': 'nope' })('Hello there')).toBe('Hello there');
    expect(createSubstitute(undefined)('Hello -name-')).toBe('Hello -name-');
    expect(createSubstitute({})('Hello -name-')).toBe('Hello -name-');
  });

  it("inserts values literally: replacement patterns such as $& and $1 are not expanded", () => {
    const substitute = createSubstitute({ '-a-': "$&|$1|$$|$'|$`|$<name>" });
    expect(substitute('[-a-]')).toBe("[$&|$1|$$|$'|$`|$<name>]");
  });

  it('matches keys literally, regular-expression characters included', () => {
    const substitute = createSubstitute({ '(.*)': 'dot-star', '[x]+': 'bracket', '\\d': 'backslash', '^$': 'anchors' });
    expect(substitute('a(.*)b [x]+ xx \\d 7 ^$')).toBe('adot-starb bracket xx backslash 7 anchors');
  });

  it('prefers the longer key where two match at the same place, in any key order', () => {
    const text = '-name- / -name-full-';
    expect(createSubstitute({ '-name-': 'Ada', '-name-full-': 'Ada Lovelace' })(text)).toBe('Ada / Ada Lovelace');
    expect(createSubstitute({ '-name-full-': 'Ada Lovelace', '-name-': 'Ada' })(text)).toBe('Ada / Ada Lovelace');
  });

  it('takes the leftmost match when keys overlap', () => {
    expect(createSubstitute({ abc: '1', cde: '2' })('abcde')).toBe('1de');
  });

  it('ignores an empty key, which would otherwise match between every two characters', () => {
    expect(createSubstitute({ '': 'X', '-n-': 'N' })('a-n-b')).toBe('aNb');
  });

  it('handles keys and values beyond ASCII and keys named like Object members', () => {
    // Parsed JSON, as a request body arrives: `__proto__` is then an own key like any other.
    const substitutions = JSON.parse('{"{{név}}": "Émile 😀", "__proto__": "proto", "constructor": "ctor"}') as Record<string, string>;
    expect(createSubstitute(substitutions)('Szia {{név}}, __proto__ constructor')).toBe('Szia Émile 😀, proto ctor');
  });
});
