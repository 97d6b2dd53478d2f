/**
 * Reading a large campaign's report: a sent campaign of `recipients` deliveries with `events` raw
 * SendGrid events, seeded with set-based SQL (generate_series) and counted into the report
 * aggregates by the project's own `npm run reports:rebuild` (scripts/rebuild-reports.ts, run as a
 * process of its own over the bench's database), so the aggregates are exactly what applying those
 * events would have made. Then the real web, built, in a process of its own, is asked over HTTP for
 * `GET /campaigns/:id/report` and for the pages of the people who opened
 * (`GET /campaigns/:id/recipients?event=opened`, 100 a page), from the first page and from one 90%
 * of the way down, each following `nextCursor`; and for the people who clicked as CSV.
 *
 * The mix: delivered for every recipient but every 50th, who bounces; 40% open, 10% click, on
 * four links. What remains of `events` after one delivery event each is 85% opens and 15% clicks,
 * spread over the openers and clickers and over three days of hours.
 */
import { spawnSync } from 'node:child_process';
import pg from 'pg';
import { benchAdminToken, startWebProcess } from './bench-web.js';
import { repoRoot } from './child-processes.js';
import { startPrivateRedis } from './private-redis.js';

export type Timings = { runsMs: number[]; medianMs: number; p95Ms: number };

export type ReportReadResult = {
  recipients: number;
  events: number;
  /** Seeding subscribers, deliveries and events (with VACUUM ANALYZE), then `npm run reports:rebuild` alone. */
  seedSeconds: number;
  rebuildSeconds: number;
  /** Rows the rebuild wrote into the per-recipient aggregates (delivery_event_firsts). */
  firstEvents: number;
  /** GET /campaigns/:id/report, after one warm-up. */
  report: Timings;
  /**
   * Where the report's time goes: the deliveries' count by status that the report reads beside the
   * aggregates (countDeliveries, O(recipients)), its statement run from the bench under EXPLAIN
   * ANALYZE, Postgres's execution time alone, and the scan its plan used. `timingOff`: without
   * per-node timing (results before it was added timed every row, which inflates a long scan).
   */
  deliveryCount?: Timings & { scan: string; timingOff?: boolean };
  /** Recipients who opened, `pageSize` a page: from the first page, and from 90% of the way down. */
  pageEvent: 'opened';
  pageSize: number;
  firstPages: Timings;
  deepPages: Timings;
  /** Every clicker as CSV, to the last byte, and how many rows it held. */
  csvMs: number;
  csvRows: number;
  /** The report's totals equal the seeded mix; otherwise `mismatches` says which. */
  exact: boolean;
  mismatches: string[];
};

/** The project's rebuild, as an operator runs it: `npm run reports:rebuild` with DATABASE_URL. */
function rebuildReports(databaseUrl: string): void {
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/rebuild-reports.ts'], {
    cwd: repoRoot,
    env: { ...process.env, DATABASE_URL: databaseUrl },
    encoding: 'utf8',
  });
  if (run.status !== 0) throw new Error(`npm run reports:rebuild exited with ${run.status}: ${run.stderr}${run.stdout}`);
}

const links = ['https://bench.example.com/a', 'https://bench.example.com/b', 'https://bench.example.com/c', 'https://bench.example.com/d'];
const pageSize = 100;

export function timings(runsMs: number[]): Timings {
  const sorted = [...runsMs].sort((a, b) => a - b);
  const at = (share: number) => sorted[Math.min(sorted.length - 1, Math.ceil(share * sorted.length) - 1)]!;
  return { runsMs, medianMs: at(0.5), p95Ms: at(0.95) };
}

/** The seeded mix in figures: what the report must show. */
function mixOf(recipients: number, events: number) {
  const extra = Math.max(0, events - recipients);
  const clicks = Math.floor(extra * 0.15);
  const opens = extra - clicks;
  // Openers are the recipients n with n % 5 < 2, clickers those with n % 10 = 0 (openers too).
  const openers = Math.floor(recipients / 5) * 2 + Math.min(recipients % 5, 2);
  const clickers = Math.ceil(recipients / 10);
  const bounced = Math.floor((recipients + 1) / 50);
  return { clicks, opens, openers, clickers, bounced, delivered: recipients - bounced };
}

