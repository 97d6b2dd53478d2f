import { parse } from 'csv-parse/sync';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { truncateAll } from '../../../test/support/database.js';
import { admin, postSend, seedAudience, seedSubscribers } from '../../../test/support/factories.js';
import { useWebHarness } from '../../../test/support/web.js';

const web = useWebHarness();

const columns = ['email', 'name', 'status', 'consent_at', 'consent_source', 'confirmed_at', 'unsubscribed_at', 'created_at'];

async function exportCsv(query = '') {
  const res = await admin(web.app).get(`/subscribers/export${query}`).buffer(true).parse((response, done) => {
    let text = '';
    response.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    response.on('end', () => done(null, text));
  });
  return { res, text: res.body as string, records: parse(res.body as string, { columns: true }) as Record<string, string>[] };
}

describe('GET /subscribers/export', () => {
  it('streams every subscriber as CSV that parses back to the same rows', async () => {
    await seedSubscribers(web.db, [
      { email: 'ada@example.com', name: 'Lovelace, Ada' },
      { email: 'quote@example.com', name: 'Dwayne "The Rock" Johnson', status: 'pending' },
      { email: 'nameless@example.com', name: null, status: 'unsubscribed' },
      { email: 'accents@example.com', name: 'Zoë Ångström' },
    ]);
    await web.db.subscriber.update({ where: { email: 'nameless@example.com' }, data: { unsubscribedAt: new Date('2026-01-02T03:04:05.678Z') } });

    const { res, text, records } = await exportCsv();
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.headers['content-disposition']).toMatch(/^attachment; filename="subscribers-\d{4}-\d{2}-\d{2}\.csv"$/);
    expect(text.split('\n')[0]).toBe(columns.join(','));

    const rows = await web.db.subscriber.findMany({ orderBy: { id: 'asc' } });
    const iso = (date: Date | null) => date?.toISOString() ?? '';
    expect(records).toEqual(
      rows.map((row) => ({
        email: row.email,
        name: row.name ?? '',
        status: row.status,
        consent_at: iso(row.consentAt),
        consent_source: row.consentSource ?? '',
        confirmed_at: iso(row.confirmedAt),
        unsubscribed_at: iso(row.unsubscribedAt),
        created_at: iso(row.createdAt),
      })),
    );
    expect(records.find((record) => record.email === 'nameless@example.com')?.unsubscribed_at).toBe('2026-01-02T03:04:05.678Z');
  });

  it('pages through more rows than one page holds, each exactly once', async () => {
    await seedAudience(web.db, 12_345);
    const { records } = await exportCsv();
    expect(records).toHaveLength(12_345);
    expect(new Set(records.map((record) => record.email)).size).toBe(12_345);
  });

  it('filters by status and refuses an unknown one', async () => {
    await seedSubscribers(web.db, [
      { email: 'a@example.com', status: 'active' },
      { email: 'p@example.com', status: 'pending' },
    ]);
    expect((await exportCsv('?status=pending')).records.map((record) => record.email)).toEqual(['p@example.com']);
    await admin(web.app).get('/subscribers/export?status=gone').expect(400);
  });

  it('neutralises spreadsheet formulas in names, and an import of the export restores them', async () => {
    await seedSubscribers(web.db, [
      { email: 'formula@example.com', name: '=HYPERLINK("http://evil.test","click")' },
      { email: 'plain@example.com', name: 'Plain, Name' },
    ]);
    const { text, records } = await exportCsv();
    expect(records.find((record) => record.email === 'formula@example.com')?.name).toBe('\'=HYPERLINK("http://evil.test","click")');

    const before = await web.db.subscriber.findMany({ select: { email: true, name: true }, orderBy: { email: 'asc' } });
    await truncateAll(web.db);
    const imported = await admin(web.app).post('/subscribers/import?consent=confirmed').set('Content-Type', 'text/csv').send(Buffer.from(text)).expect(200);
    expect(imported.body).toMatchObject({ imported: 2, invalidCount: 0 });
    expect(await web.db.subscriber.findMany({ select: { email: true, name: true }, orderBy: { email: 'asc' } })).toEqual(before);
  });

  it('needs the admin token', async () => {
    await request(web.app).get('/subscribers/export').expect(401);
  });
});

describe('GET /subscribers/:id/export', () => {
  it('returns everything held about the person, without tokens', async () => {
    const [ada] = await seedSubscribers(web.db, [{ email: 'ada@example.com', name: 'Ada' }, { email: 'bob@example.com' }]);
    await web.db.subscriber.update({
      where: { id: ada!.id },
      data: { confirmTokenHash: 'f'.repeat(64), confirmTokenExpiresAt: new Date(), attributes: { plan: 'pro', seats: 3 } },
    });
    const sent = await postSend(web.app, { subject: 'Issue 1', body: '<p>Hi</p>' }).expect(202);
    const delivery = await web.db.delivery.findFirstOrThrow({ where: { subscriberId: ada!.id } });
    await web.db.delivery.update({ where: { id: delivery.id }, data: { status: 'sent', sentAt: new Date(), attempts: 1 } });
    const occurredAt = new Date('2026-03-01T10:00:00.000Z');
    await web.db.emailEvent.create({
      data: {
        dedupeKey: 'evt-1',
        type: 'open',
        occurredAt,
        deliveryId: delivery.id,
        subscriberId: ada!.id,
        payload: { event: 'open', email: 'ada@example.com', ip: '203.0.113.9' },
      },
    });

    const res = await admin(web.app).get(`/subscribers/${ada!.id}/export`).expect(200);
    expect(res.headers['content-disposition']).toBe(`attachment; filename="subscriber-${ada!.id}.json"`);
    expect(res.body.subscriber).toMatchObject({ id: ada!.id, email: 'ada@example.com', name: 'Ada', status: 'active', consentSource: 'test' });
    expect(Object.keys(res.body.subscriber).filter((key) => /token/i.test(key))).toEqual([]);
    expect(JSON.stringify(res.body)).not.toContain(ada!.unsubscribeToken);
    expect(JSON.stringify(res.body)).not.toContain('f'.repeat(64));
    expect(res.body.deliveries).toEqual([
      expect.objectContaining({ id: delivery.id, campaignId: sent.body.campaignId, subject: 'Issue 1', status: 'sent', attempts: 1 }),
    ]);
    expect(res.body.deliveries[0].sentAt).toEqual(expect.any(String));
    expect(res.body.events).toEqual([
      { type: 'open', occurredAt: occurredAt.toISOString(), payload: { event: 'open', email: 'ada@example.com', ip: '203.0.113.9' } },
    ]);
    expect(JSON.stringify(res.body)).not.toContain('bob@example.com');
    expect(res.body.subscriber.attributes).toEqual({ plan: 'pro', seats: 3 });
    expect(res.body.subscriptions).toEqual([
      expect.objectContaining({ list: { name: 'Newsletter', slug: 'newsletter' }, status: 'active', consentSource: 'test', consentAt: expect.any(String), confirmedAt: expect.any(String), unsubscribedAt: null }),
    ]);
  });

  it('answers 404 for an unknown or malformed id', async () => {
    await admin(web.app).get('/subscribers/00000000-0000-4000-8000-000000000000/export').expect(404);
    await admin(web.app).get('/subscribers/not-a-uuid/export').expect(404);
  });
});
