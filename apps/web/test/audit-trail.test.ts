import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { composeAndConfirm, csrfFrom, loggedInAgent } from '../../../test/support/admin.js';
import { admin, campaignBody, postSend, seedAudience, seedSubscribers } from '../../../test/support/factories.js';
import { adminEmail, adminToken, useWebHarness } from '../../../test/support/web.js';

const web = useWebHarness();

async function entries() {
  const rows = await web.db.auditEntry.findMany({ orderBy: { id: 'asc' } });
  return rows.map(({ actor, action, targetType, targetId, targetLabel, address, details }) => ({ actor, action, targetType, targetId, targetLabel, address, details }));
}

describe('the audit log records', () => {
  it('what the API does to campaigns: started, scheduled, edited, paused, resumed, cancelled — by ADMIN_TOKEN, from its address', async () => {
    await seedAudience(web.db, 3);
    const sent = await postSend(web.app);
    expect(sent.status).toBe(202);
    const later = await postSend(web.app, { ...campaignBody, subject: 'Later', sendAt: new Date(Date.now() + 7 * 24 * 3600 * 1000).toISOString() });
    expect(later.status, JSON.stringify(later.body)).toBe(202);
    await admin(web.app).patch(`/campaigns/${later.body.campaignId}`).send({ subject: 'Later still' }).expect(200);
    await admin(web.app).post(`/campaigns/${sent.body.campaignId}/pause`).expect(200);
    await admin(web.app).post(`/campaigns/${sent.body.campaignId}/resume`).expect(200);
    await admin(web.app).post(`/campaigns/${later.body.campaignId}/cancel`).expect(200);
    // A refused action (409) changes nothing and records nothing.
    await admin(web.app).post(`/campaigns/${later.body.campaignId}/pause`).expect(409);

    const recorded = await entries();
    expect(recorded.map((entry) => [entry.action, entry.targetId, entry.targetLabel])).toEqual([
      ['campaign.started', sent.body.campaignId, campaignBody.subject],
      ['campaign.scheduled', later.body.campaignId, 'Later'],
      ['campaign.edited', later.body.campaignId, 'Later still'],
      ['campaign.paused', sent.body.campaignId, campaignBody.subject],
      ['campaign.resumed', sent.body.campaignId, campaignBody.subject],
      ['campaign.cancelled', later.body.campaignId, 'Later still'],
    ]);
    expect(new Set(recorded.map((entry) => entry.actor))).toEqual(new Set(['ADMIN_TOKEN']));
    expect(recorded.every((entry) => entry.address && entry.targetType === 'campaign')).toBe(true);
    expect(recorded[0]!.details).toEqual({ recipients: 3 });
    expect(recorded[2]!.details).toEqual({ fields: ['subject'] });
  });

  it('imports, exports, edits and erasures of subscribers; the erasure keeps the entries but not the address', async () => {
    const imported = await admin(web.app).post('/subscribers/import').set('Content-Type', 'text/csv').send('email,name\nada@example.com,Ada\nbob@example.com,Bob\n').expect(200);
    const ada = await web.db.subscriber.findUniqueOrThrow({ where: { email: 'ada@example.com' } });
    await admin(web.app).patch(`/subscribers/${ada.id}`).send({ name: 'Ada L.' }).expect(200);
    await admin(web.app).get(`/subscribers/${ada.id}/export`).expect(200);
    await admin(web.app).get('/subscribers/export').expect(200);
    await request(web.app).delete(`/subscribers/${ada.id}`).set('Authorization', `Bearer ${adminToken}`).expect(204);

    const recorded = await entries();
    expect(recorded.map((entry) => entry.action)).toEqual([
      'subscribers.imported',
      'subscriber.edited',
      'subscriber.exported',
      'subscribers.exported',
      'subscriber.erased',
    ]);
    expect(recorded[0]!.details).toMatchObject(Object.fromEntries(Object.entries(imported.body).filter(([, value]) => typeof value === 'number')));
    // Every entry about Ada is still there, none with her address.
    const aboutAda = recorded.filter((entry) => entry.targetId === ada.id);
    expect(aboutAda.map((entry) => entry.action)).toEqual(['subscriber.edited', 'subscriber.exported', 'subscriber.erased']);
    expect(aboutAda.every((entry) => entry.targetLabel === null)).toBe(true);
    expect(JSON.stringify(await entries())).not.toContain('ada@example.com');
  });

  it('what a user does on the pages, named by their email', async () => {
    await seedSubscribers(web.db, [{ email: 'cy@example.com' }]);
    const agent = await loggedInAgent(web.app);
    const campaignPage = await composeAndConfirm(agent, { subject: 'From the page', body: 'Hello', format: 'markdown' });
    const form = await agent.get('/admin/subscribers/new').expect(200);
    await agent.post('/admin/subscribers').type('form').send({ _csrf: csrfFrom(form.text), email: 'dee@example.com', name: 'Dee' }).expect(303);
    const cy = await web.db.subscriber.findUniqueOrThrow({ where: { email: 'cy@example.com' } });
    const erase = await agent.get(`/admin/subscribers/${cy.id}/erase`).expect(200);
    await agent.post(`/admin/subscribers/${cy.id}/erase`).type('form').send({ _csrf: csrfFrom(erase.text) }).expect(303);

    const recorded = (await entries()).filter((entry) => entry.action !== 'login.succeeded');
    expect(recorded.map((entry) => [entry.actor, entry.action])).toEqual([
      [adminEmail, 'campaign.created'],
      [adminEmail, 'campaign.started'],
      [adminEmail, 'subscriber.added'],
      [adminEmail, 'subscriber.erased'],
    ]);
    expect(recorded[1]!.targetId).toBe(campaignPage.split('/').at(-1));
    expect(recorded[2]!.targetLabel).toBe('dee@example.com');
    expect(recorded[3]!).toMatchObject({ targetId: cy.id, targetLabel: null });
  });

  it('a refused request as nothing', async () => {
    await request(web.app).post('/send').send(campaignBody).expect(401);
    expect(await entries()).toEqual([]);
  });
});
