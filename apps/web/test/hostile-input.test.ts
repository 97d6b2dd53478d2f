import { createHash, randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { Redis } from 'ioredis';
import request from 'supertest';
import type { Express } from 'express';
import type { Response } from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../src/app.js';
import { campaignBody, seedSubscribers } from '../../../test/support/factories.js';
import { seedList } from './list-fixtures.js';
import { redisUrl } from '../../../test/support/services.js';
import { adminToken, useWebHarness } from '../../../test/support/web.js';
import { checkAnswers } from '../../../test/support/api-description.js';
import { csrfFrom, loggedInAgent } from '../../../test/support/admin.js';
import { makeUser, memberPassword } from '../../../test/support/team.js';

/**
 * Herald seen from a hostile client: every public and API endpoint, fed what a careless or
 * malicious client sends. Each refusal must be a 4xx in Herald's error shape, without a stack
 * trace, must write nothing to Postgres or Redis, and must not log at error level (a client must
 * not be able to page the operator).
 */
const web = useWebHarness();
const logLines: { level: number; msg?: string }[] = [];
let app: Express;
let redis: Redis;

beforeAll(() => {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString().split('\n')) if (line) logLines.push(JSON.parse(line) as { level: number });
      callback();
    },
  });
  app = checkAnswers(createApp({ ...web, logger: pino({ level: 'info' }, sink) }));
  redis = new Redis(redisUrl);
});
afterAll(() => {
  redis?.disconnect();
});
beforeEach(() => {
  logLines.length = 0;
});

const auth = { Authorization: `Bearer ${adminToken}` };
const someId = '00000000-0000-4000-8000-000000000000';

async function snapshot() {
  const [subscribers, campaigns, deliveries, events] = await Promise.all([
    web.db.subscriber.count(),
    web.db.campaign.count(),
    web.db.delivery.count(),
    web.db.emailEvent.count(),
  ]);
  const keys = (await redis.keys(`${web.config.queuePrefix}:*`)).sort();
  return { subscribers, campaigns, deliveries, events, keys };
}

/** The shape every refusal must have, in JSON or as a page. */
function expectRefused(res: Response, status?: number) {
  if (status) expect(res.status, res.text).toBe(status);
  expect(res.status, res.text).toBeGreaterThanOrEqual(400);
  expect(res.status, res.text).toBeLessThan(500);
  if (/json/.test(res.headers['content-type'] ?? '')) {
    expect(res.body).toEqual({ error: expect.objectContaining({ code: expect.any(String), message: expect.any(String) }) });
  } else {
    expect(res.headers['content-type']).toMatch(/text\/html/);
  }
  // No stack frame, no file path, no internal error name.
  expect(res.text).not.toMatch(/\n\s+at |node_modules|\.ts:\d|\.js:\d|URIError|PrismaClient|TypeError/);
}

function expectNoErrorLogged() {
  expect(logLines.filter((line) => line.level >= 50)).toEqual([]);
}

/** Runs `send`, then asserts the refusal wrote nothing and logged no error. */
async function refuses(send: () => Promise<Response>, status?: number): Promise<Response> {
  const before = await snapshot();
  const res = await send();
  expectRefused(res, status);
  expect(await snapshot()).toEqual(before);
  expectNoErrorLogged();
  return res;
}

describe('a malformed percent-encoding in a path parameter', () => {
  const bad = '%E0%A4%A';
  const routes: [string, string, boolean][] = [
    ['get', `/confirm/${bad}`, false],
    ['post', `/confirm/${bad}`, false],
    ['get', `/unsubscribe/${bad}`, false],
    ['post', `/unsubscribe/${bad}`, false],
    ['post', `/unsubscribe/${bad}/resubscribe`, false],
    ['get', `/archive/${bad}`, false],
    ['patch', `/campaigns/${bad}`, true],
    ['get', `/campaigns/${bad}`, true],
    ['get', `/campaigns/${bad}/tasks`, true],
    ['post', `/campaigns/${bad}/pause`, true],
    ['post', `/campaigns/${bad}/resume`, true],
    ['post', `/campaigns/${bad}/cancel`, true],
    ['post', `/campaigns/${bad}/retry-failed`, true],
    ['post', `/campaigns/${someId}/${bad}`, true],
    ['get', `/tasks/${bad}`, true],
    ['delete', `/subscribers/${bad}`, true],
    ['get', `/subscribers/${bad}/export`, true],
    ['get', `/admin/campaigns/${bad}`, false],
    ['post', `/admin/campaigns/${bad}/cancel`, false],
    ['get', `/campaigns/${bad}/report`, true],
    ['get', `/campaigns/${bad}/recipients?event=opened`, true],
    ['get', `/admin/campaigns/${bad}/report`, false],
    ['get', `/admin/campaigns/${bad}/report/recipients.csv?event=opened`, false],
  ];

  it.each(routes)('%s %s answers 400 with the token, without it, as JSON and as a page', async (method, path, api) => {
    const call = (headers: Record<string, string>) => () =>
      (request(app) as unknown as Record<string, (p: string) => request.Test>)[method]!(path).set(headers);
    const json = await refuses(call(api ? auth : {}), 400);
    expect(json.body.error.code).toBe('malformed_url');
    // Before authentication too: the router decodes the parameter while matching the route.
    await refuses(call({}), 400);
    await refuses(call({ Accept: 'text/html' }), 400);
  });
});

describe('text that cannot be stored', () => {
  const unstorable: [string, string][] = [
    ['a NUL', 'a\u0000b'],
    ['a lone high surrogate', 'a\ud800b'],
    ['a lone low surrogate', '\udc00'],
  ];

  describe.each(unstorable)('%s', (_kind, text) => {
    it.each(['subject', 'body', 'text'])('in /send %s is a 400 naming the field', async (field) => {
      const res = await refuses(() => request(app).post('/send').set(auth).send({ ...campaignBody, [field]: text }), 400);
      expect(res.body.error.fields).toHaveProperty(field);
    });

    it.each(['email', 'name'])('in the JSON signup %s is a 400 naming the field', async (field) => {
      const res = await refuses(() => request(app).post('/register').send({ email: 'x@example.com', [field]: text }), 400);
      expect(res.body.error.fields).toHaveProperty(field);
    });
  });

  it('a NUL in the signup form re-renders the form with 400', async () => {
    const res = await refuses(() => request(app).post('/register').type('form').send('email=x%40example.com&name=a%00b'), 400);
    expect(res.text).toContain('name must not contain NUL');
  });

  it('a NUL in the subscriber search is a 400 naming q', async () => {
    const res = await refuses(() => request(app).get('/subscribers?q=a%00b').set(auth), 400);
    expect(res.body.error.message).toMatch(/\bq\b/);
  });

  it.each([
    ['/send', auth],
    ['/register', {}],
  ])('a JSON body to %s that is not valid UTF-8 is a 400', async (path, headers) => {
    const body = Buffer.concat([Buffer.from('{"subject":"'), Buffer.from([0xff, 0xfe]), Buffer.from('","body":"x","email":"a@example.com"}')]);
    const res = await refuses(() => request(app).post(path).set(headers).set('Content-Type', 'application/json').serialize((raw: Buffer) => raw as unknown as string).send(body), 400);
    expect(res.body.error.code).toBe('invalid_encoding');
  });

  it('an import file that is not valid UTF-8 is a 400 and imports nothing', async () => {
    const body = Buffer.concat([Buffer.from('email,name\nok@example.com,Ok\nbad@example.com,'), Buffer.from([0xc3, 0x28]), Buffer.from('\n')]);
    const res = await refuses(() => request(app).post('/subscribers/import').set(auth).set('Content-Type', 'text/csv').send(body), 400);
    expect(res.body.error.message).toMatch(/UTF-8/);
  });

  it('an import cell with a NUL is reported as an invalid row and never stored', async () => {
    const res = await request(app)
      .post('/subscribers/import?consent=confirmed')
      .set(auth)
      .set('Content-Type', 'text/csv')
      .send('email,name\nnul@example.com,a\u0000b\nfine@example.com,Fine\n')
      .expect(200);
    expect(res.body).toMatchObject({ imported: 1, invalid: [{ line: 2, reason: 'name contains NUL characters or invalid Unicode' }] });
    expect((await web.db.subscriber.findMany({ select: { email: true } })).map((s) => s.email)).toEqual(['fine@example.com']);
  });
});

