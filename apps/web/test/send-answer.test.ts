import { describe, expect, it } from 'vitest';
import { sendAnswerChunks } from '../src/campaigns/campaign-view.js';
import { campaignBody, postSend, seedAudience, seedSubscribers } from '../../../test/support/factories.js';
import { useWebHarness } from '../../../test/support/web.js';

const web = useWebHarness();

const uuidV7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

async function deliveryIds(campaignId: string): Promise<string[]> {
  const rows = await web.db.delivery.findMany({ where: { campaignId }, select: { id: true }, orderBy: { id: 'asc' } });
  return rows.map((row) => row.id);
}

describe('POST /send with a large audience', () => {
  it('answers with exactly every delivery id, once, as Postgres holds them, and so does its replay', async () => {
    const audience = 20_000;
    await seedAudience(web.db, audience);
    await seedSubscribers(web.db, [
      { email: 'left@example.com', status: 'unsubscribed' },
      { email: 'unconfirmed@example.com', status: 'pending' },
    ]);

    const first = await postSend(web.app, campaignBody, { 'Idempotency-Key': 'large-audience' }).expect(202);
    const tasks = first.body.tasks as string[];
    expect(first.body.recipients).toBe(audience);
    expect(first.body.campaignId).toMatch(uuidV7);
    expect(tasks).toHaveLength(audience);
    expect(new Set(tasks).size).toBe(audience);
    const stored = await deliveryIds(first.body.campaignId);
    expect(stored).toHaveLength(audience);
    // In id order, which is also the order the snapshot wrote them in.
    expect(tasks).toEqual(stored);
    for (const id of tasks) expect(id).toMatch(uuidV7);

    const replay = await postSend(web.app, campaignBody, { 'Idempotency-Key': 'large-audience' }).expect(202);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body).toEqual(first.body);

    // A second snapshot of the same audience gets ids of its own.
    const second = await postSend(web.app, { ...campaignBody, subject: 'Issue 2' }).expect(202);
    expect(second.body.tasks).toEqual(await deliveryIds(second.body.campaignId));
    expect((second.body.tasks as string[]).filter((id) => tasks.includes(id))).toEqual([]);
  }, 60_000);
});

describe('sendAnswerChunks', () => {
  const ids = ['0190e2a8-0000-7000-8000-000000000001', '0190e2a8-0000-7000-8000-000000000002', '0190e2a8-0000-7000-8000-000000000003'];
  const list = ids.map((id) => `"${id}"`).join(',');
  const head = { campaignId: 'c', recipients: 3 };

  it.each([1, 2, 3, 10])('writes every id, %i per chunk, as one JSON answer', (pageSize) => {
    const chunks = [...sendAnswerChunks(head, list, pageSize)];
    expect(chunks).toHaveLength(2 + Math.ceil(ids.length / pageSize));
    expect(JSON.parse(chunks.join(''))).toEqual({ ...head, tasks: ids });
  });

  it('writes an empty list as no tasks', () => {
    expect(JSON.parse([...sendAnswerChunks(head, '')].join(''))).toEqual({ ...head, tasks: [] });
  });
});