/** Seeds the campaign; returns its id. Triggers are off for the session: the rows are consistent by construction. */
async function seedCampaign(client: pg.Client, recipients: number, events: number): Promise<string> {
  const mix = mixOf(recipients, events);
  await client.query(`SET session_replication_role = replica; SET synchronous_commit = off; SET work_mem = '256MB'; SET maintenance_work_mem = '512MB'`);
  await client.query(
    `INSERT INTO subscribers (email, name, status, confirmed_at)
     SELECT 'reader-' || n || '@example.com', 'Reader ' || n, 'active', now() FROM generate_series(0, $1::int - 1) AS n`,
    [recipients],
  );
  const html = links.map((url, i) => `<p><a href="${url}">Link ${i + 1}</a></p>`).join('');
  const { rows: [campaign] } = await client.query<{ id: string }>(
    `INSERT INTO campaigns (subject, html, status, recipient_count, started_at, finished_at)
     VALUES ('Bench report', $1, 'sent', $2, date_trunc('hour', now()) - interval '3 days', date_trunc('hour', now()) - interval '3 days' + interval '1 hour')
     RETURNING id`,
    [html, recipients],
  );
  const campaignId = campaign!.id;
  await client.query(
    `CREATE TEMP TABLE bench_recipients AS
     SELECT split_part(split_part(email, '@', 1), '-', 2)::int AS n, id AS subscriber_id, email, herald_uuid_v7() AS delivery_id
     FROM subscribers ORDER BY 1`,
  );
  await client.query('CREATE UNIQUE INDEX ON bench_recipients (n)');
  await client.query(
    `INSERT INTO deliveries (id, campaign_id, subscriber_id, status, attempts, provider_message_id, sent_at, created_at, updated_at)
     SELECT r.delivery_id, $1, r.subscriber_id, 'sent', 1, 'seed-' || r.n, c.started_at + r.n * interval '1 hour' / $2::int, c.started_at, c.started_at
     FROM bench_recipients r, campaigns c WHERE c.id = $1 ORDER BY r.n`,
    [campaignId, recipients],
  );
  // One delivery event each (every 50th a bounce), then the opens and clicks spread over 72 hours,
  // all applied already: with triggers off (replica role) none enters email_event_backlog.
  // Each select names the recipient's columns, the event's key, type and time, and what its payload
  // holds beyond what every event's does.
  const insert = (select: string) =>
    `INSERT INTO email_events (dedupe_key, type, occurred_at, delivery_id, subscriber_id, payload, created_at)
     SELECT e.key, e.type, e.at, e.delivery_id, e.subscriber_id,
            jsonb_build_object('event', e.type, 'email', e.email, 'timestamp', extract(epoch FROM e.at)::bigint, 'sg_event_id', e.key,
                               'sg_message_id', 'seed-' || e.n, 'herald_delivery_id', e.delivery_id) || e.extra,
            e.at
     FROM (${select}) e`;
  await client.query(
    insert(`SELECT r.*, 'seed-d-' || r.n AS key, t.type, t.at,
              CASE WHEN t.type = 'bounce' THEN jsonb_build_object('type', 'bounce', 'reason', '550 5.1.1 No such user') ELSE '{}'::jsonb END AS extra
            FROM bench_recipients r, campaigns c,
              LATERAL (SELECT CASE WHEN r.n % 50 = 49 THEN 'bounce' ELSE 'delivered' END AS type,
                              c.started_at + r.n * interval '1 hour' / $2::int + interval '5 seconds' AS at) t
            WHERE c.id = $1`),
    [campaignId, recipients],
  );
  const spread = `c.started_at + interval '1 hour' + ((i::bigint * 7919) % 255600) * interval '1 second'`;
  await client.query(
    insert(`SELECT r.*, 'seed-o-' || i AS key, 'open' AS type, ${spread} AS at, '{}'::jsonb AS extra
            FROM generate_series(0, $2::int - 1) AS i
            JOIN bench_recipients r ON r.n = ((i % $3::int) / 2) * 5 + (i % $3::int) % 2, campaigns c WHERE c.id = $1`),
    [campaignId, mix.opens, mix.openers],
  );
  await client.query(
    insert(`SELECT r.*, 'seed-c-' || i AS key, 'click' AS type, ${spread} AS at,
              jsonb_build_object('url', ($4::text[])[1 + ((i / $3::int) + (i % $3::int)) % 4]) AS extra
            FROM generate_series(0, $2::int - 1) AS i
            JOIN bench_recipients r ON r.n = (i % $3::int) * 10, campaigns c WHERE c.id = $1`),
    [campaignId, mix.clicks, mix.clickers, links],
  );
  await client.query(`UPDATE subscribers s SET status = 'bounced' FROM bench_recipients r WHERE r.subscriber_id = s.id AND r.n % 50 = 49`);
  await client.query('DROP TABLE bench_recipients; RESET session_replication_role');
  return campaignId;
}

