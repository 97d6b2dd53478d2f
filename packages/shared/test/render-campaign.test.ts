import { describe, expect, it } from 'vitest';
import { renderCampaignEmail, textTemplateOf } from '../src/email/render-campaign.js';

/** Campaign content as the worker loads it: the text template derived from the HTML unless given. */
const campaign = (subject: string, html: string, text: string | null = null) => ({ subject, html, text: textTemplateOf(html, text) });

const links = { unsubscribeUrl: 'https://news.example/unsubscribe/abc?x=1&y=2', postalAddress: '1 Main St, Springfield' };

describe('renderCampaignEmail', () => {
  it('substitutes the three placeholders, HTML-escaped in the HTML part', () => {
    const email = renderCampaignEmail(
      campaign('Hi {{ name }}', '<p>{{name}} / {{email}} / <a href="{{unsubscribe_url}}">x</a></p>'),
      { email: 'o"brien@example.com', name: '<script>alert(1)</script>' },
      links,
    );
    expect(email.subject).toBe('Hi <script>alert(1)</script>');
    expect(email.html).toContain('<p>&lt;script&gt;alert(1)&lt;/script&gt; / o&quot;brien@example.com / <a href="https://news.example/unsubscribe/abc?x=1&amp;y=2">x</a></p>');
    expect(email.html).not.toContain('<script>');
  });

  it('never evaluates the body as a template', () => {
    const html = '<p><%= process.exit(1) %> ${process.env.SECRET} {{constructor}} {{#if x}}</p>';
    const email = renderCampaignEmail(campaign('s', html), { email: 'a@example.com', name: null }, links);
    expect(email.html.startsWith(html)).toBe(true);
  });

  it('derives a text part from the HTML when none is given, and uses the given one otherwise', () => {
    const content = campaign('s', '<h1>News for {{name}}</h1><p>Hello {{name}} &amp; co</p>');
    const ann = renderCampaignEmail(content, { email: 'a@example.com', name: 'Ann <A>' }, links);
    expect(ann.text).toMatch(/^NEWS FOR Ann <A>\s+Hello Ann <A> & co/);
    const bob = renderCampaignEmail(content, { email: 'b@example.com', name: 'Bob' }, links);
    expect(bob.text).toMatch(/^NEWS FOR Bob\s+Hello Bob & co/);
    const given = renderCampaignEmail(campaign('s', '<p>x</p>', 'Plain {{name}} & co'), { email: 'a@example.com', name: 'A&B' }, links);
    expect(given.text.startsWith('Plain A&B & co')).toBe(true);
  });

  it('ends every email with the unsubscribe link and postal address, inside <body>', () => {
    const email = renderCampaignEmail(campaign('s', '<html><body><p>Hi</p></body></html>'), { email: 'a@example.com', name: null }, links);
    expect(email.html).toMatch(/<p>Hi<\/p><hr[^>]*><p[^>]*>.*Unsubscribe<\/a><br>1 Main St, Springfield<\/p><\/body><\/html>$/);
    expect(email.text).toMatch(/Unsubscribe: https:\/\/news\.example\/unsubscribe\/abc\?x=1&y=2\n1 Main St, Springfield$/);
  });

  it('sets the RFC 8058 one-click unsubscribe headers', () => {
    const email = renderCampaignEmail(campaign('s', '<p>x</p>'), { email: 'a@example.com', name: null }, links);
    expect(email.headers).toEqual({
      'List-Unsubscribe': '<https://news.example/unsubscribe/abc?x=1&y=2>',
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    });
  });
});
