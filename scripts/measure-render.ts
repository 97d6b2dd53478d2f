/**
 * What rendering costs per recipient, and what laying a campaign out costs once per campaign per
 * worker. Prints microseconds per recipient for the designed email (layout applied once, then only the
 * placeholder substitution per recipient) against the bare substitution of the same body with no layout,
 * measured in the same run, alternating, so the ratio is fair on a busy machine.
 *
 *   npm run measure:render -- [recipients=20000] [rounds=5]
 */
import { loadEmailLayout, prepareCampaignContent, renderCampaignEmail, textTemplateOf } from '@herald/shared';
import type { CampaignContent } from '@herald/shared';

const recipients = Number(process.argv[2] ?? 20_000);
const rounds = Number(process.argv[3] ?? 5);

const paragraph =
  '<p>Hello {{name}}, this week we shipped <a href="https://example.com/a">a new feature</a> and fixed <strong>many</strong> bugs. Read on for the details.</p>';
const body = `<h1>Issue 42</h1>${paragraph.repeat(40)}<ul><li>One</li><li>Two</li></ul><blockquote>Quote</blockquote><img src="https://example.com/x.png" alt="x">`;
const source = { subject: 'Issue 42 for {{name}}', html: body, text: null };
const links = { unsubscribeUrl: 'https://news.example/unsubscribe/abcdef', postalAddress: '1 Main St' };
const layout = loadEmailLayout({ newsletterName: 'The Weekly', brandColor: '#3056d3', lang: 'en', postalAddress: links.postalAddress });

function perRecipientMicros(content: CampaignContent): number {
  const started = process.hrtime.bigint();
  for (let i = 0; i < recipients; i++) renderCampaignEmail(content, { email: `reader-${i}@example.com`, name: `Reader ${i}` }, links);
  return Number(process.hrtime.bigint() - started) / recipients / 1_000;
}

const bare: CampaignContent = { subject: source.subject, html: body, text: textTemplateOf(body, null) };
const prepareTimes: number[] = [];
let designed = prepareCampaignContent(source, layout);
const results: { bare: number; designed: number }[] = [];
for (let round = 0; round < rounds; round++) {
  const started = process.hrtime.bigint();
  designed = prepareCampaignContent(source, layout);
  prepareTimes.push(Number(process.hrtime.bigint() - started) / 1e6);
  results.push({ bare: perRecipientMicros(bare), designed: perRecipientMicros(designed) });
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const bareMedian = median(results.map((r) => r.bare));
const designedMedian = median(results.map((r) => r.designed));
console.log(
  JSON.stringify(
    {
      recipients,
      rounds,
      bodyBytes: Buffer.byteLength(body),
      designedHtmlBytes: Buffer.byteLength(designed.html),
      prepareOncePerCampaignMs: Number(median(prepareTimes).toFixed(1)),
      perRecipientMicros: { bareBody: Number(bareMedian.toFixed(1)), designed: Number(designedMedian.toFixed(1)) },
      ratioDesignedToBare: Number((designedMedian / bareMedian).toFixed(2)),
    },
    null,
    2,
  ),
);
