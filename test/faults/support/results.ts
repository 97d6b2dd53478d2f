/** Each scenario's figures, appended as it finishes; the suite's teardown prints them as one table. */
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './processes.js';

export const resultsDir = join(repoRoot, 'test-artifacts/faults');
const resultsFile = join(resultsDir, 'results.jsonl');
export const summaryFile = join(resultsDir, 'summary.md');

export type ScenarioResult = {
  scenario: string;
  recipients: number;
  received: number;
  missing: number;
  duplicates: number;
  seconds: number;
  notes: string;
};

export function recordResult(result: ScenarioResult): void {
  mkdirSync(resultsDir, { recursive: true });
  appendFileSync(resultsFile, `${JSON.stringify(result)}\n`);
}

export function clearResults(): void {
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(resultsFile, '');
}

/** Writes summary.md and returns it. */
export function writeSummary(): string {
  const rows = existsSync(resultsFile)
    ? readFileSync(resultsFile, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as ScenarioResult)
    : [];
  const header = '| scenario | recipients | received | missing | duplicates | seconds | notes |\n|---|---:|---:|---:|---:|---:|---|';
  const body = rows
    .map((r) => `| ${r.scenario} | ${r.recipients} | ${r.received} | ${r.missing} | ${r.duplicates} | ${r.seconds.toFixed(1)} | ${r.notes} |`)
    .join('\n');
  const table = `Fault-injection suite, ${new Date().toISOString()}\n\n${header}\n${body}\n`;
  writeFileSync(summaryFile, table);
  return table;
}
