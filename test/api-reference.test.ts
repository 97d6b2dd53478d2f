import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { referencePath, renderApiReference } from '../scripts/api-reference.js';

describe('docs/api-reference.md', () => {
  it('is what the API description renders to (run npm run docs:api)', () => {
    const written = readFileSync(referencePath, 'utf8');
    expect(written === renderApiReference(), 'docs/api-reference.md is out of date: run npm run docs:api').toBe(true);
  });

  it('lists every operation of the description', () => {
    const reference = renderApiReference();
    expect(reference).toContain('### `POST /send`');
    expect(reference).toContain('### `GET /openapi.json`');
    expect(reference).toMatch(/\| `rules` \| SegmentRule \| yes \|/);
  });
});
