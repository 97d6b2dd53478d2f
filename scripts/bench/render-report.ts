/**
 * The Markdown of a bench result: the summary and the throughput table (also what docs/performance.md shows,
 * see readmeBlock), then the machine, CPU profiles and failures for the result file.
 */
import type { BenchResult } from './bench-result.js';
import { fullRun, isFullPhase } from './options.js';
import type { Phase } from './options.js';
import type { SendRun } from './send-run.js';

const systemNames: Record<SendRun['system'], string> = {
  'bare-empty': 'bare BullMQ, empty processor',
  'bare-client': 'bare BullMQ + @sendgrid/mail',
  herald: 'Herald, SEND_BATCH_SIZE=1',
  'herald-batched': 'Herald at its defaults (batched)',
};

/** Busy CPU per recipient in microseconds: the machine's, or one part of it. */
const perRecipient = (run: SendRun, part: keyof NonNullable<SendRun['cpu']>) =>
  run.cpu ? (run.cpu[part] * 1e6) / run.recipients : null;
const micro = (value: number | null) => (value === null ? '—' : `${whole(value)} µs`);

const whole = (value: number) => Math.round(value).toLocaleString('en-US');
const fixed = (value: number | null, digits = 1) => (value === null ? '—' : value.toFixed(digits));
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const megabytes = (mb: number | undefined) => (mb === undefined ? '—' : `${whole(mb)} MB`);

/**
 * A rate over bare BullMQ + one client call per job at the same latency, in this run: at the same
 * concurrency for one request per recipient, at the bare sender's main concurrency for batches.
 */
function ratioToBareClient(result: BenchResult, run: SendRun): number | null {
  const concurrency = run.system === 'herald-batched' ? result.options.concurrency : run.concurrency;
  const bare = result.throughput.find(
    (other) => other.system === 'bare-client' && other.latencyMs === run.latencyMs && other.concurrency === concurrency,
  );
  return bare ? run.sendsPerSecond / bare.sendsPerSecond : null;
}

function throughputTable(result: BenchResult): string[] {
  return [
    '| system | latency | concurrency | batch | sends/s | × bare + client | provider requests | in flight avg / peak | worker RSS peak | worker CPU | Redis peak | each once | machine CPU / recipient | of which worker / web / Postgres / Redis / rest |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...result.throughput.map((run) => {
      const ratio = ratioToBareClient(result, run);
      return [
        systemNames[run.system],
        run.latencyMs === null ? '—' : `${run.latencyMs} ms`,
        run.concurrency,
        run.batchSize ?? '—',
        whole(run.sendsPerSecond),
        ratio === null ? '—' : `${ratio.toFixed(2)}×`,
        run.providerRequests === null ? '—' : whole(run.providerRequests),
        run.inFlightAverage === null ? '—' : `${fixed(run.inFlightAverage)} / ${run.inFlightPeak}`,
        megabytes(run.workerRssPeakMb),
        `${whole(run.workerCpuPercent)}%`,
        `${fixed(run.redisPeakMb)} MB`,
        run.exactlyOnce === null ? '—' : run.exactlyOnce ? 'yes' : '**NO**',
        micro(perRecipient(run, 'machine')),
        run.cpu ? (['worker', 'web', 'postgres', 'redis', 'other'] as const).map((part) => whole(perRecipient(run, part)!)).join(' / ') : '—',
      ].join(' | ');
    }).map((row) => `| ${row} |`),
  ];
}

