/**
 * Measures how long POST /send takes to answer for a large audience: the campaign, one delivery per
 * subscriber and the full streamed list of task ids. Runs the real web app over HTTP against a
 * scratch database. Usage: npm run measure:send [-- recipients runs]
 */
import { benchAdminToken, startBenchWeb } from './bench-web.js';

const recipients = Number(process.argv[2] ?? 100_000);
const runs = Number(process.argv[3] ?? 5);
const web = await startBenchWeb('herald_bench_send');
const { db, url } = web;
const token = benchAdminToken;

await db.$executeRaw`
  INSERT INTO subscribers (email, name, status) SELECT 'reader-' || n || '@example.com', 'Reader ' || n, 'active'
  FROM generate_series(1, ${recipients}::int) AS n`;
await db.$executeRaw`VACUUM ANALYZE subscribers`.catch(() => undefined);

const timings: number[] = [];
for (let run = 0; run < runs; run++) {
  const started = performance.now();
  const res = await fetch(`${url}/send`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ subject: 'Bench', body: '<p>Hello {{name}}</p>' }),
  });
  const body = (await res.json()) as { tasks: string[] };
  const elapsed = performance.now() - started;
  if (res.status !== 202 || body.tasks.length !== recipients) throw new Error(`unexpected answer ${res.status} with ${body.tasks.length} tasks`);
  timings.push(elapsed);
  console.log(`run ${run + 1}: ${recipients} recipients answered in ${elapsed.toFixed(0)} ms`);
}
const sorted = [...timings].sort((a, b) => a - b);
console.log(`median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(0)} ms, worst ${sorted.at(-1)!.toFixed(0)} ms over ${runs} runs`);

await web.close();
