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
