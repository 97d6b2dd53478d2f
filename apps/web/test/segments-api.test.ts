import request from 'supertest';
import { beforeEach, describe, expect, it } from 'vitest';
import { admin } from '../../../test/support/factories.js';
import { useWebHarness } from '../../../test/support/web.js';

const web = useWebHarness();

const pro = { attribute: 'plan', op: 'eq', value: 'pro' };

beforeEach(async () => {
  await web.db.$executeRaw`DELETE FROM segments`;
  await web.db.$executeRaw`DELETE FROM lists WHERE NOT is_default`;
  // 25 active subscribers, every fifth on the pro plan; a pending and a bounced pro who never count.
  await web.db.$executeRaw`
    INSERT INTO subscribers (email, name, status, attributes, confirmed_at)
    SELECT 'reader-' || n || '@example.com', 'Reader ' || n, 'active',
           jsonb_build_object('plan', CASE WHEN n % 5 = 0 THEN 'pro' ELSE 'free' END, 'seats', n), now()
    FROM generate_series(0, 24) AS n`;
  await web.db.$executeRaw`
    INSERT INTO subscribers (email, status, attributes) VALUES
      ('pending@example.com', 'pending', '{"plan": "pro"}'), ('bounced@example.com', 'bounced', '{"plan": "pro"}')`;
});

const createSegment = (body: unknown) => admin(web.app).post('/segments').send(body as object);

describe('saved segments', () => {
  it('creates, reads, changes and deletes a segment', async () => {
    const created = await createSegment({ name: 'Pro plan', rules: pro }).expect(201);
    expect(created.body).toMatchObject({ id: expect.any(String), name: 'Pro plan', rules: pro });
    const id = created.body.id as string;
    expect((await admin(web.app).get(`/segments/${id}`).expect(200)).body).toMatchObject({ name: 'Pro plan', rules: pro });

    const renamed = await admin(web.app).patch(`/segments/${id}`).send({ name: '  Paying  ' }).expect(200);
    expect(renamed.body).toMatchObject({ name: 'Paying', rules: pro });
    const narrowed = { all: [pro, { attribute: 'seats', op: 'gt', value: 10 }] };
    const changed = await admin(web.app).patch(`/segments/${id}`).send({ rules: narrowed }).expect(200);
    expect(changed.body).toMatchObject({ name: 'Paying', rules: narrowed });

    await request(web.app).delete(`/segments/${id}`).set('Authorization', `Bearer ${web.config.adminToken}`).expect(204);
    await admin(web.app).get(`/segments/${id}`).expect(404);
    await request(web.app).delete(`/segments/${id}`).set('Authorization', `Bearer ${web.config.adminToken}`).expect(404);
  });

  it('counts the active subscribers a saved segment selects, with its rules as they are now', async () => {
    const { body } = await createSegment({ name: 'Pro plan', rules: pro }).expect(201);
    expect((await admin(web.app).get(`/segments/${body.id}/count`).expect(200)).body).toEqual({ count: 5 });
    await admin(web.app).patch(`/segments/${body.id}`).send({ rules: { not: pro } }).expect(200);
    expect((await admin(web.app).get(`/segments/${body.id}/count`).expect(200)).body).toEqual({ count: 20 });
  });

  it('pages the list with a cursor until every segment was seen once', async () => {
    for (let n = 0; n < 5; n++) await createSegment({ name: `Segment ${n}`, rules: { attribute: 'seats', op: 'gt', value: n } }).expect(201);
    const seen: string[] = [];
    let cursor = '';
    for (let pages = 0; pages < 10; pages++) {
      const res = await admin(web.app).get(`/segments?limit=2${cursor ? `&cursor=${cursor}` : ''}`).expect(200);
      expect(res.body.segments.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.segments.map((segment: { name: string }) => segment.name));
      if (!res.body.nextCursor) break;
      cursor = res.body.nextCursor;
    }
    expect(seen.sort()).toEqual(['Segment 0', 'Segment 1', 'Segment 2', 'Segment 3', 'Segment 4']);
  });

  it('refuses a second segment with the same name', async () => {
    await createSegment({ name: 'Pro plan', rules: pro }).expect(201);
    const res = await createSegment({ name: 'Pro plan', rules: { not: pro } }).expect(422);
    expect(res.body.error.fields).toEqual({ name: 'another segment already has this name' });
    const other = await createSegment({ name: 'Other', rules: pro }).expect(201);
    const renamed = await admin(web.app).patch(`/segments/${other.body.id}`).send({ name: 'Pro plan' }).expect(422);
    expect(renamed.body.error.fields).toEqual({ name: 'another segment already has this name' });
    expect(await web.db.segment.count()).toBe(2);
  });

  it('refuses to delete a segment a campaign was sent to', async () => {
    const { body } = await createSegment({ name: 'Pro plan', rules: pro }).expect(201);
    await web.db.campaign.create({ data: { subject: 'Hi', html: '<p>Hi</p>', segmentId: body.id } });
    const res = await request(web.app).delete(`/segments/${body.id}`).set('Authorization', `Bearer ${web.config.adminToken}`).expect(409);
    expect(res.body.error.code).toBe('invalid_state');
    expect(await web.db.segment.count()).toBe(1);
  });

  it('resolves lists by slug and refuses an unknown one with 422', async () => {
    await web.db.$executeRaw`INSERT INTO lists (name, slug) VALUES ('Weekly', 'weekly')`;
    await createSegment({ name: 'Weekly', rules: { list: 'weekly' } }).expect(201);
    const res = await createSegment({ name: 'Monthly', rules: { any: [pro, { list: 'monthly' }] } }).expect(422);
    expect(res.body.error).toMatchObject({ code: 'invalid_request', fields: { 'rules.any.1.list': 'no list with the id or slug "monthly"' } });
    expect(await web.db.segment.count()).toBe(1);
  });

  it('answers 404 for unknown and malformed ids, and 401 without the token', async () => {
    await admin(web.app).get('/segments/0196f9a0-0000-7000-8000-000000000000').expect(404);
    await admin(web.app).get('/segments/nope/count').expect(404);
    await admin(web.app).patch('/segments/0196f9a0-0000-7000-8000-000000000000').send({ name: 'x' }).expect(404);
    await request(web.app).get('/segments').expect(401);
    await request(web.app).post('/segments/preview').send({ rules: pro }).expect(401);
  });
});