function summaryRows(result: BenchResult): string[] {
  const rows: string[] = [];
  const { options } = result;
  for (const latencyMs of [0, 100]) {
    const at = (system: SendRun['system'], concurrency?: number) =>
      result.throughput.find((run) => run.system === system && run.latencyMs === latencyMs && (concurrency === undefined || run.concurrency === concurrency));
    const herald = at('herald', options.concurrency);
    const batched = at('herald-batched');
    const low = options.lowConcurrency === undefined ? undefined : at('herald', options.lowConcurrency);
    if (!herald && !batched) continue;
    const figure = (run: SendRun | undefined) => {
      const ratio = run && ratioToBareClient(result, run);
      return run ? `${whole(run.sendsPerSecond)}/s${ratio ? ` (${ratio.toFixed(2)}× bare + client)` : ''}` : '—';
    };
    rows.push(
      `| Sends, ${whole(options.recipients)} recipients, provider latency ${latencyMs} ms | at its defaults${batched ? ` (concurrency ${batched.concurrency}, up to ${batched.batchSize} per request)` : ''} ${figure(batched)}; one request per recipient (concurrency ${options.concurrency}) ${figure(herald)}${low ? `; at concurrency ${low.concurrency} ${figure(low)}${latencyMs > 0 ? `, ${fixed(low.inFlightAverage)} in flight` : ''}` : ''} |`,
    );
  }
  for (const latencyMs of [0, 100]) {
    const row = cpuRow(result, latencyMs);
    if (row) rows.push(row);
  }
  const large = result.large;
  if (large) {
    const marks = Object.entries(large.rssAtSentMb).map(([sent, mb]) => `${whole(Number(sent))} sent ${megabytes(mb)}`);
    rows.push(
      `| Large run: ${whole(large.recipients)} recipients, Herald at its defaults, 100 ms, POST /send to the last recipient at the provider | ${large.seconds.toFixed(1)} s, ${whole(large.sendsPerSecond)}/s, each exactly once: ${large.exactlyOnce ? 'yes' : '**NO**'}; worker RSS ${[...marks, `peak ${megabytes(large.workerRssPeakMb)}`].join(', ')}; Redis peak ${fixed(large.redisPeakMb)} MB |`,
    );
  }
  const answers = [...result.sendAnswers, ...(large?.sendAnswerMs ? [{ recipients: large.recipients, answerMs: large.sendAnswerMs }] : [])];
  if (answers.length > 0) {
    rows.push(`| \`POST /send\` answered with every task id | ${answers.map((answer) => `${whole(answer.recipients)} recipients: ${seconds(answer.answerMs)}`).join('; ')} |`);
  }
  const audience = result.sendAudience;
  if (audience) {
    rows.push(
      `| \`POST /send\` to two overlapping lists of ${whole(audience.subscribers / 2)} each and a segment on an attribute (${whole(audience.subscribers)} subscribers, ${whole(audience.recipients)} recipients), against the default list with as many | ${seconds(audience.audienceAnswerMs)} against ${seconds(audience.singleAnswerMs)}: ${audience.ratio.toFixed(2)}× |`,
    );
  }
  const segment = result.segmentCount;
  if (segment) {
    rows.push(
      `| Segment count over ${whole(segment.subscribers)} subscribers, \`GET /segments/:id/count\` for an attribute rule (plan = pro, ${whole(segment.count)} match) | ${whole(segment.medianMs)} ms median of ${segment.runsMs.length}; index used: ${segment.indexes.join(', ') || 'none'} |`,
    );
  }
  const csv = result.csvImport;
  if (csv) {
    rows.push(
      `| CSV import, ${whole(csv.rows)} rows (1% duplicates, 0.5% invalid), streamed to \`POST /subscribers/import\` | ${whole(csv.rowsPerSecondMedian)} rows/s median of ${csv.runs} (slowest ${whole(csv.rowsPerSecondSlowest)}); bench process peak RSS ${megabytes(csv.peakRssMb)} |`,
    );
    const attributed = csv.withAttributes;
    if (attributed) {
      rows.push(
        `| The same CSV import with three attribute columns (plan, country, seats) | ${whole(attributed.rowsPerSecondMedian)} rows/s median of ${csv.runs} (slowest ${whole(attributed.rowsPerSecondSlowest)}): ${(attributed.rowsPerSecondMedian / csv.rowsPerSecondMedian).toFixed(2)}× the import without them |`,
      );
    }
  }
  const signups = result.signups;
  if (signups) {
    rows.push(
      `| JSON signups, ${signups.clients} concurrent clients for ${signups.seconds.toFixed(0)} s while a ${whole(signups.campaignRecipients)}-recipient campaign sends | ${whole(signups.signupsPerSecond)}/s, p50 ${whole(signups.p50Ms)} ms, p99 ${whole(signups.p99Ms)} ms${signups.p99WarmMs === undefined ? '' : ` (${whole(signups.p99WarmMs)} ms after the first two seconds)`}, ${signups.failed} failed; the campaign sent in ${signups.campaignSeconds === null ? 'more than the wait' : `${signups.campaignSeconds.toFixed(1)} s`} |`,
    );
  }
  return ['| what | figure |', '|---|---|', ...rows];
}

