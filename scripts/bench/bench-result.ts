/** What one `npm run bench` writes to bench/results/<YYYY-MM-DD>T<HHMM>.json, and reads back for docs/performance.md. */
import type { ImportResult } from './csv-import.js';
import type { EventIngestResult, EventsWhileSendingResult } from './event-ingest.js';
import type { Machine } from './machine.js';
import type { BenchOptions } from './options.js';
import type { ReportReadResult } from './report-reads.js';
import type { SegmentCountResult } from './segment-count.js';
import type { SendAudienceResult } from './send-audience-answer.js';
import type { SendRun } from './send-run.js';
import type { SignupResult } from './signups-while-sending.js';

export type BenchResult = {
  startedAt: string;
  finishedAt: string;
  /** False for a run at reduced sizes or with phases left out: its figures are not the project's. */
  fullRun: boolean;
  options: BenchOptions;
  machine: Machine;
  throughput: SendRun[];
  large: SendRun | null;
  sendAnswers: { recipients: number; answerMs: number }[];
  csvImport: ImportResult | null;
  signups: SignupResult | null;
  /** POST /send to two overlapping lists and a segment against the default list (absent in results from before lists). */
  sendAudience?: SendAudienceResult | null;
  /** A saved segment's count over the large audience (absent in results from before segments). */
  segmentCount?: SegmentCountResult | null;
  /** SendGrid webhook events applied per second (absent in results from before the events phase). */
  events?: EventIngestResult | null;
  /** The same again while a campaign is sending, against the same run's bare INSERTs (absent in results from before it). */
  eventsWhileSending?: EventsWhileSendingResult | null;
  /** A large campaign's report and recipient pages read (absent in results from before the reports phase). */
  reports?: ReportReadResult | null;
  profiles: { system: string; top: { share: number; where: string }[] }[];
  /** Runs that failed, and why; the others still count. */
  failures: { what: string; error: string }[];
};
