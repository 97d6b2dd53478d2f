/**
 * The bench's flags, `--name=value`, each with the size of the full run as its default. A run with
 * any size below the full one is labelled a reduced run in its results.
 */
export const phases = ['throughput', 'large', 'send', 'import', 'signups', 'events', 'reports'] as const;
export type Phase = (typeof phases)[number];

export type BenchOptions = {
  /** Recipients per send-throughput run. */
  recipients: number;
  /** WORKER_CONCURRENCY of Herald sending one request per recipient, and the bare sender's. */
  concurrency: number;
  /** The same two again at a concurrency too low for the CPU to bind: in flight should match it. */
  lowConcurrency: number;
  /** SEND_RATE_PER_SECOND for every Herald worker; null leaves it unset, as by default (no cap). */
  ratePerSecond: number | null;
  /** Recipients of the large run (Herald at its defaults, 100 ms). */
  scale: number;
  /** Audiences whose POST /send answer is timed on their own (the large run times its own). */
  sendSizes: number[];
  importRows: number;
  importRuns: number;
  signupClients: number;
  signupSeconds: number;
  signupCampaign: number;
  /** Distinct SendGrid events posted to the webhook while a campaign sends (duplicates come on top). */
  eventCount: number;
  /** The campaign whose report and recipient pages are read, and the raw events seeded for it. */
  reportRecipients: number;
  reportEvents: number;
  only: Phase[];
  /** CPU-profile both Herald workers at 100 ms and summarise where their time went. */
  profile: boolean;
  /** Leave docs/performance.md alone. */
  noReadme: boolean;
  /** Said with the figures wherever they are shown: what was unusual about this run. */
  note: string | null;
};

export const fullRun: BenchOptions = {
  recipients: 20_000,
  concurrency: 200,
  lowConcurrency: 20,
  ratePerSecond: null,
  scale: 1_000_000,
  sendSizes: [100_000],
  importRows: 200_000,
  importRuns: 3,
  signupClients: 64,
  signupSeconds: 20,
  signupCampaign: 5_000,
  eventCount: 200_000,
  reportRecipients: 1_000_000,
  reportEvents: 3_000_000,
  only: [...phases],
  profile: false,
  noReadme: false,
  note: null,
};

const usage = `npm run bench -- [--recipients=20000] [--concurrency=200] [--low-concurrency=20]
  [--rate=<SEND_RATE_PER_SECOND, unset by default>] [--scale=1000000] [--send-sizes=100000] [--import-rows=200000] [--import-runs=3]
  [--signup-clients=64] [--signup-seconds=20] [--signup-campaign=5000]
  [--event-count=200000] [--report-recipients=1000000] [--report-events=3000000] [--only=${phases.join(',')}]
  [--profile] [--no-readme] [--note="what was unusual about this run"]`;

const numeric: Record<string, keyof BenchOptions> = {
  recipients: 'recipients',
  concurrency: 'concurrency',
  'low-concurrency': 'lowConcurrency',
  rate: 'ratePerSecond',
  scale: 'scale',
  'import-rows': 'importRows',
  'import-runs': 'importRuns',
  'signup-clients': 'signupClients',
  'signup-seconds': 'signupSeconds',
  'signup-campaign': 'signupCampaign',
  'event-count': 'eventCount',
  'report-recipients': 'reportRecipients',
  'report-events': 'reportEvents',
};

function positiveInteger(name: string, value: string): number {
  const number = Number(value.replaceAll('_', ''));
  if (!Number.isInteger(number) || number < 1) throw new Error(`--${name} must be a positive whole number, not "${value}"\n${usage}`);
  return number;
}

export function parseOptions(args: string[]): BenchOptions {
  const options: BenchOptions = { ...fullRun, sendSizes: [...fullRun.sendSizes], only: [...fullRun.only] };
  for (const arg of args) {
    const [, name = '', value] = /^--([a-z-]+)(?:=(.*))?$/.exec(arg) ?? [];
    const key = numeric[name];
    if (key && value !== undefined) (options[key] as number | null) = positiveInteger(name, value);
    else if (name === 'send-sizes' && value !== undefined) options.sendSizes = value.split(',').map((size) => positiveInteger(name, size));
    else if (name === 'only' && value !== undefined) {
      const wanted = value.split(',');
      const unknown = wanted.filter((phase) => !(phases as readonly string[]).includes(phase));
      if (unknown.length > 0) throw new Error(`--only: unknown ${unknown.join(', ')}\n${usage}`);
      options.only = wanted as Phase[];
    } else if (name === 'profile' && value === undefined) options.profile = true;
    else if (name === 'no-readme' && value === undefined) options.noReadme = true;
    else if (name === 'note' && value) options.note = value;
    else throw new Error(`unknown argument ${arg}\n${usage}`);
  }
  return options;
}

/** Every phase ran, at the full run's sizes or larger. */
export function isFullRun(options: BenchOptions): boolean {
  return options.only.length === phases.length && phases.every((phase) => isFullPhase(options, phase));
}

/** The sizes each phase runs at: a phase at its full sizes or larger gives the project's figures for it. */
const phaseSizes: Record<Phase, readonly (keyof BenchOptions)[]> = {
  throughput: ['recipients'],
  large: ['scale'],
  send: ['scale', 'sendSizes'],
  import: ['importRows'],
  signups: ['signupCampaign', 'signupSeconds'],
  events: ['eventCount'],
  reports: ['reportRecipients', 'reportEvents'],
};

/** `phase` ran, at the full run's sizes or larger. */
export function isFullPhase(options: BenchOptions, phase: Phase): boolean {
  return (
    options.only.includes(phase) &&
    phaseSizes[phase].every((size) =>
      size === 'sendSizes'
        ? fullRun.sendSizes.every((full) => options.sendSizes.includes(full))
        : ((options[size] as number | undefined) ?? 0) >= (fullRun[size] as number),
    )
  );
}