/**
 * What a recipient costs the whole machine, Herald at its defaults against the hand-written sender
 * (bare BullMQ + the client, at the main concurrency) and against bare BullMQ with an empty
 * processor (one job fetched and completed per recipient, and nothing else).
 */
function cpuRow(result: BenchResult, latencyMs: number): string | undefined {
  const batched = result.throughput.find((run) => run.system === 'herald-batched' && run.latencyMs === latencyMs);
  const client = result.throughput.find((run) => run.system === 'bare-client' && run.latencyMs === latencyMs && run.concurrency === result.options.concurrency);
  const empty = result.throughput.find((run) => run.system === 'bare-empty');
  const herald = batched && perRecipient(batched, 'machine');
  if (!herald) return undefined;
  const against = (run: SendRun | undefined, name: string) => {
    const other = run && perRecipient(run, 'machine');
    return other ? `${(herald / other).toFixed(2)}× ${name} (${micro(other)})` : undefined;
  };
  const comparisons = [against(client, 'the hand-written sender'), against(empty, 'bare BullMQ with an empty processor')].filter(Boolean);
  return `| Machine CPU per recipient, provider latency ${latencyMs} ms | Herald at its defaults ${micro(herald)}${comparisons.length > 0 ? `: ${comparisons.join(', ')}` : ''} |`;
}

function machineLine(result: BenchResult): string {
  const m = result.machine;
  return (
    `${m.cores} × ${m.cpuModel}, ${m.memoryGiB} GiB, Node ${m.node}, PostgreSQL ${m.postgres}, Redis ${m.redis}; ` +
    `load average ${m.loadAverageStart.join(' ')} at the start, ${m.loadAverageEnd?.join(' ') ?? '?'} at the end`
  );
}

/** How a run is named above its figures; with `phase`, full-size means that phase at its full sizes. */
function runLabel(result: BenchResult, phase?: Phase): string {
  const when = `${result.startedAt.slice(0, 16).replace('T', ' ')} UTC`;
  const full = phase ? isFullPhase({ ...fullRun, ...result.options }, phase) : result.fullRun;
  const label = full ? `Run of ${when}` : `**Reduced-size run** of ${when} (not the project's figures; \`npm run bench\` at full size replaces it)`;
  return result.options.note ? `${label}. Note: ${result.options.note}. Measured` : `${label}, measured`;
}

/** Milliseconds of CPU per 1,000 events. */
const perThousand = (cpuSeconds: number, events: number) => `${((cpuSeconds * 1e6) / events).toFixed(0)} ms`;
const ms = (value: number) => `${value < 10 ? value.toFixed(1) : whole(value)} ms`;

function eventRows(result: BenchResult): string[] {
  const events = result.events;
  if (!events) return [];
  const { cpu } = events;
  const split = (['web', 'worker', 'postgres', 'redis', 'other'] as const).map((part) => perThousand(cpu[part], events.events)).join(' / ');
  return [
    `| SendGrid events applied: ${whole(events.events)} events about a sent ${whole(events.recipients)}-recipient campaign, signed batches of 1,000 to \`POST /webhooks/sendgrid\` (${events.batches} POSTs, 4 in flight; ${whole(events.duplicates)} events again in retried batches), from the first POST to the last event applied (stored, suppressions, report aggregates) | ${whole(events.eventsPerSecond)} events/s (${events.seconds.toFixed(2)} s; every POST answered after ${events.postSeconds.toFixed(2)} s): ${(events.eventsPerSecond / events.bareInsertEventsPerSecond).toFixed(2)}× bare INSERTs of the same batches into a copy of email_events (${whole(events.bareInsertEventsPerSecond)}/s); aggregates equal what was posted: ${events.exact ? 'yes' : `**NO** (${events.mismatches.join('; ')})`} |`,
    `| Machine CPU per 1,000 events applied | ${perThousand(cpu.machine, events.events)}; web / worker / Postgres / Redis / rest: ${split} |`,
    ...whileSendingRows(result),
  ];
}

