import request from 'supertest';
import { beforeEach, describe, expect, it } from 'vitest';
import { adminToken, useWebHarness } from '../../../test/support/web.js';
import { bootstrapTokenActor } from '../src/team/actor.js';
import { createApiToken } from '../src/team/api-tokens.js';
import { forgetAuditedSubscriber, recordAudit } from '../src/team/audit.js';
import type { AuditAction, AuditEntryInput } from '../src/team/audit.js';
import { encodeAuditCursor } from '../src/team/audit-queries.js';
import { hashPassword } from '../src/team/passwords.js';
import type { Role } from '../src/team/roles.js';

const web = useWebHarness();

const get = (query: string, token = adminToken) => request(web.app).get(`/audit${query}`).set('Authorization', `Bearer ${token}`);

async function makeUser(email: string, role: Role) {
  return web.db.user.create({ data: { email, role, passwordHash: await hashPassword('a long enough password') } });
}

let ada: { id: string; email: string };

beforeEach(async () => {
  ada = await makeUser('ada@example.com', 'owner');
});

type SeededEntry = { action: AuditAction; actor?: AuditEntryInput['actor']; target?: { type: 'campaign' | 'subscriber'; id: string; label: string } };

/** Entries as the routes write them, in order (ADMIN_TOKEN unless an actor is given). */
async function seed(entries: SeededEntry[]) {
  for (const entry of entries) {
    await recordAudit(web.db, { actor: entry.actor ?? bootstrapTokenActor, action: entry.action, target: entry.target, address: '203.0.113.9', details: { n: 1 } });
  }
}

describe('GET /audit', () => {
  it('answers entries newest first with their actor, target and address', async () => {
    await seed([
      { action: 'campaign.created', actor: { userId: ada.id, label: ada.email }, target: { type: 'campaign', id: '11111111-1111-4111-8111-111111111111', label: 'December news' } },
      { action: 'login.failed', actor: { userId: null, label: 'mallory@example.com' } },
    ]);
    const res = await get('').expect(200);
    expect(res.body.nextCursor).toBeNull();
    expect(res.body.entries).toHaveLength(2);
    expect(res.body.entries[0]).toMatchObject({ action: 'login.failed', actor: 'mallory@example.com', actorUserId: null, target: null, address: '203.0.113.9' });
    expect(res.body.entries[1]).toMatchObject({
      action: 'campaign.created',
      actor: 'ada@example.com',
      actorUserId: ada.id,
      target: { type: 'campaign', id: '11111111-1111-4111-8111-111111111111', label: 'December news' },
      details: { n: 1 },
    });
    expect(Number(res.body.entries[0].id)).toBeGreaterThan(Number(res.body.entries[1].id));
  });

  it('filters by actor (email in any case, token requests included, or user id), action and time', async () => {
    const grace = await makeUser('grace@example.com', 'admin');
    const { row } = await createApiToken(web.db, ada.id, { name: 'ci', role: 'owner' });
    await seed([
      { action: 'campaign.created', actor: { userId: ada.id, label: ada.email } },
      { action: 'campaign.started', actor: { userId: ada.id, tokenId: row.id, label: `${ada.email} (token ci)`, role: 'owner' } },
      { action: 'campaign.created', actor: { userId: grace.id, label: grace.email } },
      { action: 'login.failed', actor: { userId: null, label: 'ADA@example.com' } },
    ]);
    const actions = (body: { entries: { action: string; actor: string }[] }) => body.entries.map((e) => `${e.action} ${e.actor}`);
    expect(actions((await get('?actor=Ada@Example.com').expect(200)).body)).toEqual([
      'login.failed ADA@example.com',
      'campaign.started ada@example.com (token ci)',
      'campaign.created ada@example.com',
    ]);
    expect(actions((await get(`?actor=${grace.id}`).expect(200)).body)).toEqual(['campaign.created grace@example.com']);
    expect(actions((await get('?action=campaign.created').expect(200)).body)).toEqual(['campaign.created grace@example.com', 'campaign.created ada@example.com']);
    expect(actions((await get(`?action=campaign.created&actor=${encodeURIComponent(ada.email)}`).expect(200)).body)).toEqual(['campaign.created ada@example.com']);
    expect((await get('?actor=nobody@example.com').expect(200)).body.entries).toEqual([]);

    // Entries are never changed, so the trigger is set aside to move two of them in time.
    await web.db.$executeRaw`ALTER TABLE audit_entries DISABLE TRIGGER audit_entries_append_only`;
    await web.db.$executeRaw`UPDATE audit_entries SET at = '2026-11-01T12:00:00Z' WHERE action = 'login.failed'`;
    await web.db.$executeRaw`UPDATE audit_entries SET at = '2026-11-03T12:00:00Z' WHERE action = 'campaign.started'`;
    await web.db.$executeRaw`ALTER TABLE audit_entries ENABLE TRIGGER audit_entries_append_only`;
    expect(actions((await get('?from=2026-11-01&to=2026-11-01').expect(200)).body)).toEqual(['login.failed ADA@example.com']);
    expect(actions((await get('?from=2026-11-02T00:00:00Z&to=2026-11-04').expect(200)).body)).toEqual(['campaign.started ada@example.com (token ci)']);
    expect(actions((await get('?to=2026-11-02T00:00:00%2B01:00').expect(200)).body)).toEqual(['login.failed ADA@example.com']);
  });

  it('pages through the log with the cursor, each entry once', async () => {
    await seed(Array.from({ length: 5 }, () => ({ action: 'subscriber.added' as const })));
    const all = (await get('').expect(200)).body.entries.map((e: { id: string }) => e.id);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: request.Response = await get(`?limit=2${cursor ? `&cursor=${cursor}` : ''}`).expect(200);
      seen.push(...res.body.entries.map((e: { id: string }) => e.id));
      cursor = res.body.nextCursor;
      pages += 1;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual(all);
    // Filters apply across pages too.
    await seed([{ action: 'subscriber.erased' }]);
    const first = await get('?action=subscriber.added&limit=4').expect(200);
    const second = await get(`?action=subscriber.added&limit=4&cursor=${first.body.nextCursor}`).expect(200);
    expect(second.body).toEqual({ entries: [expect.objectContaining({ id: all[4] })], nextCursor: null });
  });

  it('answers bad parameters with 422 naming the parameter', async () => {
    const cases: [string, string][] = [
      ['?action=campaign.deleted', 'action'],
      ['?action=campaign.created&action=campaign.started', 'action'],
      ['?cursor=garbage!', 'cursor'],
      ['?cursor=bm90LWEtY3Vyc29y', 'cursor'],
      [`?cursor=${Buffer.from('audit:99999999999999999999').toString('base64url')}`, 'cursor'],
      [`?cursor=${'A'.repeat(500)}`, 'cursor'],
      ['?limit=0', 'limit'],
      ['?limit=201', 'limit'],
      ['?limit=ten', 'limit'],
      ['?from=yesterday', 'from'],
      ['?to=2026-02-30', 'to'],
      ['?from=2026-12-02&to=2026-12-01', 'to'],
      ['?actor=', 'actor'],
      ['?sort=asc', 'sort'],
    ];
    for (const [query, field] of cases) {
      const res = await get(query);
      expect(res.status, query).toBe(422);
      expect(res.body.error.code).toBe('invalid_request');
      expect(res.body.error.fields, query).toHaveProperty(field);
    }
    // A cursor of this log works even past the last entry.
    await get(`?cursor=${encodeAuditCursor(1n)}`).expect(200);
  });

  it('is refused to editors and viewers', async () => {
    for (const role of ['editor', 'viewer'] as const) {
      const user = await makeUser(`${role}@example.com`, role);
      const { token } = await createApiToken(web.db, user.id, { name: 'mine', role });
      const res = await get('', token).expect(403);
      expect(res.body.error.code).toBe('forbidden');
    }
    const admin = await makeUser('admin@example.com', 'admin');
    await get('', (await createApiToken(web.db, admin.id, { name: 'mine', role: 'admin' })).token).expect(200);
  });
});