describe('malformed, nested, mistyped and oversize bodies', () => {
  const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
  const bodies: [string, string, string][] = [
    ['malformed JSON', '{"email":', 'invalid_json'],
    ['a JSON array', '[]', 'invalid_request'],
    ['a JSON string', '"hello"', 'invalid_json'],
    ['deeply nested JSON', `{"email":${nested(20_000)}}`, 'invalid_request'],
    ['a nested object as a field', '{"email":{"$ne":null},"subject":{"a":{"b":{}}},"body":[1,[2,[3]]]}', 'invalid_request'],
    ['numbers for text', '{"email":42,"name":1e999,"subject":7,"body":false,"text":null}', 'invalid_request'],
    ['a prototype key', '{"__proto__":{"admin":true},"constructor":{"prototype":{"x":1}}}', 'invalid_request'],
  ];
  const endpoints: [string, string, Record<string, string>][] = [
    ['post', '/register', {}],
    ['post', '/send', auth],
    ['patch', `/campaigns/${someId}`, auth],
  ];

  for (const [method, path, headers] of endpoints) {
    it.each(bodies)(`${method} ${path}: %s is a 4xx in the error shape`, async (_name, body, code) => {
      const res = await refuses(() =>
        (request(app) as unknown as Record<string, (p: string) => request.Test>)[method]!(path).set(headers).set('Content-Type', 'application/json').send(body),
      );
      // An edit of an unknown campaign may be refused for the id or for the body; both write nothing.
      if (!path.startsWith('/campaigns/')) expect(res.body.error.code).toBe(code);
    });

    it(`${method} ${path}: a body over the limit is a 413`, async () => {
      const big = JSON.stringify({ email: 'a@example.com', subject: 's', body: 'x'.repeat(3_200_000) });
      const res = await refuses(
        () => (request(app) as unknown as Record<string, (p: string) => request.Test>)[method]!(path).set(headers).set('Content-Type', 'application/json').send(big),
        413,
      );
      expect(res.body.error.code).toBe('payload_too_large');
    });

    it(`${method} ${path}: a body that is not JSON is a 415`, async () => {
      const type = path === '/register' ? 'text/plain' : 'application/x-www-form-urlencoded';
      await refuses(() => (request(app) as unknown as Record<string, (p: string) => request.Test>)[method]!(path).set(headers).set('Content-Type', type).send('email=a@example.com'), 415);
    });
  }

  it('a form signup with repeated fields or too many fields is a 4xx', async () => {
    await refuses(() => request(app).post('/register').type('form').send('email=a%40example.com&email=b%40example.com'), 400);
    const many = Array.from({ length: 50 }, (_, i) => `f${i}=x`).join('&');
    await refuses(() => request(app).post('/register').type('form').send(`email=a%40example.com&${many}`), 413);
  });
});

describe('CR/LF in header-bound fields', () => {
  it.each([
    ['a subject', { ...campaignBody, subject: 'Hi\r\nBcc: victim@example.com' }, 'subject'],
    ['a subject with a bare LF', { ...campaignBody, subject: 'Hi\nX-Injected: 1' }, 'subject'],
  ])('%s with a line break is a 400 naming it', async (_name, body, field) => {
    const res = await refuses(() => request(app).post('/send').set(auth).send(body), 400);
    expect(res.body.error.fields).toHaveProperty(field);
  });

  it.each([
    ['name', { email: 'a@example.com', name: 'Ann\r\nBcc: victim@example.com' }],
    ['email', { email: 'a@example.com\r\nBcc: victim@example.com', name: 'Ann' }],
  ])('a signup %s with a line break is a 400 naming it', async (field, body) => {
    const res = await refuses(() => request(app).post('/register').send(body), 400);
    expect(res.body.error.fields).toHaveProperty(field);
  });

  it('an Idempotency-Key with spaces or non-ASCII is a 400', async () => {
    await refuses(() => request(app).post('/send').set(auth).set('Idempotency-Key', 'two words').send(campaignBody), 400);
    await refuses(() => request(app).post('/send').set(auth).set('Idempotency-Key', Buffer.from('ké', 'latin1').toString('latin1')).send(campaignBody), 400);
  });
});

describe('broken CSV', () => {
  const csv = (body: string | Buffer, query = '') => () =>
    request(app).post(`/subscribers/import${query}`).set(auth).set('Content-Type', 'text/csv').send(body);

  it.each([
    ['an unclosed quote', 'email,name\n"ann@example.com,Ann\nbob@example.com,Bob\n', 'invalid_csv'],
    ['no header', '', 'invalid_csv_header'],
    ['a header without email', 'name,address\nAnn,ann@example.com\n', 'invalid_csv_header'],
    ['a header naming email twice', 'email,email\na@example.com,b@example.com\n', 'invalid_csv_header'],
    ['a row as long as a file', `email,name\n"${'x'.repeat(70_000)}",Ann\n`, 'invalid_csv'],
  ])('%s is a 400 and imports nothing', async (_name, body, code) => {
    const res = await refuses(csv(body), 400);
    expect(res.body.error.code).toBe(code);
  });

  it('an unknown consent value, a JSON body and a compressed body are refused', async () => {
    await refuses(csv('email\na@example.com\n', '?consent=yes'), 400);
    await refuses(() => request(app).post('/subscribers/import').set(auth).send({ email: 'a@example.com' }), 415);
    await refuses(() => request(app).post('/subscribers/import').set(auth).set('Content-Type', 'text/csv').set('Content-Encoding', 'gzip').send('x'), 415);
  });
});