/** Of the machine's cores over `seconds`, the share `cpuSeconds` kept busy. */
const busyShare = (cpuSeconds: number, seconds: number, cores: number) => `${Math.round((cpuSeconds / (seconds * cores)) * 100)}%`;

/** The events applied while a campaign sends, against the same run's bare INSERTs and its events applied alone. */
function whileSendingRows(result: BenchResult): string[] {
  const sending = result.eventsWhileSending;
  if (!sending) return [];
  const { cpu } = sending;
  const alone = result.events;
  const against = alone
    ? `: ${(sending.eventsPerSecond / alone.bareInsertEventsPerSecond).toFixed(2)}× the bare INSERTs above (${whole(alone.bareInsertEventsPerSecond)}/s), ${(sending.eventsPerSecond / alone.eventsPerSecond).toFixed(2)}× the events applied alone`
    : '';
  const campaign = sending.stillSending
    ? `still sending when the last event was applied: yes (${whole(sending.sentAtEnd)} of ${whole(sending.campaignRecipients)} sent)`
    : `still sending when the last event was applied: **NO**, it finished ${(sending.seconds - sending.sendingSeconds).toFixed(2)} s before (sent for ${sending.sendingSeconds.toFixed(2)} of ${sending.seconds.toFixed(2)} s)`;
  const split = (['web', 'worker', 'postgres', 'redis', 'other'] as const).map((part) => perThousand(cpu[part], sending.events)).join(' / ');
  return [
    `| The same while a campaign sends: ${whole(sending.events)} fresh events about ${whole(sending.recipients)} recipients already sent to of a ${whole(sending.campaignRecipients)}-recipient campaign (${whole(sending.sentAtStart)} sent at the first POST), posted the same way (${sending.batches} POSTs, 4 in flight; ${whole(sending.duplicates)} events again in retried batches), from the first POST to the last event applied | ${whole(sending.eventsPerSecond)} events/s (${sending.seconds.toFixed(2)} s; every POST answered after ${sending.postSeconds.toFixed(2)} s)${against}; the campaign sent ${whole(sending.sendsPerSecond)}/s meanwhile (${whole(sending.sendsPerSecondAlone)}/s alone, the first campaign), ${campaign}; aggregates equal what was posted: ${sending.exact ? 'yes' : `**NO** (${sending.mismatches.join('; ')})`} |`,
    `| Machine CPU per 1,000 events applied while the campaign sends (its sends' CPU included) | ${perThousand(cpu.machine, sending.events)}, the machine ${busyShare(cpu.machine, sending.seconds, result.machine.cores)} busy over the ${result.machine.cores} cores; web / worker (sending too) / Postgres / Redis / rest: ${split} |`,
  ];
}

function reportRows(result: BenchResult): string[] {
  const reports = result.reports;
  if (!reports) return [];
  const t = (timing: { medianMs: number; p95Ms: number; runsMs: number[] }) =>
    timing.runsMs.length === 0 ? '—' : `p50 ${ms(timing.medianMs)}, p95 ${ms(timing.p95Ms)} over ${timing.runsMs.length}`;
  const exact = reports.exact ? 'yes' : `**NO** (${reports.mismatches.join('; ')})`;
  return [
    `| \`GET /campaigns/:id/report\`, a sent campaign of ${whole(reports.recipients)} recipients and ${whole(reports.events)} raw events (seeded in SQL in ${reports.seedSeconds.toFixed(0)} s, aggregates by \`npm run reports:rebuild\` in ${reports.rebuildSeconds.toFixed(0)} s) | ${t(reports.report)} reads; totals equal the seeded events: ${exact} |`,
    ...(reports.deliveryCount
      ? [`| of which the deliveries' count by status (\`countDeliveries\`, O(recipients)), its statement alone in Postgres, EXPLAIN ANALYZE${reports.deliveryCount.timingOff ? ' with TIMING OFF' : ' timing every row (which inflates a long scan: compare the whole report above)'} | p50 ${ms(reports.deliveryCount.medianMs)}, p95 ${ms(reports.deliveryCount.p95Ms)} over ${reports.deliveryCount.runsMs.length} (${reports.deliveryCount.scan}) |`]
      : []),
    `| \`GET /campaigns/:id/recipients?event=${reports.pageEvent ?? 'clicked'}\`, ${reports.pageSize} a page, each following \`nextCursor\` | from the first page ${t(reports.firstPages)}; from 90% of the way down ${t(reports.deepPages)} |`,
    `| \`GET /campaigns/:id/recipients?event=clicked&format=csv\`, every clicker | ${whole(reports.csvRows)} rows in ${seconds(reports.csvMs)} |`,
  ];
}

