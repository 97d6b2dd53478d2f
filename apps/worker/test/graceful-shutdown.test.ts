import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { postSend, seedAudience } from '../../../test/support/factories.js';
import { createStack, waitFor } from '../../../test/support/stack.js';
import type { Stack } from '../../../test/support/stack.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
let stack: Stack;

beforeEach(async () => {
  stack = await createStack();
});
afterEach(async () => {
  await stack.close();
});

/** The real worker entry point in its own process, as `docker compose` runs it. */
function startWorkerProcess(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--conditions=herald-source', '--import', 'tsx', 'apps/worker/src/main.ts'], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return { child, output: () => output };
}

describe('worker shutdown', () => {
  it('drains in-flight sends on SIGTERM and exits 0; a new worker finishes the rest, nobody skipped or doubled', async () => {
    const recipients = 40;
    await seedAudience(stack.web.db, recipients);
    stack.sink.faults.update({ latencyMs: 300 });
    const worker = startWorkerProcess({ ...stack.workerEnv, LOG_LEVEL: 'info', WORKER_CONCURRENCY: '4' });
    await waitFor('the worker to start', () => worker.output().includes('worker started'), 20_000);

    const res = await postSend(stack.web.app).expect(202);
    await waitFor('some sends', () => stack.sink.inbox.list().length >= 4, 20_000);
    worker.child.kill('SIGTERM');
    const [code] = (await once(worker.child, 'exit')) as [number | null];
    expect(code, worker.output()).toBe(0);
    expect(worker.output()).toContain('stopped cleanly');

    // Nothing was abandoned mid-call: every delivery is either sent or still queued.
    const afterStop = await stack.web.db.delivery.groupBy({ by: ['status'], _count: { _all: true } });
    const counts = Object.fromEntries(afterStop.map((group) => [group.status, group._count._all]));
    expect(counts.sending).toBeUndefined();
    expect(counts.sent).toBe(stack.sink.inbox.list().length);
    expect(counts.sent).toBeLessThan(recipients);

    stack.sink.faults.reset();
    await stack.startWorker();
    await waitFor('the campaign to finish', async () => {
      const campaign = await stack.web.db.campaign.findUnique({ where: { id: res.body.campaignId } });
      return campaign?.status === 'sent';
    });
    const perRecipient = Object.values(stack.sink.stats.get().byRecipient);
    expect(perRecipient).toHaveLength(recipients);
    expect(perRecipient.every((count) => count === 1)).toBe(true);
  });
});
