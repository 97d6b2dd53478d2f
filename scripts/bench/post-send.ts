/** An audience of active subscribers, and `POST /send` to it timed until the last task id has arrived. */
import type { Db } from '@herald/shared';
import { benchAdminToken } from './bench-web.js';

/**
 * `count` active subscribers, each subscribed to the default list (a campaign's audience when it
 * names none), numbered from `first`: a second call adds to an audience from past the first's end.
 */
export async function seedAudience(db: Db, count: number, first = 1): Promise<void> {
  await db.$executeRaw`
    WITH added AS (
      INSERT INTO subscribers (email, name, status, confirmed_at)
      SELECT 'reader-' || n || '@example.com', 'Reader ' || n, 'active', now()
      FROM generate_series(${first}::int, ${first + count - 1}::int) AS n
      RETURNING id)
    INSERT INTO subscriptions (subscriber_id, list_id, status, consent_source, consent_at, confirmed_at)
    SELECT added.id, lists.id, 'active', 'bench', now(), now() FROM added, lists WHERE lists.is_default`;
  await db.$executeRaw`VACUUM ANALYZE subscribers`.catch(() => undefined);
  await db.$executeRaw`VACUUM ANALYZE subscriptions`.catch(() => undefined);
}

/** The bench's newsletter: Herald sends it through its layout, and so does the bare sender. */
export const benchCampaign = { subject: 'Bench {{name}}', body: '<p>Hello {{name}}</p>' };

/**
 * Sends a campaign to `audience` (by default, every active subscriber of the default list); fails
 * unless the answer is 202 with `count` task ids.
 */
export async function postSend(webUrl: string, count: number, audience: { lists?: string[]; segment?: unknown } = {}): Promise<{ campaignId: string; answerMs: number }> {
  const started = performance.now();
  const res = await fetch(`${webUrl}/send`, {
    method: 'POST',
    headers: { authorization: `Bearer ${benchAdminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ ...benchCampaign, ...audience }),
  });
  const answer = (await res.json()) as { campaignId: string; tasks?: string[] };
  const answerMs = performance.now() - started;
  if (res.status !== 202 || answer.tasks?.length !== count) throw new Error(`POST /send answered ${res.status} with ${answer.tasks?.length} task ids, not ${count}`);
  return { campaignId: answer.campaignId, answerMs };
}
