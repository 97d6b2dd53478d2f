/**
 * `npm run reports:rebuild`: recounts the report aggregates from the stored SendGrid events, in one
 * transaction (herald_rebuild_report_aggregates, in the event-retention migration), under the lock
 * the workers take to apply events, so it can run while Herald sends. Needs DATABASE_URL.
 *
 * Once EVENT_RETENTION_DAYS has deleted raw events, what they counted cannot be recounted: the
 * campaigns concerned (and the unattributed hours, if theirs went) keep the aggregates the workers
 * kept, everything else is recounted, and the command names what it refused to recount and exits 3.
 */
import pg from 'pg';

const url = process.env.DATABASE_URL;
if (!url) {
  console.error('DATABASE_URL is not set.');
  process.exit(2);
}
/** The first ids, and how many more: a large installation may have thousands. */
const listed = (ids: string[]) => (ids.length > 20 ? `${ids.slice(0, 20).join(', ')} and ${ids.length - 20} more` : ids.join(', '));

const client = new pg.Client({ connectionString: url });
await client.connect();
let refused = false;
try {
  const started = performance.now();
  const { rows: [rebuilt] } = await client.query<{ kept_campaigns: string[]; unattributed_kept: boolean }>(
    'SELECT kept_campaigns, unattributed_kept FROM herald_rebuild_report_aggregates()',
  );
  const { rows } = await client.query<{ hours: number; links: number }>(
    'SELECT (SELECT count(*) FROM campaign_event_hours)::int AS hours, (SELECT count(*) FROM campaign_link_clicks)::int AS links',
  );
  console.log(`report aggregates rebuilt in ${Math.round(performance.now() - started)} ms: ${rows[0]!.hours} campaign hours, ${rows[0]!.links} links`);
  const kept = rebuilt!.kept_campaigns;
  if (kept.length > 0 || rebuilt!.unattributed_kept) {
    refused = true;
    const what = [
      ...(kept.length > 0
        ? [`${kept.length} campaign${kept.length === 1 ? '' : 's'} whose raw events were partly deleted (EVENT_RETENTION_DAYS): ${listed(kept)}`]
        : []),
      ...(rebuilt!.unattributed_kept ? ['the events of no known delivery (unattributed_event_hours), some of which were deleted'] : []),
    ];
    console.error(
      `Not recounted, as the stored events no longer hold all they counted; their aggregates are kept as the workers kept them:\n- ${what.join('\n- ')}\nEverything else was recounted exactly.`,
    );
  }
} finally {
  await client.end();
}
if (refused) process.exit(3);
