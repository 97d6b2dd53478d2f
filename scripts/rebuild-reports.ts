/**
 * `npm run reports:rebuild`: recounts the report aggregates from the stored SendGrid events, in one
 * transaction (herald_rebuild_report_aggregates, in the report-aggregates migration), under the lock
 * the workers take to apply events, so it can run while Herald sends. Needs DATABASE_URL.
 */
import pg from 'pg';

const url = process.env.DATABASE_URL;
if (!url) {
  console.error('DATABASE_URL is not set.');
  process.exit(2);
}
const client = new pg.Client({ connectionString: url });
await client.connect();
try {
  const started = performance.now();
  await client.query('SELECT herald_rebuild_report_aggregates()');
  const { rows } = await client.query<{ hours: number; links: number }>(
    'SELECT (SELECT count(*) FROM campaign_event_hours)::int AS hours, (SELECT count(*) FROM campaign_link_clicks)::int AS links',
  );
  console.log(`report aggregates rebuilt in ${Math.round(performance.now() - started)} ms: ${rows[0]!.hours} campaign hours, ${rows[0]!.links} links`);
} finally {
  await client.end();
}
