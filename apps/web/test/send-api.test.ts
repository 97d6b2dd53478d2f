import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { admin, campaignBody, postSend, seedSubscribers } from '../../../test/support/factories.js';
import { adminToken, metricsToken, useWebHarness } from '../../../test/support/web.js';

const web = useWebHarness();

describe('POST /send refuses', () => {
  it('a missing or wrong bearer token with 401', async () => {
    const missing = await request(web.app).post('/send').send(campaignBody).expect(401);
    expect(missing.body.error.code).toBe('unauthorized');
    await request(web.app).post('/send').set('Authorization', 'Bearer nope').send(campaignBody).expect(401);
    await request(web.app).post('/send').set('Authorization', 'Basic abc').send(campaignBody).expect(401);
    expect(await web.db.campaign.count()).toBe(0);
  });

  it.each([
    ['a subject with a line break', { ...campaignBody, subject: 'Hi\r\nBcc: victim@example.com' }, 'subject'],
    ['an empty subject', { ...campaignBody, subject: '' }, 'subject'],
    ['a subject over 200 characters', { ...campaignBody, subject: 'x'.repeat(201) }, 'subject'],
    ['an empty body', { ...campaignBody, body: '' }, 'body'],
    ['a body over 1 MB', { ...campaignBody, body: 'é'.repeat(500_001) }, 'body'],
    ['a sendAt in the past', { ...campaignBody, sendAt: '2020-01-01T00:00:00Z' }, 'sendAt'],
    ['a sendAt without a time zone', { ...campaignBody, sendAt: '2099-01-01T00:00:00' }, 'sendAt'],
    ['an unknown field', { ...campaignBody, html: '<p>' }, 'html'],
    ['a non-string text', { ...campaignBody, text: 42 }, 'text'],
    ['an unknown format', { ...campaignBody, format: 'docx' }, 'format'],
    ['a non-boolean inArchive', { ...campaignBody, inArchive: 'no' }, 'inArchive'],
  ])('%s with 400 naming the field, creating nothing', async (_name, body, field) => {
    const res = await postSend(web.app, body).expect(400);
    expect(res.body.error.code).toBe('invalid_request');
    expect(Object.keys(res.body.error.fields)).toContain(field);
    expect(await web.db.campaign.count()).toBe(0);
  });

  it('a body that is not JSON with 415, and malformed JSON with 400', async () => {
    await request(web.app).post('/send').set('Authorization', `Bearer ${adminToken}`).type('form').send('subject=x').expect(415);
    const res = await postSend(web.app).set('Content-Type', 'application/json').send('{"subject":');
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_json');
  });

  it('an Idempotency-Key that is not printable ASCII', async () => {
    const res = await postSend(web.app, campaignBody, { 'Idempotency-Key': 'x'.repeat(300) }).expect(400);
    expect(res.body.error.code).toBe('invalid_idempotency_key');
  });
});

describe('status API', () => {
  it('answers 404 for unknown or malformed task and campaign ids', async () => {
    await admin(web.app).get('/tasks/00000000-0000-4000-8000-000000000000').expect(404);
    await admin(web.app).get('/tasks/not-a-uuid').expect(404);
    await admin(web.app).get('/campaigns/not-a-uuid').expect(404);
    await admin(web.app).post('/campaigns/00000000-0000-4000-8000-000000000000/pause').expect(404);
    await admin(web.app).post('/campaigns/00000000-0000-4000-8000-000000000000/explode').expect(404);
  });

  it('lists campaigns newest first, a page at a time', async () => {
    await seedSubscribers(web.db, [{ email: 'a@example.com' }]);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await postSend(web.app, { ...campaignBody, subject: `Issue ${i}` }).expect(202)).body.campaignId);
    const first = await admin(web.app).get('/campaigns?limit=2').expect(200);
    expect(first.body.campaigns.map((c: { id: string }) => c.id)).toEqual([ids[2], ids[1]]);
    const second = await admin(web.app).get(`/campaigns?limit=2&cursor=${first.body.nextCursor}`).expect(200);
    expect(second.body.campaigns.map((c: { id: string }) => c.id)).toEqual([ids[0]]);
    expect(second.body.nextCursor).toBeNull();
    await admin(web.app).get('/campaigns?limit=0').expect(400);
  });

  it('pages through a campaign\'s tasks and filters them by status', async () => {
    await seedSubscribers(web.db, ['a', 'b', 'c', 'd', 'e'].map((n) => ({ email: `${n}@example.com` })));
    const sent = await postSend(web.app).expect(202);
    const id = sent.body.campaignId as string;
    const seen: string[] = [];
    let cursor = '';
    for (;;) {
      const page = await admin(web.app).get(`/campaigns/${id}/tasks?limit=2${cursor ? `&cursor=${cursor}` : ''}`).expect(200);
      seen.push(...page.body.tasks.map((t: { id: string }) => t.id));
      if (!page.body.nextCursor) break;
      cursor = page.body.nextCursor;
    }
    expect(seen.sort()).toEqual([...sent.body.tasks].sort());
    const queued = await admin(web.app).get(`/campaigns/${id}/tasks?status=queued`).expect(200);
    expect(queued.body.tasks).toHaveLength(5);
    expect((await admin(web.app).get(`/campaigns/${id}/tasks?status=sent`).expect(200)).body.tasks).toHaveLength(0);
    await admin(web.app).get(`/campaigns/${id}/tasks?status=bogus`).expect(400);
  });

  it('refuses an action that does not fit the campaign state with 409', async () => {
    await seedSubscribers(web.db, [{ email: 'a@example.com' }]);
    const { body } = await postSend(web.app).expect(202);
    await admin(web.app).post(`/campaigns/${body.campaignId}/resume`).expect(409);
    await admin(web.app).post(`/campaigns/${body.campaignId}/cancel`).expect(200);
    const again = await admin(web.app).post(`/campaigns/${body.campaignId}/pause`).expect(409);
    expect(again.body.error.message).toMatch(/cancelled/);
  });
});

describe('GET /metrics', () => {
  it('reports HTTP requests by route pattern and queue job counts in Prometheus format', async () => {
    await seedSubscribers(web.db, [{ email: 'a@example.com' }]);
    const { body } = await postSend(web.app).expect(202);
    await admin(web.app).get(`/tasks/${body.tasks[0]}`).expect(200);
    const res = await request(web.app).get('/metrics').set('Authorization', `Bearer ${metricsToken}`).expect(200);
    expect(res.headers['content-type']).toMatch(/text\/plain/);
    expect(res.text).toContain('herald_http_requests_total{method="GET",route="/tasks/:id",status="200"} 1');
    expect(res.text).toMatch(/herald_queue_jobs\{queue="campaigns",state="waiting"\} [1-9]/);
    expect(res.text).toContain('process_cpu_seconds_total');
  });
});
