/**
 * How much an audience costs `POST /send`: the answer with every task id for two overlapping lists
 * narrowed by a segment on an attribute, against the single-audience send (the default list) of the
 * same number of recipients, each over a scratch database of its own, one after the other in this run.
 *
 * The lists: `subscribers` people; list A holds the first half, list B the half that starts at a
 * quarter, so a quarter of everyone is on both and a quarter on neither; four in five are on the pro
 * plan and the segment keeps those. The audience is (A ∪ B) ∩ pro: 3/4 × 4/5 of everyone.
 * Alone: `tsx --conditions=herald-source scripts/bench/send-audience-answer.ts [subscribers]`.
 */
import { fileURLToPath } from 'node:url';
import type { Db } from '@herald/shared';
import { benchAdminToken, startBenchWeb } from './bench-web.js';
import { postSend, seedAudience } from './post-send.js';

export type SendAudienceResult = {
  subscribers: number;
  recipients: number;
  /** Two overlapping lists and a segment. */
  audienceAnswerMs: number;
  /** The default list, the same number of recipients. */
  singleAnswerMs: number;
  ratio: number;
};

const segment = { attribute: 'plan', op: 'eq', value: 'pro' };

async function createList(webUrl: string, slug: string): Promise<void> {
  const res = await fetch(`${webUrl}/lists`, {
    method: 'POST',
    headers: { authorization: `Bearer ${benchAdminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: `List ${slug}`, slug, visibility: 'public' }),
  });
  if (res.status !== 201) throw new Error(`POST /lists answered ${res.status}: ${await res.text()}`);
}

/** Everyone with a plan; the first half on list a, from a quarter to three quarters on list b. */
async function seedListsAudience(db: Db, count: number): Promise<void> {
  await db.$executeRaw`
    INSERT INTO subscribers (email, name, status, confirmed_at, attributes)
    SELECT 'reader-' || n || '@example.com', 'Reader ' || n, 'active', now(),
           jsonb_build_object('plan', CASE WHEN n % 5 = 0 THEN 'free' ELSE 'pro' END)
    FROM generate_series(1, ${count}::int) AS n`;
  await db.$executeRaw`
    INSERT INTO subscriptions (subscriber_id, list_id, status, consent_source, consent_at, confirmed_at)
    SELECT s.id, l.id, 'active', 'bench', now(), now()
    FROM (SELECT id, substring(email FROM 'reader-([0-9]+)@')::int AS n FROM subscribers) s
    JOIN lists l ON (l.slug = 'a' AND s.n <= ${count / 2}) OR (l.slug = 'b' AND s.n > ${count / 4} AND s.n <= ${(count * 3) / 4})`;
  await db.$executeRaw`VACUUM ANALYZE subscribers`.catch(() => undefined);
  await db.$executeRaw`VACUUM ANALYZE subscriptions`.catch(() => undefined);
}

async function audienceAnswer(subscribers: number, recipients: number): Promise<number> {
  const web = await startBenchWeb(`herald_bench_audience_${process.pid}`);
  try {
    await createList(web.url, 'a');
    await createList(web.url, 'b');
    await seedListsAudience(web.db, subscribers);
    return (await postSend(web.url, recipients, { lists: ['a', 'b'], segment })).answerMs;
  } finally {
    await web.close();
  }
}

async function singleAnswer(recipients: number): Promise<number> {
  const web = await startBenchWeb(`herald_bench_audience_${process.pid}`);
  try {
    await seedAudience(web.db, recipients);
    return (await postSend(web.url, recipients)).answerMs;
  } finally {
    await web.close();
  }
}

export async function measureSendAudienceAnswer(subscribers: number): Promise<SendAudienceResult> {
  if (subscribers % 20 !== 0) throw new Error(`the audience's fractions need a multiple of 20 subscribers, not ${subscribers}`);
  const recipients = (subscribers * 3) / 5;
  const audienceAnswerMs = await audienceAnswer(subscribers, recipients);
  const singleAnswerMs = await singleAnswer(recipients);
  return { subscribers, recipients, audienceAnswerMs, singleAnswerMs, ratio: audienceAnswerMs / singleAnswerMs };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const result = await measureSendAudienceAnswer(Number(process.argv[2] ?? 1_000_000));
  console.log(JSON.stringify(result, null, 2));
  process.exit(0);
}
