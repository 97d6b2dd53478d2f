import { convert } from 'html-to-text';

/** Inbox lists show about this much of the preview line; more is wasted bytes. */
const maxPreheaderLength = 140;

/** Only running text: headings, images and link targets would make a poor preview line. */
const readingText = {
  wordwrap: false as const,
  baseElements: { selectors: ['p', 'li', 'blockquote'] },
  selectors: [
    { selector: 'a', options: { ignoreHref: true } },
    { selector: 'img', format: 'skip' },
  ],
};

/**
 * The preview line of an email when the writer gave none: the first sentence of the body's running
 * text, so the inbox shows the opening rather than the header's name or "View in browser".
 */
export function defaultPreheader(html: string): string {
  const flat = (convert(html, readingText) || convert(html, { wordwrap: false })).replace(/\s+/g, ' ').trim();
  const sentence = /^.*?[.!?](?=\s|$)/.exec(flat)?.[0] ?? flat;
  return sentence.length <= maxPreheaderLength ? sentence : `${sentence.slice(0, maxPreheaderLength - 1).trimEnd()}…`;
}
