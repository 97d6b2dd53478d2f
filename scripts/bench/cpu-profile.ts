/** Where a process's CPU went: the functions with the most self time in a .cpuprofile. */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from './child-processes.js';

type Profile = { nodes: { hitCount?: number; callFrame: { functionName: string; url: string; lineNumber: number } }[] };

/** The `top` functions by self time, as a share of all samples, from the profile written into `dir`. */
export function summariseCpuProfile(dir: string, top = 20): { share: number; where: string }[] {
  const file = readdirSync(dir).find((name) => name.endsWith('.cpuprofile'));
  if (!file) return [];
  const profile = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as Profile;
  const byFrame = new Map<string, number>();
  let total = 0;
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    total += hits;
    const where = node.callFrame.url.replace(/^.*node_modules\//, '').replace(`file://${repoRoot}/`, '');
    const key = `${node.callFrame.functionName || '(anonymous)'} ${where}:${node.callFrame.lineNumber + 1}`;
    byFrame.set(key, (byFrame.get(key) ?? 0) + hits);
  }
  return [...byFrame.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([where, hits]) => ({ share: hits / total, where }));
}