describe('absurd paging and filter values', () => {
  it.each([
    '/campaigns?limit=-1',
    '/campaigns?limit=0',
    '/campaigns?limit=1e9',
    '/campaigns?limit=abc',
    '/campaigns?limit=1&limit=2',
    '/campaigns?cursor=not-a-uuid',
    `/campaigns?cursor=${someId}&cursor=${someId}`,
    `/campaigns/${someId}/tasks?limit=100000`,
    `/campaigns/${someId}/tasks?status=bogus`,
    `/campaigns/${someId}/tasks?cursor=%27%20OR%201%3D1`,
    '/subscribers?limit=999999999999999999999',
    '/subscribers?limit=1.5',
    '/subscribers?status=everyone',
    '/subscribers?cursor=00000000',
    `/subscribers?q=${'x'.repeat(300)}`,
    '/subscribers?q=a&q=b',
    '/subscribers/export?status=bogus',
  ])('GET %s is a 4xx', async (path) => {
    await refuses(() => request(app).get(path).set(auth));
  });

  it.each(['/archive?page=0', '/archive?page=-5', '/archive?page=abc', '/archive?page=1e400'])('GET %s is a 4xx', async (path) => {
    await refuses(() => request(app).get(path));
  });
});

describe('invalid ids', () => {
  it.each([
    ['get', '/tasks/not-a-uuid', true],
    ['get', '/tasks/00000000-0000-4000-8000-00000000000g', true],
    ['get', '/campaigns/123', true],
    ['get', `/campaigns/${someId}`, true],
    ['get', `/campaigns/${someId}/tasks`, true],
    ['post', `/campaigns/${someId}/cancel`, true],
    ['post', '/campaigns/x/explode', true],
    ['delete', '/subscribers/abc', true],
    ['delete', `/subscribers/${someId}`, true],
    ['get', '/subscribers/abc/export', true],
    ['get', '/confirm/short', false],
    ['post', `/confirm/${'A'.repeat(43)}`, false],
    ['get', '/unsubscribe/zzz', false],
    ['post', `/unsubscribe/${'0'.repeat(64)}`, false],
    ['post', `/unsubscribe/${'0'.repeat(64)}/resubscribe`, false],
    ['get', '/archive/not-a-uuid', false],
    ['get', `/archive/${someId}`, false],
    ['get', '/campaigns/123/report', true],
    ['get', `/campaigns/${someId}/report`, true],
    ['get', `/campaigns/${someId}/recipients?event=clicked`, true],
  ])('%s %s is a 404 that changes nothing', async (method, path, api) => {
    await refuses(() => (request(app) as unknown as Record<string, (p: string) => request.Test>)[method]!(path).set(api ? auth : {}), 404);
  });
});

describe('report parameters', () => {
  it.each([
    ['event', ''],
    ['event', 'event=opened%00'],
    ['event', "event=opened'%20OR%201=1"],
    ['event', 'event[]=opened'],
    ['cursor', 'event=opened&cursor=%00'],
    ['cursor', 'event=opened&cursor=9999-99-99T00:00:00.000Z_x'],
    ['limit', 'event=opened&limit=1e400'],
    ['limit', 'event=opened&limit=-1'],
    ['limit', 'event=opened&limit=100000'],
    ['url', 'event=clicked&url='],
    ['url', `event=clicked&url=${'x'.repeat(2049)}`],
    ['link', 'event=clicked&link=unsubscribe&link=preferences'],
    ['format', 'event=bounced&format=csv%00'],
    ['url', 'event=clicked&url=a%00b'],
  ])('GET /campaigns/:id/recipients with a bad %s (case %#) is a 400 naming it', async (field, query) => {
    const res = await refuses(() => request(app).get(`/campaigns/${someId}/recipients?${query}`).set(auth), 400);
    expect(res.body.error.message).toContain(field);
  });

  it.each(['breakdown=lists', 'breakdown=list%00', 'breakdown=LIST', 'breakdown=list&breakdown=list'])(
    'GET /campaigns/:id/report?%s is a 400 naming breakdown',
    async (query) => {
      const res = await refuses(() => request(app).get(`/campaigns/${someId}/report?${query}`).set(auth), 400);
      expect(res.body.error.message).toContain('breakdown');
    },
  );

  it.each([
    ['from', 'from=%00'],
    ['from', "from=2026-05-01'%20OR%201=1"],
    ['from', `from=${'9'.repeat(5000)}`],
    ['from', 'from=2026-05-01%00'],
    ['from', 'from=%ud800'],
    ['from', 'from=-271821-04-20'],
    ['from', 'from=+275760-09-13T00:00:00Z'],
    ['to', 'to=2026-05-01T25:00:00Z'],
    ['to', 'to=0000-01-01'],
    ['to', 'to=9999-12-31T23:59:59Z'],
    ['from', 'from=2026-05-01&from=2026-05-01'],
    ['from', 'from=2026-05-02&to=2026-05-01'],
    ['to', 'from=1970-01-01&to=2026-05-01'],
  ])('GET /reports/campaigns with a bad %s (case %#) is a 400 naming it', async (field, query) => {
    const res = await refuses(() => request(app).get(`/reports/campaigns?${query}`).set(auth), 400);
    expect(Object.keys(res.body.error.fields)).toEqual([field]);
  });
});

