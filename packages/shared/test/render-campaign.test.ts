import { describe, expect, it } from 'vitest';
import { loadEmailLayout } from '../src/email/email-layout.js';
import { prepareCampaignContent, renderCampaignEmail } from '../src/email/render-campaign.js';

const layout = loadEmailLayout({ newsletterName: 'The Weekly', brandColor: '#3056d3', lang: 'en', postalAddress: '1 Main St, Springfield' });

/** Campaign content as the worker prepares it: laid out, the text template derived from the HTML unless given. */
const campaign = (subject: string, html: string, text: string | null = null) => prepareCampaignContent({ subject, html, text }, layout);

const links = { unsubscribeUrl: 'https://news.example/unsubscribe/abc?x=1&y=2', postalAddress: '1 Main St, Springfield' };

describe('renderCampaignEmail', () => {
  it('substitutes the three placeholders, HTML-escaped in the HTML part', () => {
    const email = renderCampaignEmail(
      campaign('Hi {{ name }}', '<p>{{name}} / {{email}} / <a href="{{unsubscribe_url}}">x</a></p>'),
      { email: 'o"brien@example.com', name: '<script>alert(1)</script>' },
      links,
    );
    expect(email.subject).toBe('Hi <script>alert(1)</script>');
    expect(email.html).toMatch(
      /<p[^>]*>&lt;script&gt;alert\(1\)&lt;\/script&gt; \/ o&quot;brien@example.com \/ <a href="https:\/\/news.example\/unsubscribe\/abc\?x=1&amp;y=2"[^>]*>x<\/a><\/p>/,
    );
    expect(email.html).not.toContain('<script>');
  });

  it('never evaluates the body as a template', () => {
    const html = '<p><%= process.exit(1) %> ${process.env.SECRET} {{constructor}} {{#if x}}</p>';
    const email = renderCampaignEmail(campaign('s', html), { email: 'a@example.com', name: null }, links);
    expect(email.html).toContain('<%= process.exit(1) %> ${process.env.SECRET} {{constructor}} {{#if x}}');
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

  it('ends every email with the unsubscribe link and postal address, inside the one <body>', () => {
    const email = renderCampaignEmail(
      campaign('s', '<html><head><style>.lead { color: #123456; }</style></head><body><p class="lead">Hi</p></body></html>'),
      { email: 'a@example.com', name: null },
      links,
    );
    expect(email.html.match(/<body/g)).toHaveLength(1);
    expect(email.html.match(/<html/g)).toHaveLength(1);
    // The writer's own stylesheet is applied too, inline.
    expect(email.html).toMatch(
      /<p class="lead" style="[^"]*color: #123456;[^"]*">Hi<\/p>[\s\S]*<a href="https:\/\/news.example\/unsubscribe\/abc\?x=1&amp;y=2"[^>]*>Unsubscribe<\/a>[\s\S]*1 Main St, Springfield[\s\S]*<\/body>\s*<\/html>\s*$/,
    );
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
