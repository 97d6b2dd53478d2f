/**
 * How long a saved segment's live count takes over a large audience: `GET /segments/:id/count`
 * for a rule on an attribute (plan = pro, a fifth of everyone), the median of three, through the
 * real web app over a scratch database; and the plan Postgres chose, with the index it used.
 * Alone: `tsx --conditions=herald-source scripts/bench/segment-count.ts [subscribers]`.
 */
import { fileURLToPath } from 'node:url';
import type { Db } from '@herald/shared';
import { segmentPredicate } from '@herald/shared';
import { benchAdminToken, startBenchWeb } from './bench-web.js';

export type SegmentCountResult = { subscribers: number; count: number; medianMs: number; runsMs: number[]; indexes: string[]; plan: string };

const rules = { attribute: 'plan', op: 'eq', value: 'pro' };

/** `count` active subscribers with a plan (every fifth pro) and a country, as an operator's CRM would set. */
async function seedAttributedAudience(db: Db, count: number): Promise<void> {
  await db.$executeRaw`
    INSERT INTO subscribers (email, name, status, consent_at, consent_source, attributes)
    SELECT 'reader-' || n || '@example.com', 'Reader ' || n, 'active', now(), 'bench',
           jsonb_build_object('plan', CASE WHEN n % 5 = 0 THEN 'pro' ELSE 'free' END,
                              'country', (ARRAY['FR', 'DE', 'US', 'GB', 'ES', 'IT', 'NL', 'SE'])[1 + n % 8])
    FROM generate_series(1, ${count}::int) AS n`;
  await db.$executeRaw`VACUUM ANALYZE subscribers`.catch(() => undefined);
}

async function request(url: string, init: RequestInit = {}): Promise<unknown> {
  const res = await fetch(url, { ...init, headers: { authorization: `Bearer ${benchAdminToken}`, 'content-type': 'application/json' } });
  if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${url} answered ${res.status}: ${await res.text()}`);
  return res.json();
}

export async function measureSegmentCount(subscribers: number): Promise<SegmentCountResult> {
  const web = await startBenchWeb(`herald_bench_segments_${process.pid}`);
  try {
    await seedAttributedAudience(web.db, subscribers);
    const segment = (await request(`${web.url}/segments`, { method: 'POST', body: JSON.stringify({ name: 'Pro plan', rules }) })) as { id: string };
    const runsMs: number[] = [];
    let count = 0;
    for (let run = 0; run < 3; run++) {
      const started = performance.now();
      count = ((await request(`${web.url}/segments/${segment.id}/count`)) as { count: number }).count;
      runsMs.push(Math.round(performance.now() - started));
    }
    const predicate = await segmentPredicate(web.db, rules);
    const lines = await web.db.$queryRaw<{ 'QUERY PLAN': string }[]>`
      EXPLAIN SELECT count(*) FROM subscribers s WHERE s.status = 'active' AND ${predicate}`;
    const plan = lines.map((line) => line['QUERY PLAN']).join('\n');
    const indexes = [...new Set([...plan.matchAll(/on (\w+_idx|\w+_pkey)/g)].map((match) => match[1]!))];
    return { subscribers, count, medianMs: [...runsMs].sort((a, b) => a - b)[1]!, runsMs, indexes, plan };
  } finally {
    await web.close();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const subscribers = Number(process.argv[2] ?? 1_000_000);
  const result = await measureSegmentCount(subscribers);
  console.log(JSON.stringify(result, null, 2));
  process.exit(0);
}
