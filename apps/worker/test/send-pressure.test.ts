import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createSendPressure, registerSendPressureMetrics } from '../src/ops/send-pressure.js';

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('send pressure', () => {
  it('counts running jobs and open provider calls, with their peaks since the last sample', async () => {
    const pressure = createSendPressure();
    const gates = [deferred(), deferred(), deferred()];
    const jobs = gates.map((gate) => pressure.trackJob(() => gate.promise));
    const call = deferred();
    const open = pressure.trackProviderCall(() => call.promise);
    expect(pressure.sample()).toMatchObject({ jobsRunning: 3, jobsRunningPeak: 3, providerCalls: 1, providerCallsPeak: 1 });

    gates[0]!.resolve();
    gates[1]!.resolve();
    await Promise.all(jobs.slice(0, 2));
    call.resolve();
    await open;
    // The peak covers the time since the previous sample, then starts again from the count now.
    expect(pressure.sample()).toMatchObject({ jobsRunning: 1, jobsRunningPeak: 3, providerCalls: 0, providerCallsPeak: 1 });
    expect(pressure.sample()).toMatchObject({ jobsRunningPeak: 1, providerCallsPeak: 0 });
    gates[2]!.resolve();
    await jobs[2];
    pressure.stop();
  });

  it('still counts a job as finished when it throws', async () => {
    const pressure = createSendPressure();
    await expect(pressure.trackJob(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(pressure.sample().jobsRunning).toBe(0);
    pressure.stop();
  });

  it('exports the series with the configured concurrency beside them', async () => {
    const registry = new Registry();
    const pressure = createSendPressure();
    registerSendPressureMetrics(registry, pressure, { concurrency: 200 });
    const gate = deferred();
    const job = pressure.trackJob(() => gate.promise);
    const text = await registry.metrics();
    expect(text).toContain('herald_worker_concurrency 200');
    expect(text).toContain('herald_worker_send_jobs_running 1');
    expect(text).toContain('herald_worker_provider_calls_in_flight 0');
    expect(text).toMatch(/herald_worker_db_pool_waiting 0/);
    expect(text).toMatch(/herald_worker_event_loop_delay_p99_seconds \d/);
    gate.resolve();
    await job;
    pressure.stop();
  });
});