describe('hostile input on the audience routes: lists, subscriptions, attributes, segments, send, signup and preferences', () => {
  type Fixture = { subscriberId: string; listId: string; privateSlug: string; segmentId: string; token: string };
  let fx: Fixture;

  /** Every table the audience routes write, as row text: any write at all changes it. */
  async function audienceFingerprint(): Promise<string> {
    const tables = ['lists', 'subscriptions', 'segments', 'campaign_lists', 'subscribers', 'welcome_emails', 'campaigns'];
    const parts: string[] = [];
    for (const t of tables) {
      const [row] = await web.db.$queryRawUnsafe<{ h: string | null }[]>(
        `SELECT md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) AS h FROM "${t}" x`,
      );
      parts.push(`${t}:${row?.h}`);
    }
    return parts.join(' ');
  }

  beforeEach(async () => {
    const [person] = await seedSubscribers(web.db, [{ email: 'hostile@example.com' }]);
    const listId = await seedList(web.db, { slug: 'weekly' });
    await seedList(web.db, { slug: 'staff-only', visibility: 'private' });
    const segment = await web.db.$queryRaw<{ id: string }[]>`
      INSERT INTO segments (name, rules) VALUES ('pros', '{"attribute":"plan","op":"eq","value":"pro"}'::jsonb) RETURNING id`;
    fx = { subscriberId: person!.id, listId, privateSlug: 'staff-only', segmentId: segment[0]!.id, token: person!.unsubscribeToken };
  });

  const deep = (depth: number): unknown => (depth === 0 ? { attribute: 'plan', op: 'eq', value: 'pro' } : { all: [deep(depth - 1)] });
  const hugeIn = { attribute: 'plan', op: 'in', value: Array.from({ length: 100_000 }, (_, i) => `v${i}`) };
  const nasty = ["'; DROP TABLE subscribers; --", 'a\u0000b', '\ud800', '"quoted"'];

  type Entry = [label: string, method: 'post' | 'patch' | 'put' | 'delete', path: (f: Fixture) => string, body: unknown, field?: string];
  const entries: Entry[] = [
    ['POST /lists without a name, a bad slug', 'post', () => '/lists', { name: '', slug: 'Bad Slug!' }, 'slug'],
    ['POST /lists with a NUL in the name', 'post', () => '/lists', { name: 'a\u0000b', slug: 'ok' }, 'name'],
    ['POST /lists with SQL as slug and a wrong visibility', 'post', () => '/lists', { name: 'x', slug: "x'; DROP TABLE lists; --", visibility: 'secret' }, 'slug'],
    ['POST /lists with a lone surrogate description', 'post', () => '/lists', { name: 'x', slug: 'x', description: '\ud800' }, 'description'],
    ['POST /lists with a welcome of the wrong type', 'post', () => '/lists', { name: 'x', slug: 'x', welcome: 'hello' }, 'welcome'],
    ['PATCH /lists/:id with a number name', 'patch', (f) => `/lists/${f.listId}`, { name: 42 }, 'name'],
    ['PATCH /lists/:id with doubleOptIn a string', 'patch', (f) => `/lists/${f.listId}`, { doubleOptIn: 'yes' }, 'doubleOptIn'],
    ['PUT /subscribers/:id/lists/:listId with a malformed list id', 'put', (f) => `/subscribers/${f.subscriberId}/lists/'%20OR%201=1`, undefined],
    ['PUT /subscribers/:id/lists/:listId with an unknown subscriber', 'put', (f) => `/subscribers/${someId}/lists/${f.listId}`, undefined],
    ['DELETE /subscribers/:id/lists/:listId with a malformed subscriber id', 'delete', (f) => `/subscribers/nope/lists/${f.listId}`, undefined],
    ['PATCH /subscribers/:id with a name of the wrong type', 'patch', (f) => `/subscribers/${f.subscriberId}`, { name: ['x'] }, 'name'],
    ['PATCH /subscribers/:id with attributes an array', 'patch', (f) => `/subscribers/${f.subscriberId}`, { attributes: [1, 2] }, 'attributes'],
    ['PATCH /subscribers/:id with an attribute key holding a quote', 'patch', (f) => `/subscribers/${f.subscriberId}`, { attributes: { "pl'an": 'x' } }, 'attributes'],
    ['PATCH /subscribers/:id with an attribute key holding a NUL', 'patch', (f) => `/subscribers/${f.subscriberId}`, { attributes: { 'a\u0000': 'x' } }, 'attributes'],
    ['PATCH /subscribers/:id with a NUL in an attribute value', 'patch', (f) => `/subscribers/${f.subscriberId}`, { attributes: { plan: 'a\u0000b' } }, 'attributes'],
    ['PATCH /subscribers/:id with a lone surrogate attribute value', 'patch', (f) => `/subscribers/${f.subscriberId}`, { attributes: { plan: '\udc00' } }, 'attributes'],
    ['PATCH /subscribers/:id with a nested attribute value', 'patch', (f) => `/subscribers/${f.subscriberId}`, { attributes: { plan: { $ne: null } } }, 'attributes'],
    ['PATCH /subscribers/:id with 51 attributes', 'patch', (f) => `/subscribers/${f.subscriberId}`, { attributes: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, i])) }, 'attributes'],
    ['POST /segments with an unknown operator', 'post', () => '/segments', { name: 'bad', rules: { attribute: 'plan', op: 'regex', value: '.*' } }, 'rules'],
    ['POST /segments with a value of the wrong type', 'post', () => '/segments', { name: 'bad', rules: { attribute: 'plan', op: 'contains', value: 12 } }, 'rules'],
    ['POST /segments nested 1,000 deep', 'post', () => '/segments', { name: 'bad', rules: deep(1000) }, 'rules'],
    ['POST /segments with an in list of 100k items', 'post', () => '/segments', { name: 'bad', rules: hugeIn }, 'rules'],
    ['POST /segments with SQL as an attribute key', 'post', () => '/segments', { name: 'bad', rules: { attribute: "plan' OR 1=1 --", op: 'exists' } }, 'rules'],
    ...nasty.map((value): Entry => [`POST /segments/preview with the value ${JSON.stringify(value)} as a key`, 'post', () => '/segments/preview', { rules: { attribute: value, op: 'eq', value } }, 'rules']),
    ['POST /segments/preview with a NUL in a value', 'post', () => '/segments/preview', { rules: { attribute: 'plan', op: 'eq', value: 'a\u0000' } }, 'rules'],
    ['POST /segments/preview with a lone surrogate in a value', 'post', () => '/segments/preview', { rules: { attribute: 'plan', op: 'contains', value: '\ud83d' } }, 'rules'],
    ['POST /segments/preview with rules a string', 'post', () => '/segments/preview', { rules: 'plan = pro' }, 'rules'],
    ['POST /segments/preview with an unknown list', 'post', () => '/segments/preview', { rules: { list: 'no-such-list' } }, 'rules'],
    ['POST /segments/preview with a bad date', 'post', () => '/segments/preview', { rules: { field: 'createdAt', op: 'gt', value: "2026-01-01'; --" } }, 'rules'],
    ['POST /segments/preview with withinDays negative', 'post', () => '/segments/preview', { rules: { engagement: 'opened', withinDays: -1 } }, 'rules'],
    ['POST /segments/preview nested 1,000 deep', 'post', () => '/segments/preview', { rules: deep(1000) }, 'rules'],
    ['PATCH /segments/:id with an unknown operator', 'patch', (f) => `/segments/${f.segmentId}`, { rules: { attribute: 'plan', op: 'like', value: 'p%' } }, 'rules'],
    ['PATCH /segments/:id with a NUL in the name', 'patch', (f) => `/segments/${f.segmentId}`, { name: 'a\u0000' }, 'name'],
    ['POST /send with lists a string', 'post', () => '/send', { ...campaignBody, lists: 'weekly' }, 'lists'],
    ['POST /send with an unknown list', 'post', () => '/send', { ...campaignBody, lists: ['weekly', 'nope'] }, 'lists'],
    ['POST /send with lists holding objects', 'post', () => '/send', { ...campaignBody, lists: [{ $ne: null }] }, 'lists'],
    ['POST /send with a segment number', 'post', () => '/send', { ...campaignBody, segment: 12 }, 'segment'],
    ['POST /send with an unknown segment id', 'post', () => '/send', { ...campaignBody, segment: someId }, 'segment'],
    ['POST /send with inline rules of an unknown operator', 'post', () => '/send', { ...campaignBody, segment: { attribute: 'plan', op: 'drop', value: 1 } }, 'segment'],
    ['POST /register with lists a string', 'post', () => '/register', { email: 'new@example.com', lists: 'weekly' }, 'lists'],
    ['POST /register with a private list', 'post', () => '/register', { email: 'new@example.com', lists: ['staff-only'] }, 'lists'],
    ['POST /register with lists holding a NUL', 'post', () => '/register', { email: 'new@example.com', lists: ['a\u0000'] }, 'lists'],
    ['POST /register with lists of 10k entries', 'post', () => '/register', { email: 'new@example.com', lists: Array.from({ length: 10_000 }, (_, i) => `l${i}`) }, 'lists'],
  ];

  it.each(entries)('%s is a 4xx naming the field and writes nothing', async (_label, method, path, body, field) => {
    const before = await audienceFingerprint();
    const res = await refuses(() => {
      const req = request(app)[method](path(fx)).set(auth);
      return body === undefined ? req : req.set('Content-Type', 'application/json').send(JSON.stringify(body));
    });
    if (field && res.status === 422) expect(JSON.stringify(res.body.error), res.text).toContain(field);
    expect(await audienceFingerprint()).toEqual(before);
  });

  it('POST /preferences/:token with garbage fields changes nothing', async () => {
    const before = await audienceFingerprint();
    // Each body keeps the person's name as it is, so only the garbage could change anything.
    const bodies = ['lists=%00', `lists=${'a'.repeat(10_000)}`, 'lists[$ne]=1', `lists=${someId}&lists=' OR 1=1 --`, 'shown=%00&lists=%ud800'];
    for (const garbage of [...bodies.map((b) => `name=hostile&${b}`), 'name=%00', `name=${'x'.repeat(100_000)}`]) {
      const res = await request(app).post(`/preferences/${fx.token}`).set('Content-Type', 'application/x-www-form-urlencoded').send(garbage);
      expect(res.status, `${garbage.slice(0, 80)}: ${res.text.slice(0, 300)}`).toBeLessThan(500);
      expect(res.text).not.toMatch(/\n\s+at |node_modules|\.ts:\d|PrismaClient|TypeError/);
      expect(await audienceFingerprint(), garbage.slice(0, 80)).toEqual(before);
    }
    const garbageToken = await request(app).post(`/preferences/${"'; DROP TABLE subscribers; --"}`).type('form').send('lists=weekly');
    expect(garbageToken.status).toBeGreaterThanOrEqual(400);
    expect(garbageToken.status).toBeLessThan(500);
    expect(await audienceFingerprint()).toEqual(before);
    expectNoErrorLogged();
  });
});

