/**
 * What a subscriber attribute key may look like: an identifier, so that a key reads the same in
 * `{{attributes.KEY}}`, a CSV column and a segment rule.
 */
export const attributeKeyPattern = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
