/**
 * A campaign's report in `docker compose up`, filled only by what the mail sink reports: it posts
 * `delivered`, `open` and `click` events (at the rates docker-compose.yml gives it, on the links of
 * each message) to the web's webhook, signed with the stack's own key pair, and the workers apply
 * them. Checks the timeline, the per-link clicks and the people behind the figures, as the
 * campaign page shows them.
 */
import { admin, check, json, waitFor, webUrl } from './journey.js';

/** Two links in the body, so per-link clicks have something to tell apart. */
export const reportLinks = ['https://example.com/smoke/first', 'https://example.com/smoke/second'];
export const reportBody = `<p>Hello {{name}}!</p><p><a href="${reportLinks[0]}">First</a> or <a href="${reportLinks[1]}">second</a>.</p>`;

type Totals = { delivered: number; uniqueOpened: number; clicked: number; uniqueClicked: number };
type Report = {
  totals: Totals;
  timeline: ({ at: string; size: string } & Totals)[];
  links: { url: string; kind: string; clicks: number; uniqueClicks: number }[];
};
type Page = { recipients: { email: string | null; at: string }[]; nextCursor: string | null };

const report = async (campaignId: string) =>
  json<Report>(await fetch(`${webUrl}/campaigns/${campaignId}/report`, admin()), 200, 'GET report');

/** Every recipient behind one figure, following `nextCursor` page by page. */
async function everyRecipient(campaignId: string, query: string): Promise<string[]> {
  const emails: string[] = [];
  let cursor: string | null = '';
  while (cursor !== null) {
    const after: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
    const page: Page = await json<Page>(await fetch(`${webUrl}/campaigns/${campaignId}/recipients?${query}&limit=50${after}`, admin()), 200, `GET recipients?${query}`);
    emails.push(...page.recipients.map((recipient) => recipient.email ?? ''));
    cursor = page.nextCursor;
  }
  return emails;
}

/**
 * Waits for `recipients` deliveries and the opens and clicks the sink posts about them, then checks
 * that the report's figures agree with each other and with the people listed behind them.
 */
export async function reportJourney(campaignId: string, recipients: number): Promise<void> {
  // The sink posts opens and clicks a little after each delivery, clicks spread over every link of
  // the message (the footer's too). At 40% and 10% of 300 readers some opens and some clicks on the
  // body's links arrive: the chance of none on either is below one in a million.
  const filled = await waitFor(
    `campaign ${campaignId}'s report to count every delivery, opens and a click on a link of the body`,
    async () => {
      const current = await report(campaignId);
      const clicked = current.links.some((link) => reportLinks.includes(link.url) && link.clicks > 0);
      return current.totals.delivered === recipients && current.totals.uniqueOpened > 0 && clicked && current;
    },
    120_000,
  );
  // The figures settle once the sink's delayed events are in; read again until two reads agree.
  const settled = await waitFor('the report to settle', async () => {
    const before = JSON.stringify((await report(campaignId)).totals);
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const again = await report(campaignId);
    return JSON.stringify(again.totals) === before && again;
  });
  check(filled.totals.delivered === settled.totals.delivered, 'deliveries are counted once');

  const timelineDelivered = settled.timeline.reduce((sum, bucket) => sum + bucket.delivered, 0);
  check(settled.timeline.length > 0 && settled.timeline.every((bucket) => bucket.size === 'hour'), `an hourly timeline (${JSON.stringify(settled.timeline)})`);
  check(timelineDelivered === recipients, `the timeline's deliveries add up to ${recipients} (${timelineDelivered})`);

  const opened = await everyRecipient(campaignId, 'event=opened');
  check(opened.length === settled.totals.uniqueOpened, `the openers listed (${opened.length}) are the unique opens (${settled.totals.uniqueOpened})`);
  check(new Set(opened).size === opened.length, 'nobody is listed twice among the openers');

  for (const url of reportLinks) {
    // A link nobody clicked is not in the report; its list of clickers is then empty.
    const link = settled.links.find((candidate) => candidate.url === url) ?? { kind: 'link', uniqueClicks: 0 };
    check(link.kind === 'link', `${url} is counted as a link of the body (${link.kind})`);
    const clickers = await everyRecipient(campaignId, `event=clicked&url=${encodeURIComponent(url)}`);
    check(clickers.length === link.uniqueClicks, `the people who clicked ${url} (${clickers.length}) are its unique clicks (${link.uniqueClicks})`);
  }

  const csv = await fetch(`${webUrl}/campaigns/${campaignId}/recipients?event=clicked&format=csv`, admin());
  check(csv.status === 200 && (csv.headers.get('content-type') ?? '').startsWith('text/csv'), `the clickers as CSV (${csv.status})`);
  const rows = (await csv.text()).trim().split('\n').length - 1;
  check(rows === settled.totals.uniqueClicked, `the CSV holds every clicker (${rows} rows, ${settled.totals.uniqueClicked} unique clicks)`);
}