async function timeGet(url: string, read: (res: Response) => Promise<unknown> = (res) => res.json()): Promise<{ ms: number; body: unknown }> {
  const started = performance.now();
  const res = await fetch(url, { headers: { authorization: `Bearer ${benchAdminToken}` } });
  if (res.status !== 200) throw new Error(`GET ${url} answered ${res.status}: ${await res.text()}`);
  const body = await read(res);
  return { ms: performance.now() - started, body };
}

type Page = { recipients: unknown[]; nextCursor: string | null };

type PlanNode = { 'Node Type': string; 'Index Name'?: string; Plans?: PlanNode[] };

/** The scans of a plan, as `Index Only Scan on <index>`. */
function scanOf(node: PlanNode): string {
  const own = node['Node Type'].includes('Scan') ? [`${node['Node Type']}${node['Index Name'] ? ` on ${node['Index Name']}` : ''}`] : [];
  return [...own, ...(node.Plans ?? []).map(scanOf).filter(Boolean)].join(', ');
}

/** `count` consecutive pages of openers from `cursor` (the first page without one), each timed. */
async function timePages(base: string, count: number, cursor: string | null): Promise<number[]> {
  const runs: number[] = [];
  let next = cursor;
  for (let i = 0; i < count; i += 1) {
    const { ms, body } = await timeGet(`${base}&limit=${pageSize}${next ? `&cursor=${encodeURIComponent(next)}` : ''}`);
    runs.push(ms);
    next = (body as Page).nextCursor;
    if (!next) break;
  }
  return runs;
}