describe('the audit table', () => {
  it('refuses UPDATE and DELETE in SQL, but lets an erasure clear the label and details', async () => {
    const subscriberId = '22222222-2222-4222-8222-222222222222';
    await seed([{ action: 'subscriber.added', target: { type: 'subscriber', id: subscriberId, label: 'ada@example.org' } }]);
    await expect(web.db.$executeRaw`UPDATE audit_entries SET action = 'subscriber.edited'`).rejects.toThrow(/herald_audit_append_only/);
    await expect(web.db.$executeRaw`UPDATE audit_entries SET actor = 'someone else'`).rejects.toThrow(/herald_audit_append_only/);
    await expect(web.db.$executeRaw`UPDATE audit_entries SET target_label = 'changed'`).rejects.toThrow(/herald_audit_append_only/);
    await expect(web.db.$executeRaw`UPDATE audit_entries SET target_label = NULL, details = '{}', address = NULL`).rejects.toThrow(/herald_audit_append_only/);
    await expect(web.db.$executeRaw`DELETE FROM audit_entries`).rejects.toThrow(/herald_audit_append_only/);
    expect(await web.db.auditEntry.findFirstOrThrow()).toMatchObject({ action: 'subscriber.added', targetLabel: 'ada@example.org', details: { n: 1 } });

    await forgetAuditedSubscriber(web.db, subscriberId);
    const [entry] = (await get('').expect(200)).body.entries;
    expect(entry).toMatchObject({ action: 'subscriber.added', target: { type: 'subscriber', id: subscriberId, label: null }, details: {}, address: '203.0.113.9' });
  });
});
