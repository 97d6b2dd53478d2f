import { describe, expect, it } from 'vitest';
import { campaignHtml } from '../src/email/campaign-html.js';
import { renderCampaignEmail, textTemplateOf } from '../src/email/render-campaign.js';
import { loadEmailLayout } from '../src/email/email-layout.js';
import { renderConfirmationEmail } from '../src/email/render-confirmation.js';

describe('campaignHtml', () => {
  it('leaves an HTML body exactly as written', () => {
    const body = '# not a heading {{name}} **x**';
    expect(campaignHtml(body, 'html')).toBe(body);
  });

  it('renders Markdown with GitHub flavour and keeps the placeholders, also in link targets', () => {
    const html = campaignHtml('Hi {{ name }}\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n[x]({{unsubscribe_url}}) [y]({{EMAIL}}) ~~old~~', 'markdown');
    expect(html).toContain('<p>Hi {{ name }}</p>');
    expect(html).toContain('<table>');
    expect(html).toContain('<a href="{{unsubscribe_url}}">x</a>');
    expect(html).toContain('<a href="{{EMAIL}}">y</a>');
    expect(html).toContain('<del>old</del>');
  });

  it('turns back only the three known placeholders', () => {
    expect(campaignHtml('[x]({{secret}})', 'markdown')).toContain('href="%7B%7Bsecret%7D%7D"');
  });

  it('substitutes a Markdown link placeholder with escaping, like an HTML one', () => {
    const html = campaignHtml('[Leave]({{unsubscribe_url}}) {{name}}', 'markdown');
    const email = renderCampaignEmail(
      { subject: 's', html, text: textTemplateOf(html, null) },
      { email: 'a@example.com', name: '"><script>' },
      { unsubscribeUrl: 'https://news.example/u?a=1&b=2', postalAddress: undefined },
    );
    expect(email.html).toContain('<a href="https://news.example/u?a=1&amp;b=2">Leave</a> &quot;&gt;&lt;script&gt;');
  });
});

describe('renderConfirmationEmail', () => {
  it('names the newsletter and greets by name, keeping the subject on one line', () => {
    const layout = loadEmailLayout({ newsletterName: 'Lantern', brandColor: '#3056d3', lang: 'en' });
    const email = renderConfirmationEmail('https://news.example/confirm/t', layout, undefined, { newsletterName: 'Lantern\r\nBcc: x', recipientName: ' Ann ' });
    expect(email.subject).toBe('Confirm your subscription to Lantern Bcc: x');
    expect(email.text.startsWith('Hello Ann,\n\n')).toBe(true);
    expect(email.html).toMatch(/<p[^>]*>Hello Ann,<\/p>/);
    const other = renderConfirmationEmail('https://news.example/confirm/u', layout, undefined, { newsletterName: 'Lantern', recipientName: '<b>Bo</b>' });
    expect(other.html).toMatch(/<p[^>]*>Hello &lt;b&gt;Bo&lt;\/b&gt;,<\/p>/);
    expect(other.html).toContain('href="https://news.example/confirm/u"');
    expect(other.html).not.toContain('confirm/t');
  });
});
