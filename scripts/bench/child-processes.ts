/**
 * The processes a bench run starts (workers, stand-ins, Redis servers, the web): spawned from the
 * repository root, their output kept line by line so the run can wait for a line, and all of them
 * killed when the run ends or is stopped with Ctrl-C.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';

export const repoRoot = path.resolve(import.meta.dirname, '../..');
/** Node over TypeScript sources, for the bench's own helper processes. */
export const tsxNode = [process.execPath, '--import', 'tsx', '--conditions=herald-source'];

export type Child = {
  process: ChildProcess;
  lines: string[];
  waitForLine(match: (line: string) => boolean, timeoutMs?: number): Promise<string>;
};

const children = new Set<ChildProcess>();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    for (const child of children) child.kill('SIGKILL');
    process.exit(1);
  });
}
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

export function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

export function startChild(args: string[], env: Record<string, string>): Child {
  const child = track(spawn(args[0]!, args.slice(1), { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] }));
  const lines: string[] = [];
  const waiters: { match: (line: string) => boolean; resolve: (line: string) => void }[] = [];
  const onLine = (line: string) => {
    // The first lines say why a process would not start; the rest would only grow the bench's heap.
    if (lines.length < 200) lines.push(line);
    for (const waiter of [...waiters]) {
      if (waiter.match(line)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  };
  createInterface({ input: child.stdout! }).on('line', onLine);
  createInterface({ input: child.stderr! }).on('line', onLine);
  return {
    process: child,
    lines,
    waitForLine(match, timeoutMs = 120_000) {
      const found = lines.find(match);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const fail = (why: string) => reject(new Error(`${path.basename(args.at(-1) ?? '')} ${why}:\n${lines.slice(-30).join('\n')}`));
        const timer = setTimeout(() => fail('did not print the expected line'), timeoutMs);
        child.once('exit', (code) => (clearTimeout(timer), fail(`exited with ${code}`)));
        waiters.push({ match, resolve: (line) => (clearTimeout(timer), resolve(line)) });
      });
    },
  };
}

export async function stopChild(child: Child): Promise<void> {
  if (child.process.exitCode !== null || child.process.signalCode !== null) return;
  const exited = once(child.process, 'exit');
  child.process.kill('SIGTERM');
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 30_000))]);
  if (child.process.exitCode === null) child.process.kill('SIGKILL');
}

/** Resident memory now and at its peak (VmHWM), and CPU seconds used, of a live process. */
export function processStats(pid: number): { rssMb: number; peakRssMb: number; cpuSeconds: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const ticks = Number(stat[11]) + Number(stat[12]);
  return { rssMb: kb('VmRSS') / 1024, peakRssMb: kb('VmHWM') / 1024, cpuSeconds: ticks / 100 };
}

export async function waitUntil(check: () => Promise<boolean> | boolean, intervalMs = 100): Promise<void> {
  while (!(await check())) await new Promise((resolve) => setTimeout(resolve, intervalMs));
}
