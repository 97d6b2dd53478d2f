import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { admin, seedSubscribers } from '../../../test/support/factories.js';
import { useWebHarness } from '../../../test/support/web.js';

const web = useWebHarness();

function postCsv(body: string, query = '') {
  return admin(web.app).post(`/subscribers/import${query}`).set('Content-Type', 'text/csv').send(Buffer.from(body));
}

async function subscriptionOf(email: string, slug: string) {
  const person = await web.db.subscriber.findUniqueOrThrow({ where: { email } });
  const list = await web.db.list.findUniqueOrThrow({ where: { slug } });
  return web.db.subscription.findUnique({ where: { subscriberId_listId: { subscriberId: person.id, listId: list.id } } });
}

async function attributesOf(email: string) {
  return (await web.db.subscriber.findUniqueOrThrow({ where: { email } })).attributes;
}

describe('import into a list, with attributes', () => {
  it('subscribes everyone imported to the default list, pending or active as the person is, and queues no welcome email', async () => {
    // Seeded people are on the default list already; these two are not.
    await seedSubscribers(web.db, [{ email: 'old@example.com' }, { email: 'gone@example.com', status: 'unsubscribed' }]);
    await web.db.subscription.deleteMany({});
    await web.db.list.update({ where: { slug: 'newsletter' }, data: { welcomeSubject: 'Welcome', welcomeBody: 'Hi' } });
    const res = await postCsv('email,name\nnew@example.com,New\nold@example.com,\ngone@example.com,Back\n').expect(200);
    expect(res.body).toMatchObject({ imported: 1, updated: 0, skipped: 2, subscribed: 2 });
    expect(await subscriptionOf('new@example.com', 'newsletter')).toMatchObject({ status: 'pending', consentSource: 'import' });
    expect(await subscriptionOf('old@example.com', 'newsletter')).toMatchObject({ status: 'active', consentSource: 'import' });
    expect(await subscriptionOf('gone@example.com', 'newsletter')).toBeNull();
    expect(await web.db.welcomeEmail.count()).toBe(0);
  });

  it('imports into the list ?list= names, never undoing an unsubscribe from it, and refuses an unknown list before reading', async () => {
    const { body: list } = await admin(web.app).post('/lists').send({ name: 'Weekly', visibility: 'private' }).expect(201);
    const [left] = await seedSubscribers(web.db, [{ email: 'left@example.com' }]);
    await web.db.subscription.create({ data: { subscriberId: left!.id, listId: list.id, status: 'unsubscribed', unsubscribedAt: new Date() } });
    const res = await postCsv('email\nfresh@example.com\nleft@example.com\n', '?list=weekly&consent=confirmed').expect(200);
    expect(res.body).toMatchObject({ imported: 1, subscribed: 1 });
    expect(await subscriptionOf('fresh@example.com', 'weekly')).toMatchObject({ status: 'active', consentSource: 'import' });
    expect(await subscriptionOf('fresh@example.com', 'newsletter')).toBeNull();
    expect(await subscriptionOf('left@example.com', 'weekly')).toMatchObject({ status: 'unsubscribed' });

    const unknown = await postCsv('email\nsomeone@example.com\n', '?list=nope').expect(400);
    expect(unknown.body.error.fields).toEqual({ list: 'no list with that id or slug' });
    expect(await web.db.subscriber.findUnique({ where: { email: 'someone@example.com' } })).toBeNull();
  });

  it('activates a pending subscription when the import confirms consent', async () => {
    await postCsv('email\nada@example.com\n').expect(200);
    expect(await subscriptionOf('ada@example.com', 'newsletter')).toMatchObject({ status: 'pending' });
    const res = await postCsv('email\nada@example.com\n', '?consent=confirmed').expect(200);
    expect(res.body).toMatchObject({ updated: 1, subscribed: 1 });
    expect(await subscriptionOf('ada@example.com', 'newsletter')).toMatchObject({ status: 'active' });
  });

  it('turns extra columns into typed attributes, merging with what people have; an empty cell changes nothing', async () => {
    const [ada] = await seedSubscribers(web.db, [{ email: 'ada@example.com', name: 'Ada' }]);
    await web.db.subscriber.update({ where: { id: ada!.id }, data: { attributes: { plan: 'free', keep: 'me' } } });
    const file = ['email,name,plan,seats,trial,zip,Country', 'ada@example.com,,pro,3,true,01234,', 'bob@example.com,Bob,free,-2.5,false,,DE'].join('\r\n');
    const res = await postCsv(file).expect(200);
    expect(res.body).toMatchObject({ imported: 1, updated: 1, invalidCount: 0 });
    expect(await attributesOf('ada@example.com')).toEqual({ plan: 'pro', keep: 'me', seats: 3, trial: true, zip: '01234' });
    expect(await attributesOf('bob@example.com')).toEqual({ plan: 'free', seats: -2.5, trial: false, Country: 'DE' });
    // The same file again changes nothing.
    expect((await postCsv(file).expect(200)).body).toMatchObject({ imported: 0, updated: 0, skipped: 2 });
  });

  it('reports invalid attribute cells like invalid rows, and refuses a header that cannot be an attribute key', async () => {
    const [full] = await seedSubscribers(web.db, [{ email: 'full@example.com' }]);
    await web.db.subscriber.update({ where: { id: full!.id }, data: { attributes: Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`k${i}`, 'x'.repeat(950)])) } });
    const file = ['email,note', `long@example.com,${'x'.repeat(1001)}`, 'ok@example.com,fine', `full@example.com,${'y'.repeat(950)}`].join('\n');
    const res = await postCsv(file).expect(200);
    expect(res.body).toMatchObject({ imported: 1, invalidCount: 2 });
    expect(res.body.invalid).toEqual([
      { line: 2, reason: 'attribute note is longer than 1000 characters' },
      { line: 4, reason: expect.stringContaining('8 KiB') },
    ]);
    expect(await web.db.subscriber.findUnique({ where: { email: 'long@example.com' } })).toBeNull();
    expect(Object.keys((await attributesOf('full@example.com')) as object)).toHaveLength(8);

    for (const header of ['email,"plan; DROP TABLE subscribers"', 'email,1st', 'email,plan,plan']) {
      const refused = await postCsv(`${header}\nx@example.com,a,b\n`).expect(400);
      expect(refused.body.error.code).toBe('invalid_csv_header');
    }
    expect(await web.db.subscriber.findUnique({ where: { email: 'x@example.com' } })).toBeNull();
  });
});

