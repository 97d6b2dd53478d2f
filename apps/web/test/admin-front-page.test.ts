import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { loggedInAgent } from '../../../test/support/admin.js';
import { useWebHarness } from '../../../test/support/web.js';

const web = useWebHarness();

/** `count` sent campaigns, the newest last, a minute apart. */
async function seedCampaigns(count: number) {
  const start = Date.now() - count * 60_000;
  for (let n = 0; n < count; n++) {
    await web.db.campaign.create({ data: { subject: `Issue ${n + 1}`, html: '<p>x</p>', status: 'sent', createdAt: new Date(start + n * 60_000) } });
  }
}

describe('the campaign list', () => {
  it('is served at /admin/campaigns behind the admin session, as at /admin', async () => {
    await request(web.app).get('/admin/campaigns').expect(303).expect('Location', '/admin/login');
    await seedCampaigns(1);
    const campaign = await web.db.campaign.findFirstOrThrow();
    const agent = await loggedInAgent(web.app);
    const list = await agent.get('/admin/campaigns').expect(200);
    expect(list.text).toContain('<h1>Campaigns</h1>');
    expect(list.text).toContain(`href="/admin/campaigns/${campaign.id}"`);
    // Every page's "Campaigns" link goes there; the front page still answers the same list.
    expect(list.text).toContain('<a href="/admin/campaigns">Campaigns</a>');
    const front = await agent.get('/admin').expect(200);
    expect(front.text).toContain(`href="/admin/campaigns/${campaign.id}"`);
  });

  it('pages to older campaigns under /admin/campaigns', async () => {
    await seedCampaigns(21);
    const agent = await loggedInAgent(web.app);
    const first = await agent.get('/admin/campaigns').expect(200);
    expect(first.text).toContain('>Issue 21<');
    expect(first.text).not.toContain('>Issue 1<');
    const older = /href="(\/admin\/campaigns\?before=[0-9a-f-]{36})"/.exec(first.text)?.[1];
    expect(older).toBeDefined();
    const second = await agent.get(older!).expect(200);
    expect(second.text).toContain('>Issue 1<');
    expect(second.text).not.toContain('>Issue 2<');
  });

  it('shows no hold notice while no mail is held', async () => {
    const agent = await loggedInAgent(web.app);
    for (const path of ['/admin', '/admin/campaigns']) {
      const page = await agent.get(path).expect(200);
      expect(page.text).not.toContain('data-mail-hold');
      expect(page.text).not.toContain('on hold');
      expect(page.text).not.toContain('role="alert"');
    }
  });

  it('shows held confirmations with SendGrid\'s answer as text, how often it refused, and what to do', async () => {
    await web.db.mailHold.create({ data: { kind: 'confirmations', reason: 'SendGrid 403: <b>access forbidden</b>', heldCount: 1 } });
    const agent = await loggedInAgent(web.app);
    const page = await agent.get('/admin').expect(200);
    const notice = page.text.slice(page.text.indexOf('data-mail-hold="confirmations"'), page.text.indexOf('</section>'));
    expect(notice).toContain('Confirmation emails are on hold');
    expect(notice).toContain('SendGrid 403: &lt;b&gt;access forbidden&lt;/b&gt;');
    expect(notice).toContain('1 time since then');
    // Nothing waits and the queue is not held back: no count to invent, no next try to promise.
    expect(notice).toMatch(/data-field="waiting">0</);
    expect(notice).not.toContain('next try');
    expect(notice).toContain('SENDGRID_API_KEY');
    expect(notice).toContain('tries again every five minutes');
  });
});

/** A campaign sent `daysAgo` with `sent` deliveries and these unique figures in its report aggregates. */
async function seedReportedCampaign(subject: string, daysAgo: number, sent: number, uniques: Record<string, number>) {
  const startedAt = new Date(Date.now() - daysAgo * 86_400_000);
  const campaign = await web.db.campaign.create({
    data: { subject, html: '<p>x</p>', status: 'sent', recipientCount: sent, startedAt, finishedAt: startedAt, createdAt: startedAt },
  });
  await web.db.$executeRaw`
    INSERT INTO deliveries (campaign_id, status, attempts, sent_at)
    SELECT ${campaign.id}::uuid, 'sent', 1, ${startedAt}::timestamp FROM generate_series(1, ${sent}::int)`;
  const hour = new Date(Math.floor(startedAt.getTime() / 3_600_000) * 3_600_000);
  for (const [kind, count] of Object.entries(uniques)) {
    await web.db.campaignEventHour.create({ data: { campaignId: campaign.id, kind, hour, events: count, uniques: count } });
  }
  return campaign;
}