describe('POST /segments/preview', () => {
  it('answers the count and up to ten of the subscribers, without saving anything', async () => {
    const res = await admin(web.app).post('/segments/preview').send({ rules: { not: pro } }).expect(200);
    expect(res.body.count).toBe(20);
    expect(res.body.sample).toHaveLength(10);
    expect(Object.keys(res.body.sample[0]).sort()).toEqual(['attributes', 'email', 'id', 'name']);
    expect(res.body.sample.every((row: { attributes: { plan: string } }) => row.attributes.plan === 'free')).toBe(true);
    const few = await admin(web.app).post('/segments/preview').send({ rules: pro }).expect(200);
    expect(few.body.count).toBe(5);
    expect(few.body.sample.map((row: { email: string }) => row.email).sort()).toEqual(
      ['reader-0@example.com', 'reader-10@example.com', 'reader-15@example.com', 'reader-20@example.com', 'reader-5@example.com'],
    );
    expect(await web.db.segment.count()).toBe(0);
  });
});

describe('hostile rules', () => {
  const deep = (depth: number): unknown => (depth === 0 ? pro : { all: [deep(depth - 1)] });

  it.each([
    ['an unknown operator', { attribute: 'plan', op: 'regex', value: '.*' }, 'rules.op'],
    ['raw SQL as a rule', { sql: "1=1; DROP TABLE subscribers" }, 'rules'],
    ['a wrong value type', { attribute: 'seats', op: 'gt', value: { $gt: 1 } }, 'rules.value'],
    ['nesting too deep', deep(12), 'rules.all.0.all.0.all.0.all.0.all.0.all.0.all.0.all.0'],
    ['a huge in list', { attribute: 'plan', op: 'in', value: Array.from({ length: 5000 }, (_, n) => n) }, 'rules.value'],
    ['a key with quotes and SQL', { attribute: `plan"') OR 1=1 --`, op: 'exists' }, 'rules.attribute'],
    ['a NUL in a value', { attribute: 'plan', op: 'eq', value: 'pro\u0000' }, 'rules.value'],
    ['a lone surrogate in a key', { attribute: 'plan\udc00', op: 'exists' }, 'rules.attribute'],
    ['an engagement campaign that is not an id', { engagement: 'clicked', campaign: "x' OR '1'='1" }, 'rules.campaign'],
  ])('refuses %s with 422 naming the field, writing nothing', async (_name, rules, field) => {
    for (const [method, path, body] of [
      ['post', '/segments', { name: 'Hostile', rules }],
      ['post', '/segments/preview', { rules }],
    ] as const) {
      const res = await admin(web.app)[method](path).send(body).expect(422);
      expect(res.body.error.code).toBe('invalid_request');
      expect(Object.keys(res.body.error.fields)).toEqual([field]);
    }
    const { body } = await createSegment({ name: 'Kept', rules: pro }).expect(201);
    const patched = await admin(web.app).patch(`/segments/${body.id}`).send({ rules }).expect(422);
    expect(Object.keys(patched.body.error.fields)).toEqual([field]);
    expect((await web.db.segment.findMany()).map((segment) => [segment.name, segment.rules])).toEqual([['Kept', pro]]);
    expect(await web.db.subscriber.count()).toBe(27);
  });

  it.each([
    ['no name', { rules: pro }, 'name'],
    ['an empty name', { name: '   ', rules: pro }, 'name'],
    ['a name with NUL', { name: 'a\u0000', rules: pro }, 'name'],
    ['no rules', { name: 'x' }, 'rules'],
    ['an unknown field', { name: 'x', rules: pro, owner: 'me' }, 'owner'],
  ])('refuses a body with %s with 422', async (_name, body, field) => {
    const res = await createSegment(body).expect(422);
    expect(Object.keys(res.body.error.fields)).toEqual([field]);
    expect(await web.db.segment.count()).toBe(0);
  });

  it('refuses an empty PATCH, a body that is not JSON and one that is too large', async () => {
    const { body } = await createSegment({ name: 'Kept', rules: pro }).expect(201);
    await admin(web.app).patch(`/segments/${body.id}`).send({}).expect(422);
    await admin(web.app).post('/segments').type('form').send('name=x').expect(415);
    await admin(web.app).post('/segments').set('Content-Type', 'application/json').send('{"name": ').expect(400);
    const huge = { name: 'Huge', rules: { attribute: 'plan', op: 'in', value: Array.from({ length: 500 }, () => 'x'.repeat(600)) } };
    await createSegment(huge).expect(413);
    expect(await web.db.segment.count()).toBe(1);
  });
});