describe('export with lists and attributes', () => {
  it('exports a list with its subscription status and every attribute as a column, and imports back', async () => {
    await admin(web.app).post('/lists').send({ name: 'Weekly', visibility: 'public' }).expect(201);
    await postCsv('email,name,plan,seats\nada@example.com,Ada,=cmd,3\nbob@example.com,Bob,,\n', '?list=weekly&consent=confirmed').expect(200);
    await postCsv('email\ncarol@example.com\n', '?consent=confirmed').expect(200);
    const res = await admin(web.app).get('/subscribers/export?list=weekly').expect(200);
    const rows = parse(res.text, { columns: true }) as Record<string, string>[];
    expect(Object.keys(rows[0]!)).toEqual(['email', 'name', 'status', 'consent_at', 'consent_source', 'confirmed_at', 'unsubscribed_at', 'created_at', 'list_status', 'plan', 'seats']);
    expect(rows.map((row) => [row.email, row.list_status, row.plan, row.seats]).sort()).toEqual([
      ['ada@example.com', 'active', "'=cmd", '3'],
      ['bob@example.com', 'active', '', ''],
    ]);
    await admin(web.app).get('/subscribers/export?list=nope').expect(400);
    await admin(web.app).get('/subscribers/export?segment=not-a-uuid').expect(400);

    // The export imports back unchanged.
    await postCsv(res.text).expect(200);
    expect(await attributesOf('ada@example.com')).toEqual({ plan: '=cmd', seats: 3 });
  });
});