describe('the API description', () => {
  it.each(['post', 'put', 'patch', 'delete'] as const)('%s /openapi.json is refused and changes nothing', async (method) => {
    await refuses(() => request(app)[method]('/openapi.json').set('Content-Type', 'application/json').send('{"openapi":"0"}'), 404);
  });

  it.each(['/openapi.json?%00', `/openapi.json?${'x'.repeat(4000)}=1`, '/openapi.json?format=yaml&format=xml'])('GET %s ignores the query and serves the one document', async (path) => {
    const before = await snapshot();
    const res = await request(app).get(path).set('Accept', 'text/html;q=0.1, */*;q=0');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ openapi: '3.1.0', paths: expect.objectContaining({ '/send': expect.any(Object) }) });
    expect(await snapshot()).toEqual(before);
    expectNoErrorLogged();
  });
});

describe('hostile input on the webhook endpoint routes', () => {
  /** The webhook tables as row text: any write at all changes it. */
  async function webhookFingerprint(): Promise<string> {
    const parts: string[] = [];
    for (const t of ['webhook_endpoints', 'webhook_events', 'webhook_deliveries', 'webhook_attempts']) {
      const [row] = await web.db.$queryRawUnsafe<{ h: string | null }[]>(
        `SELECT md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) AS h FROM "${t}" x`,
      );
      parts.push(`${t}:${row?.h}`);
    }
    return parts.join(' ');
  }
  let endpointId: string;
  beforeEach(async () => {
    const [row] = await web.db.$queryRaw<{ id: string }[]>`
      INSERT INTO webhook_endpoints (url, event_types, secret)
      VALUES ('https://hooks.example.com/herald', ARRAY['subscriber.created'], 'whsec_MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIz') RETURNING id`;
    endpointId = row!.id;
  });

  const events = ['subscriber.created'];
  const urls: [label: string, url: unknown][] = [
    ['not a URL', 'hooks at example dot com'],
    ['a relative path', '/hooks/herald'],
    ['ftp', 'ftp://example.com/hooks'],
    ['javascript:', 'javascript:alert(1)'],
    ['file:', 'file:///etc/passwd'],
    ['loopback', 'http://127.0.0.1:6379/'],
    ['loopback in decimal', 'http://2130706433/'],
    ['localhost', 'http://localhost:5432/'],
    ['a private address', 'http://10.0.0.8/hooks'],
    ['a 192.168 address', 'https://192.168.1.1/'],
    ['the metadata service', 'http://169.254.169.254/latest/meta-data/'],
    ['IPv6 loopback', 'http://[::1]/'],
    ['IPv4 mapped in IPv6', 'http://[::ffff:127.0.0.1]/'],
    ['unique-local IPv6', 'http://[fd00::1]/'],
    ['the unspecified address', 'http://0.0.0.0/'],
    ['credentials in the URL', 'https://user:pass@example.com/hooks'],
    ['a NUL', 'https://example.com/\u0000'],
    ['a lone surrogate', 'https://example.com/\ud800'],
    ['a newline (header injection)', 'https://example.com/\r\nX-Injected: 1'],
    ['10 KB long', `https://example.com/${'a'.repeat(10_000)}`],
    ['a number', 42],
    ['an object', { $ne: null }],
  ];

  it.each(urls)('POST /webhook-endpoints with a URL that is %s is a 4xx naming url and writes nothing', async (_label, url) => {
    const before = await webhookFingerprint();
    const res = await refuses(() => request(app).post('/webhook-endpoints').set(auth).set('Content-Type', 'application/json').send(JSON.stringify({ url, events })));
    if (res.status === 422) expect(Object.keys(res.body.error.fields ?? {})).toContain('url');
    expect(await webhookFingerprint()).toEqual(before);
  });

  it.each(urls)('PATCH /webhook-endpoints/:id with a URL that is %s is a 4xx and changes nothing', async (_label, url) => {
    const before = await webhookFingerprint();
    await refuses(() => request(app).patch(`/webhook-endpoints/${endpointId}`).set(auth).set('Content-Type', 'application/json').send(JSON.stringify({ url })));
    expect(await webhookFingerprint()).toEqual(before);
  });

  const bodies: [label: string, body: unknown][] = [
    ['no events', { url: 'https://example.com/h', events: [] }],
    ['an unknown event', { url: 'https://example.com/h', events: ['subscriber.deleted'] }],
    ['events a string', { url: 'https://example.com/h', events: 'subscriber.created' }],
    ['10k events', { url: 'https://example.com/h', events: Array.from({ length: 10_000 }, () => 'subscriber.created') }],
    ['an unknown field', { url: 'https://example.com/h', events, secret: 'whsec_mine' }],
    ['a description of 10 KB', { url: 'https://example.com/h', events, description: 'x'.repeat(10_000) }],
  ];
  it.each(bodies)('POST /webhook-endpoints with %s is a 4xx and writes nothing', async (_label, body) => {
    const before = await webhookFingerprint();
    await refuses(() => request(app).post('/webhook-endpoints').set(auth).set('Content-Type', 'application/json').send(JSON.stringify(body)));
    expect(await webhookFingerprint()).toEqual(before);
  });

  it.each([
    ['post', (id: string) => `/webhook-endpoints/${id}/test`],
    ['post', () => `/webhook-endpoints/nope/test`],
    ['post', (id: string) => `/webhook-endpoints/${id}/deliveries/'%20OR%201=1/resend`],
    ['get', (id: string) => `/webhook-endpoints/${id}/deliveries?cursor=%00`],
    ['get', (id: string) => `/webhook-endpoints/${id}/deliveries?limit=100000`],
    ['delete', () => `/webhook-endpoints/${someId}`],
  ] as const)('%s %s with a bad id or query is a 4xx (a test event for a disabled endpoint included)', async (method, path) => {
    await web.db.$executeRaw`UPDATE webhook_endpoints SET enabled = false, disabled_at = now()`;
    const before = await webhookFingerprint();
    await refuses(() => request(app)[method](path(endpointId)).set(auth));
    expect(await webhookFingerprint()).toEqual(before);
  });
});

