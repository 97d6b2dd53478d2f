import request from 'supertest';
import { beforeEach, describe, expect, it } from 'vitest';
import { admin, seedSubscribers } from '../../../test/support/factories.js';
import { useWebHarness } from '../../../test/support/web.js';

const web = useWebHarness();

beforeEach(async () => {
  await seedSubscribers(web.db, [
    { email: 'ada@example.com', name: 'Ada Lovelace' },
    { email: 'grace@example.com', name: 'Grace Hopper', status: 'pending' },
    { email: 'linus@example.org', name: 'Linus', status: 'unsubscribed' },
    { email: 'percent@example.com', name: '100% Ada' },
    { email: 'under_score@example.com', name: null, status: 'bounced' },
  ]);
});

const emails = (body: { subscribers: { email: string }[] }) => body.subscribers.map((row) => row.email).sort();

describe('GET /subscribers', () => {
  it('lists subscribers without token fields', async () => {
    const res = await admin(web.app).get('/subscribers').expect(200);
    expect(res.body.subscribers).toHaveLength(5);
    expect(res.body.nextCursor).toBeNull();
    expect(Object.keys(res.body.subscribers[0]).sort()).toEqual(
      ['attributes', 'consentAt', 'consentSource', 'confirmedAt', 'createdAt', 'email', 'id', 'name', 'status', 'unsubscribedAt', 'updatedAt'].sort(),
    );
  });

  it('filters by status', async () => {
    expect(emails((await admin(web.app).get('/subscribers?status=pending').expect(200)).body)).toEqual(['grace@example.com']);
    expect(emails((await admin(web.app).get('/subscribers?status=bounced').expect(200)).body)).toEqual(['under_score@example.com']);
  });

  it('searches email and name case-insensitively', async () => {
    expect(emails((await admin(web.app).get('/subscribers?q=ADA').expect(200)).body)).toEqual(['ada@example.com', 'percent@example.com']);
    expect(emails((await admin(web.app).get('/subscribers?q=example.org').expect(200)).body)).toEqual(['linus@example.org']);
    expect(emails((await admin(web.app).get('/subscribers?q=hopper&status=pending').expect(200)).body)).toEqual(['grace@example.com']);
    expect(emails((await admin(web.app).get('/subscribers?q=hopper&status=active').expect(200)).body)).toEqual([]);
  });

  it('takes % and _ in a search literally', async () => {
    expect(emails((await admin(web.app).get('/subscribers?q=%25').expect(200)).body)).toEqual(['percent@example.com']);
    expect(emails((await admin(web.app).get('/subscribers?q=_').expect(200)).body)).toEqual(['under_score@example.com']);
    expect(emails((await admin(web.app).get('/subscribers?q=a%25a').expect(200)).body)).toEqual([]);
  });

  it('pages with a cursor until every subscriber was seen once', async () => {
    const seen: string[] = [];
    let cursor = '';
    for (let pages = 0; pages < 10; pages++) {
      const res = await admin(web.app).get(`/subscribers?limit=2${cursor ? `&cursor=${cursor}` : ''}`).expect(200);
      expect(res.body.subscribers.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.subscribers.map((row: { email: string }) => row.email));
      if (!res.body.nextCursor) break;
      cursor = res.body.nextCursor;
    }
    expect(seen.sort()).toEqual(['ada@example.com', 'grace@example.com', 'linus@example.org', 'percent@example.com', 'under_score@example.com']);
  });

  it('pages within a status filter', async () => {
    const first = await admin(web.app).get('/subscribers?status=active&limit=1').expect(200);
    const second = await admin(web.app).get(`/subscribers?status=active&limit=1&cursor=${first.body.nextCursor}`).expect(200);
    expect([...emails(first.body), ...emails(second.body)].sort()).toEqual(['ada@example.com', 'percent@example.com']);
    expect(second.body.nextCursor).toBeNull();
  });

  it.each([
    ['an unknown status', '?status=gone'],
    ['a limit of 0', '?limit=0'],
    ['a limit over 500', '?limit=501'],
    ['a malformed cursor', '?cursor=abc'],
    ['a repeated status', '?status=active&status=pending'],
  ])('refuses %s with 400', async (_name, query) => {
    const res = await admin(web.app).get(`/subscribers${query}`).expect(400);
    expect(res.body.error.code).toBe('invalid_request');
  });

  it('needs the admin token', async () => {
    await request(web.app).get('/subscribers').expect(401);
  });
});
