import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultLayoutPath, EmailLayoutError, loadEmailLayout } from '../src/email/email-layout.js';
import { defaultPreheader } from '../src/email/preheader.js';
import { rulesOutsideMedia } from '../../../test/support/email-css.js';

const brand = { newsletterName: 'The Weekly <Byte>', brandColor: '#0a7d4f', lang: 'en', postalAddress: '1 Main St, Springfield' };
const parts = {
  subject: 'Issue 1',
  preheader: 'What is new',
  content: '<h1>Title</h1><p>Text with <a href="https://example.com">a link</a>.</p><img src="https://example.com/x.png" alt="x">',
  unsubscribeUrl: '{{unsubscribe_url}}',
  viewInBrowserUrl: 'https://news.example/archive/1',
};

function layoutFile(source: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'herald-layout-')), 'layout.ejs');
  writeFileSync(path, source);
  return path;
}

describe('the email layout', () => {
  it('writes every style the content depends on into style attributes, keeping only @media rules in a block', () => {
    const html = loadEmailLayout(brand).wrap(parts);
    expect(rulesOutsideMedia(html)).toEqual([]);
    expect(html).toMatch(/@media \(max-width: 620px\)/);
    expect(html).toMatch(/@media \(prefers-color-scheme: dark\)/);
    expect(html).toMatch(/<h1 style="[^"]*font-size: 28px/);
    expect(html).toMatch(/<a href="https:\/\/example.com" style="[^"]*color: #0a7d4f/);
    expect(html).toMatch(/<img src="https:\/\/example.com\/x.png" alt="x" style="[^"]*max-width: 100%/);
    expect(html).toMatch(/<body style="[^"]*font-family|<td class="content" style="[^"]*font-family: -apple-system/);
  });

  it('names the newsletter, keeps placeholders for the per-recipient step and marks layout tables as presentation', () => {
    const html = loadEmailLayout(brand).wrap(parts);
    expect(html).toContain('<html lang="en">');
    expect(html).toContain('The Weekly &lt;Byte&gt;');
    expect(html).toContain('href="{{unsubscribe_url}}"');
    expect(html).toContain('href="https://news.example/archive/1"');
    expect(html).toContain('1 Main St, Springfield');
    const tables = [...html.matchAll(/<table\b[^>]*>/g)].map((match) => match[0]).filter((tag) => !tag.includes('[if mso]'));
    expect(tables.length).toBeGreaterThan(0);
    for (const tag of tables) expect(tag).toContain('role="presentation"');
    expect(html).toMatch(/<div class="preheader" style="display: none;[^"]*">What is new/);
  });

  it('leaves the unsubscribe line out of emails that have no list to leave', () => {
    const html = loadEmailLayout(brand).wrap({ ...parts, unsubscribeUrl: undefined, viewInBrowserUrl: undefined });
    expect(html).not.toContain('Unsubscribe');
    expect(html).not.toContain('View in browser');
    expect(html).toContain('1 Main St, Springfield');
  });

  it('uses an operator template with the documented variables', () => {
    const path = layoutFile(
      '<html lang="<%= lang %>"><head><style>.c { color: <%= brandColor %>; }</style></head><body>' +
        '<img src="<%= logoUrl %>"><div class="c"><%- content %></div><p><%= footerText %></p>' +
        '<a href="<%= unsubscribeUrl %>">Leave</a> <%= postalAddress %></body></html>',
    );
    const html = loadEmailLayout({ ...brand, logoUrl: 'https://cdn.example/logo.png', footerText: 'Sent with care' }, path).wrap(parts);
    expect(html).toContain('<div class="c" style="color: #0a7d4f;">');
    expect(html).toContain('<img src="https://cdn.example/logo.png">');
    expect(html).toContain('<p>Sent with care</p>');
    expect(html).not.toContain('<style>');
  });

  it('refuses a broken template at load, with the file and the reason', () => {
    const cases: [string, RegExp][] = [
      ['<p><% if (x) { %></p>', /cannot be used|fails to render/],
      ['<p><%= notAVariable.field %></p><a href="<%= unsubscribeUrl %>">x</a>', /fails to render: [\s\S]*notAVariable is not defined/],
      ['<div><%- content %></div><%= postalAddress %>', /must show the unsubscribe link/],
      ['<div><%- content %></div><a href="<%= unsubscribeUrl %>">x</a>', /must show the postal address/],
      ['<a href="<%= unsubscribeUrl %>">x</a><%= postalAddress %>', /must show the content/],
    ];
    for (const [source, reason] of cases) {
      const path = layoutFile(source);
      expect(() => loadEmailLayout(brand, path)).toThrow(EmailLayoutError);
      expect(() => loadEmailLayout(brand, path)).toThrow(reason);
      expect(() => loadEmailLayout(brand, path)).toThrow(path);
    }
    expect(() => loadEmailLayout(brand, '/nonexistent/layout.ejs')).toThrow(/nonexistent\/layout.ejs cannot be used/);
  });

  it('ships its default template next to the package, documented', () => {
    const source = readFileSync(defaultLayoutPath, 'utf8');
    for (const variable of ['lang', 'subject', 'preheader', 'newsletterName', 'brandColor', 'logoUrl', 'footerText', 'content', 'unsubscribeUrl', 'viewInBrowserUrl', 'postalAddress']) {
      expect(source).toMatch(new RegExp(`^\\s+${variable}\\s`, 'm'));
    }
  });
});

describe('the default preheader', () => {
  it('is the first sentence of the running text, not a heading or a link target', () => {
    expect(defaultPreheader('<h1>Big news</h1><p>We shipped it. More below.</p>')).toBe('We shipped it.');
    expect(defaultPreheader('<p>Read <a href="https://example.com/very/long">this</a> first! Then the rest.</p>')).toBe('Read this first!');
    expect(defaultPreheader('<div>No paragraphs here</div>')).toBe('No paragraphs here');
    expect(defaultPreheader(`<p>${'word '.repeat(60)}</p>`)).toMatch(/^(word ){27}word…$|^.{1,139}…$/);
  });
});
