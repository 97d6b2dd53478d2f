import { Marked } from 'marked';
import type { CampaignFormat } from '../generated/prisma/enums.js';

// Its own instance, so no other module's marked.use() can change how campaigns render.
// GitHub-flavoured Markdown (tables, autolinks, strikethrough); single line breaks stay spaces.
const markdown = new Marked({ gfm: true, breaks: false, async: false });

// marked percent-encodes link and image URLs, which turns `[x]({{unsubscribe_url}})` into
// `%7B%7Bunsubscribe_url%7D%7D`. Only the three known placeholders are turned back, so the same
// per-recipient substitution as for HTML (with escaping) fills them in.
const encodedPlaceholder = /%7B%7B(name|email|unsubscribe_url)%7D%7D/gi;

/**
 * A campaign body as HTML: as written when it is HTML, rendered when it is Markdown. Markdown is
 * trusted as much as the HTML an admin may write (inline HTML passes through); the placeholders
 * stay placeholders, filled in per recipient by the same escaping substitution as HTML bodies.
 */
export function campaignHtml(body: string, format: CampaignFormat): string {
  if (format === 'html') return body;
  const html = markdown.parse(body) as string;
  return html.replace(encodedPlaceholder, (_match, key: string) => `{{${key}}}`);
}
