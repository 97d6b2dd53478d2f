/**
 * Busy CPU of the whole machine and of the processes a run names, from /proc, between two readings:
 * what a recipient costs wherever it is spent, which travels between machines better than a rate
 * on two shared cores does. Every figure is CPU seconds (user + system; for the machine also irq,
 * softirq and steal, that is everything but idle and iowait).
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Linux reports CPU time in USER_HZ ticks, 100 a second on every architecture Node runs on. */
const ticksPerSecond = 100;

export type CpuParts = { worker: number; web: number; postgres: number; redis: number };
export type CpuReading = { machine: number } & CpuParts;
/** CPU seconds per part over a run; `other` is the rest of the machine (the provider stand-in, the bench). */
export type CpuUsage = { machine: number; other: number } & CpuParts;

export function machineBusySeconds(): number {
  const [user, nice, system, , , irq, softirq, steal] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  return (user! + nice! + system! + irq! + softirq! + (steal ?? 0)) / ticksPerSecond;
}

/** The fields of /proc/<pid>/stat after the command name, which may itself hold spaces. */
function statFields(pid: number | string): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
  } catch {
    return undefined; // gone between the listing and the read
  }
}

/** CPU seconds of a live process (0 if it is gone); with `children`, also of its exited, reaped children. */
export function processCpuSeconds(pid: number | string, children = false): number {
  const fields = statFields(pid);
  if (!fields) return 0;
  // utime, stime, cutime, cstime are fields 14-17 of stat(5); fields[0] here is field 3.
  const own = Number(fields[11]) + Number(fields[12]);
  return (children ? own + Number(fields[13]) + Number(fields[14]) : own) / ticksPerSecond;
}

/**
 * Every PostgreSQL process on the machine: the live backends and auxiliary processes, plus what the
 * postmaster's exited backends used (a connection closed during the run still counts).
 */
export function postgresCpuSeconds(): number {
  let total = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    let comm: string;
    try {
      comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    } catch {
      continue;
    }
    if (comm === 'postgres') total += processCpuSeconds(pid, true);
  }
  return total;
}

export type CpuPids = { worker: number; web?: number; redis: number };

export function readCpu(pids: CpuPids): CpuReading {
  return {
    machine: machineBusySeconds(),
    worker: processCpuSeconds(pids.worker),
    web: pids.web === undefined ? 0 : processCpuSeconds(pids.web),
    postgres: postgresCpuSeconds(),
    redis: processCpuSeconds(pids.redis),
  };
}

/** What each part used between two readings of the same processes. */
export function cpuBetween(before: CpuReading, after: CpuReading): CpuUsage {
  const part = (key: keyof CpuReading) => Math.max(0, after[key] - before[key]);
  const usage = { machine: part('machine'), worker: part('worker'), web: part('web'), postgres: part('postgres'), redis: part('redis') };
  return { ...usage, other: Math.max(0, usage.machine - usage.worker - usage.web - usage.postgres - usage.redis) };
}