describe('hostile input on the team routes: users, tokens, the audit log and invitation links', () => {
  type Fixture = { ownerId: string; ownerToken: string; editorToken: string; inviteeId: string; invitation: string; ownerTokenId: string };
  let fx: Fixture;

  /** Every table the team routes write, as row text: any write at all changes it. */
  async function teamFingerprint(): Promise<string> {
    const parts: string[] = [];
    for (const t of ['users', 'api_tokens', 'audit_entries']) {
      const [row] = await web.db.$queryRawUnsafe<{ h: string | null }[]>(
        `SELECT md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) AS h FROM "${t}" x`,
      );
      parts.push(`${t}:${row?.h}`);
    }
    return parts.join(' ');
  }

  /** `refuses`, and the team's tables unchanged too. */
  async function teamRefuses(send: () => Promise<Response>, status?: number): Promise<Response> {
    const before = await teamFingerprint();
    const res = await refuses(send, status);
    expect(await teamFingerprint()).toEqual(before);
    return res;
  }

  beforeEach(async () => {
    // The only owner (so the last-owner rule can be tried), an editor, and someone invited whose
    // invitation the worker has emailed (its token made as the worker makes it).
    const owner = await makeUser(web.db, 'owner', 'owner@example.com');
    const editor = await makeUser(web.db, 'editor', 'editor@example.com');
    const invitation = randomBytes(32).toString('base64url');
    const invitee = await web.db.user.create({
      data: {
        email: 'invited@example.com',
        role: 'editor',
        invitedAt: new Date(),
        inviteTokenHash: createHash('sha256').update(invitation).digest('hex'),
        inviteExpiresAt: new Date(Date.now() + 60 * 60 * 1000),
      },
    });
    // A token's first use writes its last use (then at most once a minute): used once here, so a
    // refused request below may not write anything.
    for (const token of [owner.token, editor.token]) await request(app).get('/tokens').set({ Authorization: `Bearer ${token}` }).expect(200);
    const ownerTokenId = (await web.db.apiToken.findFirstOrThrow({ where: { userId: owner.user.id } })).id;
    fx = { ownerId: owner.user.id, ownerToken: owner.token, editorToken: editor.token, inviteeId: invitee.id, invitation, ownerTokenId };
  });

  type Method = 'post' | 'patch' | 'delete' | 'get';
  const call = (method: Method, path: string, headers: Record<string, string>, body?: unknown) => () => {
    const req = request(app)[method](path).set(headers);
    return body === undefined ? req : req.set('Content-Type', 'application/json').send(typeof body === 'string' ? body : JSON.stringify(body));
  };
  const nasty = ['a\u0000b', '\ud800', 'x'.repeat(10_000), ['owner'], { $ne: null }, 42, null];

  describe('POST /users', () => {
    const invite = { email: 'new@example.com', role: 'editor' };
    const bodies: [label: string, body: unknown, field?: string][] = [
      ['an email that is not one', { ...invite, email: 'not-an-email' }, 'email'],
      ['an empty email', { ...invite, email: '' }, 'email'],
      ['an email with a line break', { ...invite, email: 'new@example.com\r\nBcc: victim@example.com' }, 'email'],
      ['an email of 300 characters', { ...invite, email: `${'a'.repeat(290)}@example.com` }, 'email'],
      ["an email with SQL", { ...invite, email: "x'; DROP TABLE users; --@example.com" }, 'email'],
      ...nasty.map((value): [string, unknown, string] => [`the email ${JSON.stringify(value).slice(0, 20)}`, { ...invite, email: value }, 'email']),
      ['a role not in the enum', { ...invite, role: 'god' }, 'role'],
      ['a role in capitals', { ...invite, role: 'OWNER' }, 'role'],
      ['an empty role', { ...invite, role: '' }, 'role'],
      ['no role', { email: invite.email }, 'role'],
      ...nasty.map((value): [string, unknown, string] => [`the role ${JSON.stringify(value).slice(0, 20)}`, { ...invite, role: value }, 'role']),
      ['a name of 10,000 characters', { ...invite, name: 'x'.repeat(10_000) }, 'name'],
      ['a name with a NUL', { ...invite, name: 'a\u0000b' }, 'name'],
      ['a name with a lone surrogate', { ...invite, name: '\udc00' }, 'name'],
      ['a name an array', { ...invite, name: ['Ann'] }, 'name'],
      ['a name an object', { ...invite, name: { first: 'Ann' } }, 'name'],
      ['an unknown field', { ...invite, passwordHash: '$argon2id$v=19$m=1,t=1,p=1$x$y' }, 'passwordHash'],
      ['a disabled flag', { ...invite, disabled: false }, 'disabled'],
      ['a prototype key', '{"email":"new@example.com","role":"editor","__proto__":{"role":"owner"}}'],
      ['a JSON array', '[{"email":"new@example.com","role":"editor"}]'],
      ['malformed JSON', '{"email":'],
      ['someone already on the team, in other case', { email: ' EDITOR@Example.com ', role: 'viewer' }, 'email'],
    ];

    it.each(bodies)('with %s is a 4xx naming the field and changes nothing', async (_label, body, field) => {
      const res = await teamRefuses(call('post', '/users', auth, body));
      if (field && res.status === 422) expect(Object.keys(res.body.error.fields ?? {}), res.text).toContain(field);
    });

    it('with a body over 16 kB is a 413, and with a form body a 415', async () => {
      await teamRefuses(call('post', '/users', auth, { ...invite, name: 'x'.repeat(20_000) }), 413);
      await teamRefuses(() => request(app).post('/users').set(auth).type('form').send('email=new%40example.com&role=editor'), 415);
    });

    it('by an editor is a 403 whatever the body, and changes nothing', async () => {
      await teamRefuses(call('post', '/users', { Authorization: `Bearer ${fx.editorToken}` }, { email: 'crony@example.com', role: 'owner' }), 403);
    });
  });

  describe('PATCH /users/:id, POST /users/:id/invitation and DELETE /users/:id', () => {
    const badIds = ['abc', someId, "'%20OR%201=1", `${someId}%00`, `${someId}x`, 'x'.repeat(5000)];

    it.each(badIds)('with the id %s are 404s that change nothing', async (id) => {
      await teamRefuses(call('patch', `/users/${id}`, auth, { role: 'viewer' }), 404);
      await teamRefuses(call('post', `/users/${id}/invitation`, auth), 404);
      await teamRefuses(call('delete', `/users/${id}`, auth), 404);
    });

    it('with a malformed percent-encoding in the id are 400s', async () => {
      await teamRefuses(call('patch', '/users/%E0%A4%A', auth, { role: 'viewer' }), 400);
      await teamRefuses(call('post', '/users/%E0%A4%A/invitation', auth), 400);
    });

    const bodies: [label: string, body: unknown, field?: string][] = [
      ['an empty object', {}],
      ['a role not in the enum', { role: 'god' }, 'role'],
      ['a role null', { role: null }, 'role'],
      ['a role an array', { role: ['admin'] }, 'role'],
      ['a role with a NUL', { role: 'admin\u0000' }, 'role'],
      ['disabled a string', { disabled: 'yes' }, 'disabled'],
      ['disabled a number', { disabled: 1 }, 'disabled'],
      ['disabled null', { disabled: null }, 'disabled'],
      ['an email change', { email: 'other@example.com' }, 'email'],
      ['a password hash', { passwordHash: 'x' }, 'passwordHash'],
      ['an invitation token', { inviteTokenHash: 'x'.repeat(64) }, 'inviteTokenHash'],
      ['a JSON array', '[{"role":"viewer"}]'],
      ['a JSON string', '"viewer"'],
      ['a nested object', { role: { $set: 'owner' } }, 'role'],
    ];

    it.each(bodies)('PATCH of the editor-to-be with %s is a 4xx naming the field and changes nothing', async (_label, body, field) => {
      const res = await teamRefuses(call('patch', `/users/${fx.inviteeId}`, auth, body));
      if (field && res.status === 422) expect(Object.keys(res.body.error.fields ?? {}), res.text).toContain(field);
    });

    it('demoting or disabling the only owner is a 409 that changes nothing', async () => {
      await teamRefuses(call('patch', `/users/${fx.ownerId}`, auth, { role: 'viewer' }), 409);
      await teamRefuses(call('patch', `/users/${fx.ownerId}`, auth, { disabled: true }), 409);
      await teamRefuses(call('delete', `/users/${fx.ownerId}`, auth), 409);
    });

    it('sending an invitation to someone who joined is a 409', async () => {
      await teamRefuses(call('post', `/users/${fx.ownerId}/invitation`, auth), 409);
    });
  });

  describe('POST /tokens and DELETE /tokens/:id', () => {
    const owner = () => ({ Authorization: `Bearer ${fx.ownerToken}` });
    const token = { name: 'deploy', role: 'viewer' };
    const bodies: [label: string, body: unknown, field?: string][] = [
      ['no name', { role: 'viewer' }, 'name'],
      ['a blank name', { ...token, name: '   ' }, 'name'],
      ['a name of 101 characters', { ...token, name: 'x'.repeat(101) }, 'name'],
      ...nasty.map((value): [string, unknown, string] => [`the name ${JSON.stringify(value).slice(0, 20)}`, { ...token, name: value }, 'name']),
      ['a role not in the enum', { ...token, role: 'superuser' }, 'role'],
      ['a role in capitals', { ...token, role: 'Viewer' }, 'role'],
      ['no role', { name: 'deploy' }, 'role'],
      ...nasty.map((value): [string, unknown, string] => [`the role ${JSON.stringify(value).slice(0, 20)}`, { ...token, role: value }, 'role']),
      ['an expiry in the past', { ...token, expiresAt: '2000-01-01T00:00:00Z' }, 'expiresAt'],
      ['an expiry in year 0', { ...token, expiresAt: '0000-01-01T00:00:00Z' }, 'expiresAt'],
      ['an expiry too far away', { ...token, expiresAt: '9999-12-31T23:59:59Z' }, 'expiresAt'],
      ['an expiry in words', { ...token, expiresAt: 'tomorrow' }, 'expiresAt'],
      ['an expiry without an offset', { ...token, expiresAt: '2030-01-01T00:00:00' }, 'expiresAt'],
      ['an expiry in month 13', { ...token, expiresAt: '2030-13-01T00:00:00Z' }, 'expiresAt'],
      ['an expiry as a number', { ...token, expiresAt: 1893456000000 }, 'expiresAt'],
      ['an expiry with a NUL', { ...token, expiresAt: '2030-01-01T00:00:00Z\u0000' }, 'expiresAt'],
      ['an expiry an object', { ...token, expiresAt: { $gt: '2030' } }, 'expiresAt'],
      ['an owner of its own', { ...token, userId: someId }, 'userId'],
      ['a hash of its own', { ...token, tokenHash: '0'.repeat(64) }, 'tokenHash'],
      ['a prototype key', '{"name":"deploy","role":"viewer","__proto__":{"role":"owner"}}'],
      ['a JSON array', '[]'],
      ['malformed JSON', '{"name":'],
    ];

    it.each(bodies)('POST /tokens with %s is a 4xx naming the field and changes nothing', async (_label, body, field) => {
      const res = await teamRefuses(call('post', '/tokens', owner(), body));
      if (field && res.status === 422) expect(Object.keys(res.body.error.fields ?? {}), res.text).toContain(field);
    });

    it('POST /tokens with a body over 4 kB is a 413, a role above the caller a 403, with ADMIN_TOKEN a 409', async () => {
      await teamRefuses(call('post', '/tokens', owner(), { ...token, name: 'x'.repeat(5000) }), 413);
      await teamRefuses(call('post', '/tokens', { Authorization: `Bearer ${fx.editorToken}` }, { ...token, role: 'owner' }), 403);
      await teamRefuses(call('post', '/tokens', auth, token), 409);
    });

    it.each(['abc', someId, "'%20OR%201=1", `${someId}%00`, 'x'.repeat(5000)])('DELETE /tokens/%s is a 404 that changes nothing', async (id) => {
      await teamRefuses(call('delete', `/tokens/${id}`, owner()), 404);
    });

    it('a name with a NUL on the account page re-renders the form with a 422', async () => {
      // Logged in first: the login itself is recorded.
      const agent = await loggedInAgent(app, 'owner@example.com', memberPassword);
      const page = await agent.get('/admin/account').expect(200);
      const res = await teamRefuses(() => agent.post('/admin/account/tokens').type('form').send({ _csrf: csrfFrom(page.text), name: 'a\u0000b', role: 'viewer', expires: '' }), 422);
      expect(res.text).toContain('must not contain NUL characters or invalid Unicode');
    });

    it("DELETE /tokens/:id of someone else's token by an editor is a 404, a malformed id a 400", async () => {
      await teamRefuses(call('delete', `/tokens/${fx.ownerTokenId}`, { Authorization: `Bearer ${fx.editorToken}` }), 404);
      await teamRefuses(call('delete', '/tokens/%E0%A4%A', owner()), 400);
    });
  });

  describe('GET /audit', () => {
    it.each([
      ['actor', 'actor='],
      ['actor', 'actor=%00'],
      ['actor', 'actor=owner%40example.com%00'],
      ['actor', `actor=${someId}%00`],
      ['actor', `actor=${'a'.repeat(301)}`],
      ['actor', 'actor=a&actor=b'],
      ['action', 'action=bogus'],
      ['action', 'action=LOGIN.FAILED'],
      ['action', 'action=login.failed%00'],
      ['action', 'action=login.failed&action=login.succeeded'],
      ['from', 'from=yesterday'],
      ['from', 'from=%00'],
      ['from', 'from=2026-05-01%00'],
      ['from', `from=${'9'.repeat(5000)}`],
      ['from', "from=2026-05-01'%20OR%201=1"],
      ['from', 'from=0000-01-01'],
      ['from', 'from=0001-01-01T00:00:00%2B01:00'],
      ['from', 'from=2026-05-01&from=2026-05-02'],
      ['to', 'to=2026-02-30'],
      ['to', 'to=2026-05-01T25:00:00Z'],
      ['to', 'to=0000-01-01'],
      ['to', 'to=%00'],
      ['to', 'from=2026-05-02&to=2026-05-01'],
      ['cursor', 'cursor=%00'],
      ['cursor', 'cursor=not!base64'],
      ['cursor', `cursor=${Buffer.from('audit:0').toString('base64url')}`],
      ['cursor', `cursor=${Buffer.from("audit:1' OR 1=1").toString('base64url')}`],
      ['cursor', `cursor=${Buffer.from('audit:99999999999999999999').toString('base64url')}`],
      ['cursor', `cursor=${'A'.repeat(100)}`],
      ['cursor', 'cursor=YXVkaXQ6MQ&cursor=YXVkaXQ6MQ'],
      ['limit', 'limit=0'],
      ['limit', 'limit=-1'],
      ['limit', 'limit=201'],
      ['limit', 'limit=1.5'],
      ['limit', 'limit=1e400'],
      ['limit', 'limit=1&limit=2'],
      ['limit', 'limit=%00'],
      ['sort', 'sort=asc'],
      ['actor[$ne]', 'actor[$ne]=x'],
    ])('with a bad %s (case %#) is a 422 naming it and changes nothing', async (field, query) => {
      const res = await teamRefuses(call('get', `/audit?${query}`, auth), 422);
      expect(res.body.error.fields, res.text).toHaveProperty([field]);
    });

    it('by an editor is a 403', async () => {
      await teamRefuses(call('get', '/audit', { Authorization: `Bearer ${fx.editorToken}` }), 403);
    });
  });

  describe('the public invitation page, /admin/invitations/:token', () => {
    const badTokens = ['short', 'A'.repeat(43), 'A'.repeat(44), 'x'.repeat(5000), '%00', "'%20OR%201=1", `${'A'.repeat(42)}%00`, '..%2F..%2Fadmin'];

    it.each(badTokens)('GET of the token %s is a 404 page that changes nothing', async (token) => {
      await teamRefuses(() => request(app).get(`/admin/invitations/${token}`), 404);
    });

    it('GET and POST of a malformed percent-encoding are 400s', async () => {
      await teamRefuses(() => request(app).get('/admin/invitations/%E0%A4%A'), 400);
      await teamRefuses(() => request(app).post('/admin/invitations/%E0%A4%A').type('form').send('password=x'), 400);
    });

    /** A browser with the invitation's form open: its cookies and the form's CSRF token. */
    async function openForm() {
      const agent = request.agent(app);
      const page = await agent.get(`/admin/invitations/${fx.invitation}`).expect(200);
      return { agent, csrf: csrfFrom(page.text) };
    }
    const password = 'a long enough password for this';

    it.each(badTokens)('POST to the token %s with a valid CSRF token and password is a 404 that changes nothing', async (token) => {
      const { agent, csrf } = await openForm();
      await teamRefuses(() => agent.post(`/admin/invitations/${token}`).type('form').send({ _csrf: csrf, name: 'Ann', password, passwordAgain: password }), 404);
    });

    const fields = (csrf: string, extra: string) => `_csrf=${encodeURIComponent(csrf)}&${extra}`;
    it.each([
      ['a NUL in the name', `name=a%00b&password=${encodeURIComponent(password)}&passwordAgain=${encodeURIComponent(password)}`, 'name'],
      ['a name of 10,000 characters', `name=${'x'.repeat(10_000)}&password=${encodeURIComponent(password)}&passwordAgain=${encodeURIComponent(password)}`, 'name'],
      ['no password', 'name=Ann', 'password'],
      ['a short password', 'name=Ann&password=short&passwordAgain=short', 'password'],
      ['passwords that differ', `name=Ann&password=${encodeURIComponent(password)}&passwordAgain=${encodeURIComponent(`${password}!`)}`, 'passwordAgain'],
      ['a password of 100,000 characters', `name=Ann&password=${'p'.repeat(100_000)}&passwordAgain=${'p'.repeat(100_000)}`, 'password'],
      ['the password given twice', `name=Ann&password=${encodeURIComponent(password)}&password=${encodeURIComponent(password)}&passwordAgain=${encodeURIComponent(password)}`, 'password'],
      ['the name given twice', `name=Ann&name=Bob&password=${encodeURIComponent(password)}&passwordAgain=${encodeURIComponent(password)}`, 'name'],
      ['bracketed keys', `name[$ne]=1&password[$gt]=&passwordAgain=${encodeURIComponent(password)}`, 'password'],
    ])('POST with %s re-renders the form with a 422 and changes nothing', async (_label, body, field) => {
      const { agent, csrf } = await openForm();
      const res = await teamRefuses(() => agent.post(`/admin/invitations/${fx.invitation}`).type('form').send(fields(csrf, body)), 422);
      expect(res.text).toContain(`id="${field}-error"`);
      expect(res.text).toContain('name="passwordAgain"');
    });

    it('POST without a CSRF token, with a forged one or as JSON is a 403; with too many fields a 413', async () => {
      const { agent, csrf } = await openForm();
      const path = `/admin/invitations/${fx.invitation}`;
      await teamRefuses(() => agent.post(path).type('form').send({ name: 'Ann', password, passwordAgain: password }), 403);
      await teamRefuses(() => agent.post(path).type('form').send({ _csrf: `${csrf}x`, name: 'Ann', password, passwordAgain: password }), 403);
      await teamRefuses(() => request(app).post(path).type('form').send({ _csrf: csrf, name: 'Ann', password, passwordAgain: password }), 403);
      await teamRefuses(() => agent.post(path).set('Content-Type', 'application/json').send(JSON.stringify({ _csrf: csrf, name: 'Ann', password, passwordAgain: password })), 403);
      const many = Array.from({ length: 40 }, (_, i) => `f${i}=x`).join('&');
      await teamRefuses(() => agent.post(path).type('form').send(fields(csrf, `name=Ann&password=${encodeURIComponent(password)}&passwordAgain=${encodeURIComponent(password)}&${many}`)), 413);
    });
  });
});
