import { describe, expect, it } from 'vitest';
import { csrfFrom, loggedInAgent } from '../../../test/support/admin.js';
import { postSend, seedAudience, seedSubscribers } from '../../../test/support/factories.js';
import { useWebHarness } from '../../../test/support/web.js';
import { hashPassword } from '../src/team/passwords.js';
import type { Role } from '../src/team/roles.js';

const web = useWebHarness();
const password = 'a team member password';

async function memberAgent(role: Role) {
  await loggedInAgent(web.app); // makes the first owner
  const email = `${role}@example.com`;
  await web.db.user.create({ data: { email, role, passwordHash: await hashPassword(password) } });
  return loggedInAgent(web.app, email, password);
}

describe('the admin shows each role only what it may do', () => {
  it('a viewer reads campaigns, reports and subscribers, with no button that changes anything', async () => {
    await seedAudience(web.db, 2);
    const [person] = await seedSubscribers(web.db, [{ email: 'reader@example.com' }]);
    const sent = await postSend(web.app);
    const viewer = await memberAgent('viewer');

    const front = (await viewer.get('/admin').expect(200)).text;
    expect(front).toContain('viewer@example.com · viewer');
    for (const hidden of ['New campaign', 'Write a new campaign', '/admin/webhooks', '/admin/queues', '/admin/users', '/admin/audit']) expect(front).not.toContain(hidden);
    const campaign = (await viewer.get(`/admin/campaigns/${sent.body.campaignId}`).expect(200)).text;
    for (const hidden of ['Pause', 'Cancel campaign', 'Retry failed']) expect(campaign).not.toContain(hidden);
    const subscribers = (await viewer.get('/admin/subscribers').expect(200)).text;
    for (const hidden of ['Add one', 'Import CSV', 'Export CSV']) expect(subscribers).not.toContain(hidden);
    const subscriber = (await viewer.get(`/admin/subscribers/${person!.id}`).expect(200)).text;
    for (const hidden of ['Erase', 'Export their data', 'Save attributes', '>Unsubscribe<']) expect(subscriber).not.toContain(hidden);
    expect((await viewer.get('/admin/lists').expect(200)).text).not.toContain('New list');
    expect((await viewer.get('/admin/segments').expect(200)).text).not.toContain('New segment');

    // And the server refuses it anyway, inside the admin layout.
    const refused = await viewer.post(`/admin/campaigns/${sent.body.campaignId}/pause`).set('Accept', 'text/html').type('form').send({ _csrf: csrfFrom(campaign) }).expect(403);
    expect(refused.text).toContain('Not allowed for your role');
    await viewer.get(`/admin/subscribers/${person!.id}/erase`).expect(403);
    await viewer.get('/admin/queues').expect(403);
  });

  it('an editor writes and previews drafts and sends tests, but the review page has no send button and starting is refused', async () => {
    await seedAudience(web.db, 2);
    const editor = await memberAgent('editor');
    const front = (await editor.get('/admin').expect(200)).text;
    expect(front).toContain('New campaign');
    const form = await editor.get('/admin/campaigns/new').expect(200);
    const saved = await editor.post('/admin/campaigns').type('form').send({ _csrf: csrfFrom(form.text), intent: 'review', subject: 'By the editor', body: 'Hello', format: 'markdown' }).expect(303);
    const review = await editor.get(saved.headers.location!).expect(200);
    expect(review.text).toContain('an admin or owner sends them');
    expect(review.text).not.toContain('/start"');
    const id = saved.headers.location!.split('/')[3]!;
    expect((await editor.post(`/admin/campaigns/${id}/start`).type('form').send({ _csrf: csrfFrom(review.text) }).expect(403)).body.error.code).toBe('forbidden');
    expect((await web.db.campaign.findUniqueOrThrow({ where: { id } })).status).toBe('draft');
    // A scheduled campaign will go out as saved: the editor may not change it.
    const scheduled = await postSend(web.app, { subject: 'Scheduled', body: '<p>Hi</p>', sendAt: new Date(Date.now() + 7 * 86_400_000).toISOString() });
    expect(scheduled.body.status).toBe('scheduled');
    const changed = await editor
      .post(`/admin/campaigns/${scheduled.body.campaignId}/edit`)
      .type('form')
      .send({ _csrf: csrfFrom(form.text), intent: 'save', subject: 'Changed', body: 'Hi', format: 'markdown', sendAt: '2099-01-01T09:00' })
      .expect(403);
    expect(changed.body.error.code).toBe('forbidden');
    expect((await web.db.campaign.findUniqueOrThrow({ where: { id: scheduled.body.campaignId } })).subject).toBe('Scheduled');
  });

  it('a viewer opening a draft lands on its review page, not on an edit form it may not use', async () => {
    const owner = await loggedInAgent(web.app);
    const form = await owner.get('/admin/campaigns/new').expect(200);
    const saved = await owner.post('/admin/campaigns').type('form').send({ _csrf: csrfFrom(form.text), intent: 'save', subject: 'A draft', body: 'Hello', format: 'markdown' }).expect(303);
    const id = saved.headers.location!.split('/')[3]!;
    const viewer = await memberAgent('viewer');
    await viewer.get(`/admin/campaigns/${id}`).expect(303).expect('Location', `/admin/campaigns/${id}/review`);
    const review = await viewer.get(`/admin/campaigns/${id}/review`).expect(200);
    expect(review.text).not.toContain('Back to editing');
  });
});
