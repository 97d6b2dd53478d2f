/**
 * The bench's tables in docs/performance.md come from the newest bench result, block by block: the
 * sending phases' tables stand between `<!-- bench:start -->` and `<!-- bench:end -->`, the events
 * phase's between `<!-- bench:events:start -->` and `<!-- bench:events:end -->`, the reports
 * phase's between `<!-- bench:reports:start -->` and `<!-- bench:reports:end -->`. A block is
 * regenerated only from a result that ran its phases, so `--only=events,reports` leaves the sending
 * tables as they were (and a run of the sending phases leaves the events and reports tables); the
 * prose around the blocks is left alone. The README's headline figures are prose, updated by hand
 * from the same page.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { BenchResult } from './bench-result.js';
import type { Phase } from './options.js';
import { eventsBlock, readmeBlock, reportsBlock, sendingPhases } from './render-report.js';

/** The page that holds the generated tables, relative to the repository root. */
export const benchTablePage = 'docs/performance.md';

/**
 * `page` with what stands between the markers `<!-- <marker>:start -->` and `<!-- <marker>:end -->`
 * replaced by `block`; fails unless both are there once, in order. `name` says which file in the error.
 */
export function replaceBenchBlock(page: string, block: string, name = benchTablePage, marker = 'bench'): string {
  const start = `<!-- ${marker}:start -->`;
  const end = `<!-- ${marker}:end -->`;
  const from = page.indexOf(start);
  const to = page.indexOf(end);
  if (from < 0 || to < from || page.indexOf(start, from + 1) >= 0 || page.indexOf(end, to + 1) >= 0) {
    throw new Error(`${name} needs exactly one ${start} followed by one ${end}`);
  }
  return `${page.slice(0, from + start.length)}\n${block}\n${page.slice(to)}`;
}

/** The newest result file in `dir`: names are <YYYY-MM-DD>T<HHMM>.json, so they sort by time. */
export function newestResultFile(dir: string): string {
  const newest = readdirSync(dir)
    .filter((name) => /^\d{4}-\d{2}-\d{2}T\d{4}\.json$/.test(name))
    .sort()
    .at(-1);
  if (!newest) throw new Error(`no bench result in ${dir}; run npm run bench first`);
  return path.join(dir, newest);
}

/**
 * The blocks a result rewrites: the sending tables if it ran any sending phase; the events and
 * reports tables if it ran that phase and is recent enough to hold its field (null when it failed).
 */
export function blocksOf(result: BenchResult): { marker: string; block: string }[] {
  const ran = (phase: Phase) => result.options.only.includes(phase);
  return [
    ...(sendingPhases.some(ran) ? [{ marker: 'bench', block: readmeBlock(result) }] : []),
    ...(ran('events') && result.events !== undefined ? [{ marker: 'bench:events', block: eventsBlock(result) }] : []),
    ...(ran('reports') && result.reports !== undefined ? [{ marker: 'bench:reports', block: reportsBlock(result) }] : []),
  ];
}

/** Rewrites the tables in `pagePath` that the newest result in `resultsDir` ran; returns that result's file. */
export function updateBenchTable(pagePath: string, resultsDir: string): string {
  const file = newestResultFile(resultsDir);
  const result = JSON.parse(readFileSync(file, 'utf8')) as BenchResult;
  let page = readFileSync(pagePath, 'utf8');
  for (const { marker, block } of blocksOf(result)) page = replaceBenchBlock(page, block, pagePath, marker);
  writeFileSync(pagePath, page);
  return file;
}