/** The sending phases: what the main block of docs/performance.md shows. */
export const sendingPhases = ['throughput', 'large', 'send', 'import', 'signups'] as const;

/** The block of docs/performance.md that shows SendGrid events applied (the events phase). */
export function eventsBlock(result: BenchResult): string {
  return [`${runLabel(result, 'events')} on ${machineLine(result)}:`, '', '| what | figure |', '|---|---|', ...eventRows(result), ...failedIn(result, 'SendGrid events')].join('\n');
}

/** The block of docs/performance.md that shows a large campaign's report read (the reports phase). */
export function reportsBlock(result: BenchResult): string {
  return [`${runLabel(result, 'reports')} on ${machineLine(result)}:`, '', '| what | figure |', '|---|---|', ...reportRows(result), ...failedIn(result, 'report reads')].join('\n');
}

function failedIn(result: BenchResult, prefix: string): string[] {
  const failed = result.failures.filter((failure) => failure.what.startsWith(prefix));
  return failed.length > 0 ? ['', `Failed in this run: ${failed.map((failure) => failure.what).join(', ')} (see the result file).`] : [];
}

/** What docs/performance.md shows between its bench markers. */
export function readmeBlock(result: BenchResult): string {
  return [
    `${runLabel(result)} on ${machineLine(result)}:`,
    '',
    ...summaryRows(result),
    '',
    ...throughputTable(result),
    ...(result.failures.length > 0 ? ['', `Failed in this run: ${result.failures.map((failure) => failure.what).join(', ')} (see the result file).`] : []),
  ].join('\n');
}

export function renderReport(result: BenchResult): string {
  const lines = [`# Herald bench, ${result.startedAt.slice(0, 16).replace('T', ' ')} UTC`, ''];
  const ran = (phase: Phase) => result.options.only.includes(phase);
  if (sendingPhases.some(ran)) lines.push(readmeBlock(result), '');
  if (ran('events')) lines.push('## SendGrid events applied', '', eventsBlock(result), '');
  if (ran('reports')) lines.push('## A large campaign\'s report', '', reportsBlock(result), '');
  lines.push('## Options', '', '```json', JSON.stringify(result.options), '```', '');
  const detailed = [...result.throughput, ...(result.large ? [result.large] : [])].filter((run) => run.jobsRunningAverage !== null);
  if (detailed.length > 0) {
    lines.push('## Inside Herald\'s worker (from its /metrics)', '', '| system | latency | recipients | send jobs running avg | queries waiting for a pool connection avg | event loop p99 per 250 ms, median / worst |', '|---|---|---|---|---|---|');
    for (const run of detailed) {
      lines.push(`| ${systemNames[run.system]} | ${run.latencyMs} ms | ${whole(run.recipients)} | ${fixed(run.jobsRunningAverage)} | ${fixed(run.dbPoolWaitingAverage)} | ${fixed(run.eventLoopP99MedianMs, 0)} / ${fixed(run.eventLoopP99MaxMs, 0)} ms |`);
    }
    lines.push('');
  }
  for (const profile of result.profiles) {
    lines.push(`## CPU profile: ${profile.system}, self time`, '', '```', ...profile.top.map((entry) => `${(entry.share * 100).toFixed(1).padStart(5)}%  ${entry.where}`), '```', '');
  }
  if (result.failures.length > 0) {
    lines.push('## Failures', '');
    for (const failure of result.failures) lines.push(`- ${failure.what}:`, '', '```', failure.error.slice(0, 4_000), '```', '');
  }
  return lines.join('\n');
}
