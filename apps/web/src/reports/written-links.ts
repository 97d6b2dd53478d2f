import { Parser } from 'htmlparser2';
import { campaignHtml } from '@herald/shared';
import type { CampaignFormat } from '@herald/shared';

/** A link as the campaign's body has it, and a test for the URLs recipients clicked through it. */
export type WrittenLink = {
  url: string;
  /** Written with a placeholder, so each recipient's URL differs. */
  personal: boolean;
  matches: (clicked: string) => boolean;
};

const placeholder = /\{\{\s*[^}]*\}\}/;
const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The body's http(s) links in the order written, each once. A link with a placeholder in it
 * (`?ref={{email}}`) is a different URL for every recipient; its test accepts any of them, so the
 * report counts it as the one link it is. Without placeholders a link matches only itself.
 */
export function writtenLinks(body: string, format: CampaignFormat): WrittenLink[] {
  const hrefs: string[] = [];
  const parser = new Parser({
    onopentag(name, attributes) {
      const href = attributes.href?.trim();
      if (name === 'a' && href && /^https?:\/\//i.test(href) && !hrefs.includes(href)) hrefs.push(href);
    },
  });
  parser.write(campaignHtml(body, format));
  parser.end();
  return hrefs.map((url) => {
    if (!placeholder.test(url)) return { url, personal: false, matches: (clicked) => clicked === url };
    const pattern = new RegExp(`^${url.split(placeholder).map(escapeRegExp).join('.*?')}$`, 's');
    return { url, personal: true, matches: (clicked) => pattern.test(clicked) };
  });
}
