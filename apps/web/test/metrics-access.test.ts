import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminToken, createWebHarness, metricsToken, useWebHarness } from '../../../test/support/web.js';
import type { WebHarness } from '../../../test/support/web.js';

const web = useWebHarness();

describe('GET /metrics with METRICS_TOKEN set', () => {
  it('answers Prometheus text to `Authorization: Bearer $METRICS_TOKEN`', async () => {
    const res = await request(web.app).get('/metrics').set('Authorization', `Bearer ${metricsToken}`).expect(200);
    expect(res.text).toContain('process_cpu_seconds_total');
  });

  it.each([
    ['no credential', {}],
    ['a wrong token', { Authorization: 'Bearer wrong-token-0123456789abcdef' }],
    ['a truncated token', { Authorization: `Bearer ${metricsToken.slice(0, -1)}` }],
    ['the admin token', { Authorization: `Bearer ${adminToken}` }],
    ['the token as Basic credentials', { Authorization: `Basic ${Buffer.from(`x:${metricsToken}`).toString('base64')}` }],
  ])('refuses %s with 401 in Herald’s error shape', async (_name, headers: Record<string, string>) => {
    const res = await request(web.app).get('/metrics').set(headers).expect(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="herald-metrics"');
    expect(res.body).toEqual({ error: { code: 'unauthorized', message: expect.any(String) } });
    expect(res.text).not.toContain('herald_');
  });

  it('refuses the token in the query string', async () => {
    await request(web.app).get(`/metrics?token=${metricsToken}`).expect(401);
  });
});

describe('GET /metrics with no METRICS_TOKEN', () => {
  let closed: WebHarness;
  beforeAll(async () => {
    // An empty variable is unset: this is what `METRICS_TOKEN=` in .env gives.
    closed = await createWebHarness({ METRICS_TOKEN: '' });
  });
  afterAll(async () => {
    await closed.close();
  });

  it('stays closed to everyone (403), so nothing is public by default', async () => {
    const res = await request(closed.app).get('/metrics').set('Authorization', `Bearer ${metricsToken}`).expect(403);
    expect(res.body.error.code).toBe('metrics_disabled');
    expect(res.text).not.toContain('herald_');
  });
});
