import { spawn } from 'node:child_process';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { createProducerConnection } from '@herald/shared';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { postSend, seedAudience } from '../../../test/support/factories.js';
import { sample } from '../../../test/support/metrics.js';
import { createStack, waitFor } from '../../../test/support/stack.js';
import type { Stack } from '../../../test/support/stack.js';
import { createOpsServer } from '../src/ops/ops-server.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const metricsToken = 'worker-metrics-token-0123456789';
let stack: Stack;
const servers: Server[] = [];

beforeEach(async () => {
  stack = await createStack();
});
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    server.close();
  }
  await stack.close();
});

async function listen(server: Server): Promise<string> {
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('the worker ops listener', () => {
  async function startOps(token: string | undefined, redisUrl = stack.workerEnv.REDIS_URL!) {
    const deps = stack.workerDeps();
    const redis = createProducerConnection(redisUrl);
    redis.on('error', () => undefined);
    await redis.connect().catch(() => undefined);
    const url = await listen(
      createOpsServer({ db: deps.db, redis, registry: deps.metrics.registry, metricsToken: token, logger: deps.logger }),
    );
    return { url, deps, redis };
  }

  it('answers /healthz, and /readyz when Postgres and Redis answer', async () => {
    const { url, redis } = await startOps(metricsToken);
    expect(await (await fetch(`${url}/healthz`)).json()).toEqual({ status: 'ok' });
    // Each probe has 2 s; the first query of a fresh pool can take longer on a loaded machine.
    const ready = await waitFor('/readyz to answer 200', async () => {
      const res = await fetch(`${url}/readyz`);
      return res.status === 200 ? res : undefined;
    });
    expect(await ready.json()).toEqual({ status: 'ok', checks: { database: 'ok', redis: 'ok' } });
    expect((await fetch(`${url}/nope`)).status).toBe(404);
    expect((await fetch(`${url}/healthz`, { method: 'POST' })).status).toBe(405);
    redis.disconnect();
  });

  it('answers /readyz 503 within seconds when Redis is unreachable', async () => {
    // Nothing listens on port 1: the probe connection fails fast, as during a Redis outage.
    const { url, redis } = await startOps(metricsToken, 'redis://127.0.0.1:1');
    const started = Date.now();
    const res = await fetch(`${url}/readyz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ status: 'unavailable', checks: { database: 'ok', redis: 'down' } });
    expect(Date.now() - started).toBeLessThan(10_000);
    redis.disconnect();
  });

  it('serves /metrics only with the bearer token, and not at all without METRICS_TOKEN', async () => {
    const { url, redis } = await startOps(metricsToken);
    const refused = await fetch(`${url}/metrics`);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toBe('Bearer realm="herald-metrics"');
    expect(await refused.json()).toEqual({ error: { code: 'unauthorized', message: expect.any(String) } });
    expect((await fetch(`${url}/metrics`, { headers: { authorization: 'Bearer wrong-token-0123456789' } })).status).toBe(401);
    const allowed = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${metricsToken}` } });
    expect(allowed.status).toBe(200);
    const text = await allowed.text();
    expect(text).toContain('process_cpu_seconds_total');
    expect(text).toContain('# TYPE herald_sends_total counter');
    expect(text).toContain('# TYPE herald_send_duration_seconds histogram');
    redis.disconnect();

    const closed = await startOps(undefined);
    const disabled = await fetch(`${closed.url}/metrics`, { headers: { authorization: `Bearer ${metricsToken}` } });
    expect(disabled.status).toBe(403);
    expect(await disabled.json()).toMatchObject({ error: { code: 'metrics_disabled' } });
    closed.redis.disconnect();
  });
});

describe('the worker process', () => {
  it('serves its ops listener and its send counters move during a campaign', async () => {
    const recipients = 30;
    await seedAudience(stack.web.db, recipients);
    // Slow answers from the provider, so the campaign is observed while it runs.
    stack.sink.faults.update({ latencyMs: 150 });
    const child = spawn(process.execPath, ['--conditions=herald-source', '--import', 'tsx', 'apps/worker/src/main.ts'], {
      cwd: repoRoot,
      env: { PATH: process.env.PATH ?? '', ...stack.workerEnv, LOG_LEVEL: 'info', WORKER_CONCURRENCY: '2', METRICS_TOKEN: metricsToken },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    try {
      const port = await waitFor('the worker to start', () => /"opsPort":(\d+)/.exec(output)?.[1], 30_000);
      const url = `http://127.0.0.1:${port}`;
      await waitFor('the worker /readyz', async () => (await fetch(`${url}/readyz`)).status === 200);
      const scrape = async () => {
        const res = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${metricsToken}` } });
        expect(res.status).toBe(200);
        return res.text();
      };
      expect(sample(await scrape(), 'herald_sends_total{outcome="sent"}')).toBe(0);

      const { body } = await postSend(stack.web.app).expect(202);
      const midway = await waitFor('sends counted mid-campaign', async () => {
        const sent = sample(await scrape(), 'herald_sends_total{outcome="sent"}');
        return sent > 0 && sent < recipients ? sent : 0;
      }, 30_000);
      expect(midway).toBeGreaterThan(0);

      await waitFor('the campaign to finish', async () => {
        const campaign = await stack.web.db.campaign.findUnique({ where: { id: body.campaignId } });
        return campaign?.status === 'sent';
      }, 60_000);
      const text = await waitFor('every send counted', async () => {
        const current = await scrape();
        return sample(current, 'herald_sends_total{outcome="sent"}') === recipients ? current : undefined;
      });
      // Two jobs at once make batches of up to two: one answer and one timing per request the sink took.
      const requests = stack.sink.stats.get().requests;
      expect(requests).toBeGreaterThanOrEqual(recipients / 2);
      expect(sample(text, 'herald_sendgrid_responses_total{status_class="2xx"}')).toBe(requests);
      expect(sample(text, 'herald_send_duration_seconds_count')).toBe(requests);
      expect(sample(text, 'herald_sendgrid_request_recipients_sum')).toBe(recipients);
      // Each call took at least the sink's 150 ms.
      expect(sample(text, 'herald_send_duration_seconds_sum')).toBeGreaterThanOrEqual(requests * 0.15);
      expect(sample(text, 'herald_sends_total{outcome="failed"}')).toBe(0);
      expect(stack.sink.inbox.list()).toHaveLength(recipients);
    } finally {
      child.kill('SIGTERM');
      const [code] = (await once(child, 'exit')) as [number | null];
      expect(code, output).toBe(0);
    }
  }, 180_000);
});
