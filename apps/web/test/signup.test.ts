import request from 'supertest';
import { beforeEach, describe, expect, it } from 'vitest';
import { useWebHarness } from '../../../test/support/web.js';

const web = useWebHarness();

beforeEach(async () => {
  await web.queues.confirmations.obliterate({ force: true });
});

describe('GET /', () => {
  it('renders a labelled signup form that posts without JavaScript', async () => {
    const res = await request(web.app).get('/').expect(200);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    expect(res.text).toContain('<form method="post" action="/register"');
    expect(res.text).toMatch(/<label for="email">/);
    expect(res.text).toMatch(/<input id="email" name="email" type="email"/);
    expect(res.text).toMatch(/<label for="name">/);
  });
});

describe('POST /register with the form', () => {
  it('stores a pending subscriber with a consent record and queues a confirmation', async () => {
    const res = await request(web.app)
      .post('/register')
      .type('form')
      .send({ email: '  Ada@Example.COM ', name: 'Ada Lovelace' })
      .expect(200);
    expect(res.text).toContain('Check your inbox');

    const rows = await web.db.subscriber.findMany();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ email: 'ada@example.com', name: 'Ada Lovelace', status: 'pending', consentSource: 'form' });
    expect(rows[0]?.consentAt).toBeInstanceOf(Date);
    expect(rows[0]?.unsubscribeToken).toMatch(/^[0-9a-f]{64}$/);
    const jobs = await web.queues.confirmations.getJobs(['waiting', 'delayed', 'prioritized']);
    expect(jobs.map((job) => job.data)).toEqual([{ subscriberId: rows[0]?.id }]);
  });

  it('re-renders the form with the entered values and field messages, status 400, storing nothing', async () => {
    const res = await request(web.app)
      .post('/register')
      .type('form')
      .send({ email: 'not-an-address', name: '<b>Bob</b>' })
      .expect(400);
    expect(res.text).toContain('Enter a valid email address');
    expect(res.text).toContain('value="not-an-address"');
    expect(res.text).toContain('value="&lt;b&gt;Bob&lt;/b&gt;"');
    expect(await web.db.subscriber.count()).toBe(0);
  });

  it('answers a repeated signup exactly like the first and keeps one row', async () => {
    const first = await request(web.app).post('/register').type('form').send({ email: 'sam@example.com' });
    await web.db.subscriber.updateMany({ data: { status: 'active' } });
    const again = await request(web.app).post('/register').type('form').send({ email: 'SAM@example.com', name: 'Someone Else' });
    expect(again.status).toBe(first.status);
    expect(again.text).toBe(first.text);
    const rows = await web.db.subscriber.findMany();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ status: 'active', name: null });
  });

  it('refuses a body over 100 kB with 413', async () => {
    await request(web.app)
      .post('/register')
      .type('form')
      .send(`email=a%40example.com&name=${'x'.repeat(110_000)}`)
      .expect(413);
    expect(await web.db.subscriber.count()).toBe(0);
  });
});

