/**
 * The bench's tables in docs/performance.md come from the newest bench result: everything between
 * `<!-- bench:start -->` and `<!-- bench:end -->` is regenerated; the prose around it is left alone.
 * The README's headline figures are prose, updated by hand from the same page.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { BenchResult } from './bench-result.js';
import { readmeBlock } from './render-report.js';

const start = '<!-- bench:start -->';
const end = '<!-- bench:end -->';

/** The page that holds the generated tables, relative to the repository root. */
export const benchTablePage = 'docs/performance.md';

/**
 * `page` with what stands between the markers replaced by `block`; fails unless both are there
 * once, in order. `name` says which file in the error.
 */
export function replaceBenchBlock(page: string, block: string, name = benchTablePage): string {
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

/** Rewrites the tables in `pagePath` from the newest result in `resultsDir`; returns that result's file. */
export function updateBenchTable(pagePath: string, resultsDir: string): string {
  const file = newestResultFile(resultsDir);
  const result = JSON.parse(readFileSync(file, 'utf8')) as BenchResult;
  writeFileSync(pagePath, replaceBenchBlock(readFileSync(pagePath, 'utf8'), readmeBlock(result), pagePath));
  return file;
}
