import { describe, expect, it } from 'vitest';
import { loggedInAgent } from '../../../test/support/admin.js';
import { useWebHarness } from '../../../test/support/web.js';
import { bootstrapTokenActor } from '../src/team/actor.js';
import { forgetAuditedSubscriber, recordAudit } from '../src/team/audit.js';
import { hashPassword } from '../src/team/passwords.js';

const web = useWebHarness();

describe('the audit log page', () => {
  it('lists entries newest first, links what still exists, and filters by action', async () => {
    const agent = await loggedInAgent(web.app);
    const campaign = await web.db.campaign.create({ data: { subject: 'December news', html: '<p>Hi</p>' } });
    const subscriber = await web.db.subscriber.create({ data: { email: 'ada@example.org' } });
    const goneSubscriber = '33333333-3333-4333-8333-333333333333';
    const actor = bootstrapTokenActor;
    await recordAudit(web.db, { actor, action: 'campaign.created', target: { type: 'campaign', id: campaign.id, label: 'December news' }, address: '203.0.113.9' });
    await recordAudit(web.db, { actor, action: 'subscriber.added', target: { type: 'subscriber', id: subscriber.id, label: subscriber.email }, address: '203.0.113.9' });
    await recordAudit(web.db, { actor, action: 'subscriber.erased', target: { type: 'subscriber', id: goneSubscriber, label: 'gone@example.org' } });
    await forgetAuditedSubscriber(web.db, goneSubscriber);

    const page = await agent.get('/admin/audit').expect(200);
    expect(page.text).toContain(`<a href="/admin/subscribers/${subscriber.id}">ada@example.org</a>`);
    expect(page.text).toContain(`<a href="/admin/campaigns/${campaign.id}">December news</a>`);
    expect(page.text).toContain('erased subscriber');
    expect(page.text).not.toContain(`/admin/subscribers/${goneSubscriber}`);
    expect(page.text.indexOf('subscriber.erased</code>')).toBeLessThan(page.text.indexOf('subscriber.added</code>'));
    // The first owner's login is an entry too.
    expect(page.text).toContain('login.succeeded');

    const filtered = await agent.get('/admin/audit?action=subscriber.added&actor=&from=').expect(200);
    expect(filtered.text).toContain('subscriber.added</code>');
    expect(filtered.text).not.toContain('subscriber.erased</code>');
  });

  it('pages with an Older link that keeps the filters', async () => {
    const agent = await loggedInAgent(web.app);
    for (let i = 0; i < 55; i++) await recordAudit(web.db, { actor: bootstrapTokenActor, action: 'subscriber.edited' });
    const first = await agent.get('/admin/audit?action=subscriber.edited').expect(200);
    const older = /href="(\/admin\/audit\?action=subscriber.edited&amp;cursor=[^"]+)">Older entries/.exec(first.text)?.[1];
    expect(older).toBeDefined();
    const second = await agent.get(older!.replace(/&amp;/g, '&')).expect(200);
    expect(second.text.match(/subscriber\.edited<\/code>/g)).toHaveLength(5);
    expect(second.text).not.toContain('Older entries');
  });

  it('shows what is wrong with a filter, and is refused to editors and viewers', async () => {
    const agent = await loggedInAgent(web.app);
    const bad = await agent.get('/admin/audit?action=nope&from=yesterday').expect(422);
    expect(bad.text).toContain('id="filter-error"');
    await agent.get('/admin/audit?cursor=garbage').expect(422);
    for (const role of ['editor', 'viewer'] as const) {
      await web.db.user.create({ data: { email: `${role}@example.com`, role, passwordHash: await hashPassword('a long enough password') } });
      const other = await loggedInAgent(web.app, `${role}@example.com`, 'a long enough password');
      await other.get('/admin/audit').expect(403);
      expect((await other.get('/admin/account').expect(200)).text).not.toContain('href="/admin/audit"');
    }
  });
});