describe('the front page reports', () => {
  it('compares the recent campaigns, clicks before opens, each linked to its report, with a chart', async () => {
    const october = await seedReportedCampaign('October issue', 20, 10, { delivered: 10, opened: 6, clicked: 2, unsubscribed: 1 });
    const november = await seedReportedCampaign('November for {{name}}', 3, 8, { delivered: 8, opened: 2, clicked: 4, bounced: 1 });
    await web.db.campaign.create({ data: { subject: 'Draft in progress', html: '<p>x</p>' } });
    const agent = await loggedInAgent(web.app);
    const page = (await agent.get('/admin').expect(200)).text;

    const section = page.slice(page.indexOf('id="recent-campaigns"'), page.indexOf('id="audience-growth"'));
    expect(section).toContain('<h2 id="recent-campaigns-title">Recent campaigns</h2>');
    expect(section).toMatch(/<caption[^>]*>The last 2 campaigns, newest first\./);
    // Clicks come before opens in the header, and every column header has its scope.
    const header = section.slice(section.indexOf('<thead>'), section.indexOf('</thead>'));
    expect(header.indexOf('Click rate')).toBeLessThan(header.indexOf('Open rate'));
    expect(header.match(/<th /g)!.length).toBe(header.match(/<th scope="col"/g)!.length);
    // Newest first, each a row header linking to its report; the draft sent nothing.
    const rows = [...section.matchAll(/<tr data-compared="([0-9a-f-]{36})">([\s\S]*?)<\/tr>/g)];
    expect(rows.map((row) => row[1])).toEqual([november.id, october.id]);
    expect(section).not.toContain('Draft in progress');
    const [newest, oldest] = rows.map((row) => row[2]!);
    expect(newest).toContain(`<th scope="row" class="subject">`);
    expect(newest).toContain(`href="/admin/campaigns/${november.id}/report"`);
    expect(newest).toContain('<mark class="placeholder"');
    expect(newest).toMatch(/data-label="Sent" data-field="sent">8</);
    expect(newest).toMatch(/data-label="Click rate" data-field="clicked">50\.0% <span class="cell-detail">4 clicked</);
    expect(newest).toMatch(/data-label="Open rate" data-field="opened">25\.0% <span class="cell-detail">2 opened</);
    expect(newest).toMatch(/data-label="Bounces" data-field="bounced">1</);
    expect(oldest).toMatch(/data-label="Click rate" data-field="clicked">20\.0% /);
    expect(oldest).toMatch(/data-label="Open rate" data-field="opened">60\.0% /);
    expect(oldest).toMatch(/data-label="Unsubscribes" data-field="unsubscribed">1</);
    // The chart is an image with its text alternative: every campaign's rates, oldest first.
    const label = /<svg class="timeline-chart"[^>]*role="img" aria-label="([^"]*)"/.exec(section)?.[1];
    expect(label).toBe('Unique click and open rates of the last 2 campaigns, oldest first. October issue: 20% clicked, 60% opened. November for ‹name›: 50% clicked, 25% opened.');
    expect(section.match(/<rect class="bar-clicked"/g)).toHaveLength(2);
    expect(section.match(/<rect class="bar-opened"/g)).toHaveLength(2);
  });

  it('shows the audience growth of the last 30 days, per day, with a chart', async () => {
    const today = new Date().toISOString().slice(0, 10);
    const twoDaysAgo = new Date(Date.now() - 2 * 86_400_000);
    await web.db.subscriber.create({ data: { email: 'new@example.com', status: 'pending' } });
    await web.db.subscriber.create({ data: { email: 'ok@example.com', status: 'active', createdAt: twoDaysAgo, confirmedAt: twoDaysAgo } });
    await web.db.subscriber.create({ data: { email: 'gone@example.com', status: 'bounced', createdAt: new Date('2020-01-01T00:00:00Z'), suppressedAt: new Date() } });
    await web.db.subscriber.create({ data: { email: 'old@example.com', status: 'active', createdAt: new Date('2020-01-01T00:00:00Z') } });
    const agent = await loggedInAgent(web.app);
    const page = (await agent.get('/admin').expect(200)).text;

    const section = page.slice(page.indexOf('id="audience-growth"'), page.indexOf('</section>', page.indexOf('id="audience-growth"')));
    expect(section).toContain('<h2 id="audience-growth-title">Audience growth</h2>');
    expect(section).toContain('The last 30 days (UTC).');
    expect(section).toMatch(/data-total="signups">2</);
    expect(section).toMatch(/data-total="confirmations">1</);
    expect(section).toMatch(/data-total="suppressions">1</);
    expect(section).toMatch(/data-total="net">0</);
    expect(section).toMatch(/<caption[^>]*>Audience growth per day, newest first<\/caption>/);
    const days = [...section.matchAll(/<tr data-day="(\d{4}-\d{2}-\d{2})">/g)].map((row) => row[1]);
    expect(days).toHaveLength(30);
    expect(days[0]).toBe(today);
    const todayRow = section.slice(section.indexOf(`data-day="${today}"`), section.indexOf('</tr>', section.indexOf(`data-day="${today}"`)));
    expect([...todayRow.matchAll(/<td class="num">([^<]*)<\/td>/g)].map((cell) => cell[1])).toEqual(['1', '0', '0', '1', '-1']);
    expect(section).toMatch(/role="img" aria-label="Subscribers joining and leaving per day over 30 days: 1 joined \(confirmed\), 1 left \(unsubscribed or suppressed\), net 0\."/);
  });

  it('says so when nothing has been sent, and leaves both sections off the older pages', async () => {
    const agent = await loggedInAgent(web.app);
    const empty = (await agent.get('/admin').expect(200)).text;
    expect(empty).toContain('No campaign has been sent yet');
    expect(empty).toContain('id="audience-growth"');
    await seedCampaigns(21);
    const first = (await agent.get('/admin/campaigns').expect(200)).text;
    const older = /href="(\/admin\/campaigns\?before=[0-9a-f-]{36})"/.exec(first)![1]!;
    const second = (await agent.get(older).expect(200)).text;
    expect(second).not.toContain('id="recent-campaigns"');
    expect(second).not.toContain('id="audience-growth"');
  });
});
