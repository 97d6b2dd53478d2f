import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebHarness } from '../../../test/support/web.js';
import type { WebHarness } from '../../../test/support/web.js';

let web: WebHarness;

beforeAll(async () => {
  web = await createWebHarness({ DOUBLE_OPT_IN: 'false' });
});
afterAll(async () => {
  await web.close();
});

describe('signup without double opt-in', () => {
  it('makes new subscribers active at once and sends no confirmation', async () => {
    const res = await request(web.app).post('/register').send({ email: 'now@example.com' }).expect(202);
    expect(res.body.message).toBe('Thanks! You are subscribed.');
    const row = await web.db.subscriber.findUnique({ where: { email: 'now@example.com' } });
    expect(row).toMatchObject({ status: 'active' });
    expect(row?.confirmedAt).toBeInstanceOf(Date);
    expect(await web.queues.confirmations.count()).toBe(0);
  });

  it('re-activates someone who unsubscribed and signs up again', async () => {
    await web.db.subscriber.create({ data: { email: 'back@example.com', status: 'unsubscribed', unsubscribedAt: new Date() } });
    await request(web.app).post('/register').send({ email: 'back@example.com' }).expect(202);
    expect(await web.db.subscriber.findUnique({ where: { email: 'back@example.com' } })).toMatchObject({ status: 'active' });
  });

  it('never resurrects a bounced or complained address', async () => {
    await web.db.subscriber.create({ data: { email: 'gone@example.com', status: 'bounced' } });
    await web.db.subscriber.create({ data: { email: 'angry@example.com', status: 'complained' } });
    await request(web.app).post('/register').send({ email: 'gone@example.com' }).expect(202);
    await request(web.app).post('/register').send({ email: 'angry@example.com' }).expect(202);
    const rows = await web.db.subscriber.findMany({ orderBy: { email: 'asc' } });
    expect(rows.map((row) => [row.email, row.status])).toEqual([
      ['angry@example.com', 'complained'],
      ['back@example.com', 'active'],
      ['gone@example.com', 'bounced'],
      ['now@example.com', 'active'],
    ]);
  });
});
