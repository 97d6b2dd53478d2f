/**
 * Runs once per fault-suite run: a Postgres cluster of the suite's own (initdb on a free port in
 * 5440-5449) with a migrated template database, and a free port in 6380-6389 for the scenarios'
 * own Redis. Prints the summary table at the end and leaves it in test-artifacts/faults/summary.md.
 */
import { createServer } from 'node:net';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { migrateDeploy } from '../../tools/prisma-schema-engine/deploy.js';
import { createPostgresCluster } from './support/postgres-cluster.js';
import { clearResults, summaryFile, writeSummary } from './support/results.js';

async function portIsFree(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

async function firstFreePort(from: number, to: number): Promise<number> {
  for (let port = from; port <= to; port++) if (await portIsFree(port)) return port;
  throw new Error(`no free port in ${from}-${to}`);
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  clearResults();
  const cluster = await createPostgresCluster(await firstFreePort(5440, 5449));
  const template = 'faults_template';
  const admin = new pg.Client({ connectionString: cluster.url('postgres') });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${template}`);
  await admin.end();
  await migrateDeploy(cluster.url(template));
  project.provide('faultsPostgresPort', cluster.port);
  project.provide('faultsPostgresDataDir', cluster.dataDir);
  project.provide('faultsTemplateDatabase', template);
  project.provide('faultsRedisPort', await firstFreePort(6380, 6389));

  return async () => {
    await cluster.destroy();
    const table = writeSummary();
    console.log(`\n${table}\n(written to ${summaryFile})`);
  };
}