export async function measureReportReads(recipients: number, events: number, requests = 20): Promise<ReportReadResult> {
  const redis = await startPrivateRedis();
  const web = await startWebProcess(`herald_bench_reports_${process.pid}`, { REDIS_URL: redis.url, QUEUE_PREFIX: `reports-${Date.now()}` });
  const client = new pg.Client({ connectionString: web.databaseUrl });
  await client.connect();
  try {
    const seedStarted = performance.now();
    const campaignId = await seedCampaign(client, recipients, events);
    // What autovacuum would have done by the time anyone reads a campaign sent three days ago.
    const vacuum = async (tables: string[]) => {
      for (const table of tables) await client.query(`VACUUM ANALYZE ${table}`);
    };
    await vacuum(['subscribers', 'deliveries', 'email_events']);
    const rebuildStarted = performance.now();
    rebuildReports(web.databaseUrl);
    const rebuildSeconds = (performance.now() - rebuildStarted) / 1000;
    await vacuum(['campaign_event_hours', 'delivery_event_firsts', 'campaign_link_clicks', 'delivery_link_clicks']);
    const seedSeconds = (performance.now() - seedStarted) / 1000 - rebuildSeconds;
    const { rows: [counted] } = await client.query<{ events: number; firsts: number }>(
      'SELECT (SELECT count(*) FROM email_events)::int AS events, (SELECT count(*) FROM delivery_event_firsts)::int AS firsts',
    );

    const reportUrl = `${web.url}/campaigns/${campaignId}/report`;
    const { body } = await timeGet(reportUrl);
    const reportRuns: number[] = [];
    for (let i = 0; i < requests; i += 1) reportRuns.push((await timeGet(reportUrl)).ms);

    const countRuns: number[] = [];
    let scan = '';
    for (let i = 0; i < 5; i += 1) {
      // The statement of countDeliveries (apps/web/src/campaigns/campaign-queries.ts).
      const { rows: [explained] } = await client.query<{ 'QUERY PLAN': [{ 'Execution Time': number; Plan: PlanNode }] }>(
        `EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) SELECT status::text AS status, count(*)::int AS count FROM deliveries WHERE campaign_id = $1::uuid GROUP BY status`,
        [campaignId],
      );
      const [plan] = explained!['QUERY PLAN'];
      countRuns.push(plan['Execution Time']);
      scan = scanOf(plan.Plan);
    }

    const openers = `${web.url}/campaigns/${campaignId}/recipients?event=opened`;
    await timeGet(`${openers}&limit=${pageSize}`);
    const firstPages = await timePages(openers, requests, null);
    const mix = mixOf(recipients, events);
    const { rows: [deep] } = await client.query<{ cursor: string }>(
      `SELECT to_char(first_at, 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') || '_' || delivery_id AS cursor FROM delivery_event_firsts
       WHERE campaign_id = $1 AND kind = 'opened' ORDER BY first_at, delivery_id OFFSET $2 LIMIT 1`,
      [campaignId, Math.floor(Math.min(mix.opens, mix.openers) * 0.9)],
    );
    const deepPages = deep ? await timePages(openers, requests, deep.cursor) : [];
    const clickers = `${web.url}/campaigns/${campaignId}/recipients?event=clicked`;
    const csv = await timeGet(`${clickers}&format=csv`, (res) => res.text());

    const totals = (body as { totals: Record<string, number> }).totals;
    const mismatches: string[] = [];
    const expect = (what: string, got: number | undefined, want: number) => {
      if (got !== want) mismatches.push(`${what}: ${got}, seeded ${want}`);
    };
    expect('events stored', counted!.events, recipients + mix.opens + mix.clicks);
    expect('first events (delivery_event_firsts rows)', counted!.firsts, recipients + Math.min(mix.opens, mix.openers) + Math.min(mix.clicks, mix.clickers));
    expect('sent', totals.sent, recipients);
    expect('delivered', totals.delivered, mix.delivered);
    expect('bounced', totals.bounced, mix.bounced);
    expect('opened', totals.opened, mix.opens);
    expect('uniqueOpened', totals.uniqueOpened, Math.min(mix.opens, mix.openers));
    expect('clicked', totals.clicked, mix.clicks);
    expect('uniqueClicked', totals.uniqueClicked, Math.min(mix.clicks, mix.clickers));
    const csvRows = (csv.body as string).trimEnd().split('\n').length - 1;
    expect('rows of the clickers CSV', csvRows, Math.min(mix.clicks, mix.clickers));
    return {
      recipients,
      events: counted!.events,
      seedSeconds,
      rebuildSeconds,
      firstEvents: counted!.firsts,
      report: timings(reportRuns),
      deliveryCount: { ...timings(countRuns), scan, timingOff: true },
      pageEvent: 'opened',
      pageSize,
      firstPages: timings(firstPages),
      deepPages: timings(deepPages),
      csvMs: csv.ms,
      csvRows,
      exact: mismatches.length === 0,
      mismatches,
    };
  } finally {
    await client.end();
    await web.close();
    await redis.close();
  }
}