describe('POST /register with JSON', () => {
  it('accepts {email, name} with 202', async () => {
    const res = await request(web.app).post('/register').send({ email: 'lin@example.com', name: 'Lin' }).expect(202);
    expect(res.body).toEqual({ status: 'received', message: expect.stringContaining('Check your inbox') });
    expect(await web.db.subscriber.findUnique({ where: { email: 'lin@example.com' } })).toMatchObject({
      name: 'Lin',
      status: 'pending',
      consentSource: 'api',
    });
  });

  it('answers invalid fields with 400 and a field map', async () => {
    const res = await request(web.app)
      .post('/register')
      .send({ email: `${'a'.repeat(250)}@example.com`, name: 'Bad\u0007Name' })
      .expect(400);
    expect(res.body.error.code).toBe('invalid_request');
    expect(res.body.error.fields).toEqual({ email: expect.any(String), name: expect.stringContaining('control') });
    expect(await web.db.subscriber.count()).toBe(0);
  });

  it('answers a missing email with 400', async () => {
    const res = await request(web.app).post('/register').send({ name: 'No Email' }).expect(400);
    expect(res.body.error.fields.email).toBeDefined();
  });

  it('answers a repeated signup exactly like the first and keeps one row', async () => {
    const first = await request(web.app).post('/register').send({ email: 'kim@example.com' });
    const again = await request(web.app).post('/register').send({ email: 'Kim@Example.com ' });
    expect(again.status).toBe(first.status);
    expect(again.body).toEqual(first.body);
    expect(await web.db.subscriber.count()).toBe(0 + 1);
  });

  it('records signups arriving together, each as if alone: one row per address, one confirmation each owed', async () => {
    await web.db.subscriber.createMany({
      data: [
        { email: 'member@example.com', status: 'active', name: 'Member' },
        { email: 'left@example.com', status: 'unsubscribed', unsubscribedAt: new Date() },
        { email: 'bounced@example.com', status: 'bounced' },
      ],
    });
    // The member is on the default list already: signing up again owes them nothing.
    await web.db.$executeRaw`
      INSERT INTO subscriptions (subscriber_id, list_id, status, consent_at, consent_source, confirmed_at)
      SELECT s.id, l.id, 'active', now(), 'form', now() FROM subscribers s, lists l
      WHERE s.email = 'member@example.com' AND l.is_default`;
    const emails = [
      ...Array.from({ length: 40 }, (_, i) => `crowd-${i}@example.com`),
      'twice@example.com',
      'TWICE@example.com',
      'member@example.com',
      'left@example.com',
      'bounced@example.com',
    ];
    const answers = await Promise.all(emails.map((email) => request(web.app).post('/register').send({ email, name: 'Crowd' })));
    expect(new Set(answers.map((answer) => `${answer.status} ${JSON.stringify(answer.body)}`)).size).toBe(1);
    expect(answers[0]?.status).toBe(202);

    const rows = await web.db.subscriber.findMany({ select: { id: true, email: true, status: true, name: true } });
    const byEmail = new Map(rows.map((row) => [row.email, row]));
    expect(rows).toHaveLength(40 + 1 + 3);
    expect(byEmail.get('member@example.com')).toMatchObject({ status: 'active', name: 'Member' });
    expect(byEmail.get('left@example.com')).toMatchObject({ status: 'pending' });
    expect(byEmail.get('bounced@example.com')).toMatchObject({ status: 'bounced' });
    const owed = rows.filter((row) => row.status === 'pending').map((row) => row.id);
    expect(owed).toHaveLength(40 + 1 + 1);
    const jobs = await web.queues.confirmations.getJobs(['waiting', 'delayed', 'prioritized']);
    expect(jobs.map((job) => (job.data as { subscriberId: string }).subscriberId).sort()).toEqual(owed.sort());
  });

  it('answers malformed JSON with 400, not 500', async () => {
    const res = await request(web.app)
      .post('/register')
      .set('Content-Type', 'application/json')
      .send('{"email": "x@example.com",')
      .expect(400);
    expect(res.body).toEqual({ error: { code: 'invalid_json', message: expect.any(String) } });
    expect(JSON.stringify(res.body)).not.toMatch(/at .*\.js/);
  });

  it('answers a body over 100 kB with 413', async () => {
    const res = await request(web.app)
      .post('/register')
      .send({ email: 'big@example.com', name: 'x'.repeat(110_000) })
      .expect(413);
    expect(res.body.error.code).toBe('payload_too_large');
    expect(await web.db.subscriber.count()).toBe(0);
  });

  it('answers an unsupported content type with 415', async () => {
    const res = await request(web.app)
      .post('/register')
      .set('Content-Type', 'text/plain')
      .send('email=x@example.com')
      .expect(415);
    expect(res.body.error.code).toBe('unsupported_media_type');
    expect(await web.db.subscriber.count()).toBe(0);
  });

  it('answers a JSON array or scalar with 400', async () => {
    await request(web.app).post('/register').set('Content-Type', 'application/json').send('"x@example.com"').expect(400);
    await request(web.app).post('/register').send([{ email: 'x@example.com' }]).expect(400);
    expect(await web.db.subscriber.count()).toBe(0);
  });
});
