import { Writable } from 'node:stream';
import path from 'node:path';
import ejs from 'ejs';
import { pino } from 'pino';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { createApp, viewsDir } from '../src/app.js';
import { webWarmUpSteps } from '../src/readiness/warm-up-steps.js';
import { startWarmUp } from '../src/readiness/warm-up.js';
import { useWebHarness } from '../../../test/support/web.js';
import { checkAnswers } from '../../../test/support/api-description.js';

const web = useWebHarness();

/** A logger whose lines the test can read. */
function collectedLogger() {
  const lines: { level: number; msg: string; step?: string; failed?: string[]; err?: { message?: string } }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: pino({ level: 'info' }, sink), lines };
}

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

describe('readiness after the warm-up', () => {
  it('answers 503 while the warm-up runs and 200 once it has finished', async () => {
    const step = deferred();
    const { logger } = collectedLogger();
    const warmUp = startWarmUp([{ name: 'slow', run: () => step.promise }], logger);
    const app = checkAnswers(createApp({ ...web, warmUp }));

    const warming = await request(app).get('/readyz').expect(503);
    expect(warming.body).toEqual({ status: 'warming-up' });
    await request(app).get('/healthz').expect(200);

    step.resolve();
    await warmUp.settled;
    const ready = await request(app).get('/readyz').expect(200);
    expect(ready.body.checks).toEqual({ database: 'ok', redis: 'ok' });
  });

  it('logs a failed or timed-out step, keeps running, and follows the dependency checks', async () => {
    const { logger, lines } = collectedLogger();
    const warmUp = startWarmUp(
      [
        { name: 'rejects', run: () => Promise.reject(new Error('database said no')) },
        {
          name: 'throws',
          run: () => {
            throw new Error('could not even start');
          },
        },
        { name: 'hangs', run: () => new Promise(() => undefined) },
        { name: 'works', run: async () => undefined },
      ],
      logger,
      { stepTimeoutMs: 200 },
    );
    const app = checkAnswers(createApp({ ...web, warmUp }));
    await request(app).get('/readyz').expect(503);

    await warmUp.settled;
    await request(app).get('/readyz').expect(200);
    const failures = lines.filter((line) => line.msg === 'warm-up step failed');
    expect(failures.map((line) => [line.step, line.err?.message]).sort()).toEqual([
      ['hangs', 'did not finish within 200 ms'],
      ['rejects', 'database said no'],
      ['throws', 'could not even start'],
    ]);
    expect(lines.find((line) => line.msg === 'warm-up finished')?.failed).toEqual(['rejects', 'throws', 'hangs']);
  });

  it('over real Postgres and Redis, opens connections, compiles every template and connects the queues', async () => {
    const signupView = path.join(viewsDir, 'signup.ejs');
    const partial = path.join(viewsDir, 'partials', 'head.ejs');
    ejs.clearCache();
    const connections = async () => {
      const [row] = await web.db.$queryRaw<{ count: number }[]>`SELECT count(*)::int AS count FROM pg_stat_activity WHERE datname = current_database()`;
      return row!.count;
    };
    // The harness's pool has been used one query at a time; the warm-up opens several side by side.
    expect(await connections()).toBeLessThan(4);
    const { logger, lines } = collectedLogger();
    const warmUp = startWarmUp(webWarmUpSteps(web, viewsDir), logger);
    await warmUp.settled;

    expect(lines.filter((line) => line.level >= 40)).toEqual([]);
    expect(lines.find((line) => line.msg === 'warm-up finished')?.failed).toEqual([]);
    expect(await connections()).toBeGreaterThanOrEqual(4);
    // What Express renders from in production: EJS's cache, keyed by the template's path.
    expect(ejs.cache.get(partial)).toBeTypeOf('function');
    const signup = ejs.cache.get(signupView);
    expect(signup).toBeTypeOf('function');
    expect(String(signup?.({ title: 'Subscribe', action: '/register', lists: [], checked: new Set(), values: {}, errors: {}, productName: 'Herald', newsletterName: 'Herald' }))).toContain('<form');
  });
});
