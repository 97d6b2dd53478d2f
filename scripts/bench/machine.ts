/** What the figures were measured on: CPU, memory, Node, PostgreSQL and Redis versions, load. */
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import pg from 'pg';

export type Machine = {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  node: string;
  postgres: string;
  redis: string;
  loadAverageStart: number[];
  loadAverageEnd: number[] | null;
};

export const loadAverage = () => os.loadavg().map((value) => Number(value.toFixed(2)));

export async function describeMachine(databaseUrl: string): Promise<Machine> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const { rows } = await client.query<{ server_version: string }>('SHOW server_version').finally(() => client.end());
  const redis = spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).stdout;
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Number((os.totalmem() / 2 ** 30).toFixed(1)),
    node: process.version,
    postgres: rows[0]?.server_version ?? 'unknown',
    redis: /v=(\S+)/.exec(redis)?.[1] ?? 'unknown',
    loadAverageStart: loadAverage(),
    loadAverageEnd: null,
  };
}
