/**
 * The README's performance figures come from the newest bench result: everything between
 * `<!-- bench:start -->` and `<!-- bench:end -->` is regenerated; the prose around it is left alone.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { BenchResult } from './bench-result.js';
import { readmeBlock } from './render-report.js';

const start = '<!-- bench:start -->';
const end = '<!-- bench:end -->';

/** `readme` with what stands between the markers replaced by `block`; fails unless both are there once, in order. */
export function replaceBenchBlock(readme: string, block: string): string {
  const from = readme.indexOf(start);
  const to = readme.indexOf(end);
  if (from < 0 || to < from || readme.indexOf(start, from + 1) >= 0 || readme.indexOf(end, to + 1) >= 0) {
    throw new Error(`README.md needs exactly one ${start} followed by one ${end}`);
  }
  return `${readme.slice(0, from + start.length)}\n${block}\n${readme.slice(to)}`;
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

export function updateReadme(readmePath: string, resultsDir: string): string {
  const file = newestResultFile(resultsDir);
  const result = JSON.parse(readFileSync(file, 'utf8')) as BenchResult;
  writeFileSync(readmePath, replaceBenchBlock(readFileSync(readmePath, 'utf8'), readmeBlock(result)));
  return file;
}
