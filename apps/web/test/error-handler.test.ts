import { fileURLToPath } from 'node:url';
import express from 'express';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { Prisma, createLogger } from '@herald/shared';
import { errorHandler, handleErrors, handleNotFound } from '../src/http/error-handler.js';
import { requestLogger } from '../src/http/request-logger.js';

/** The real middleware chain around routes that fail the ways production code can. */
function appThrowing(err: unknown, handler = handleErrors) {
  const app = express();
  app.set('view engine', 'ejs');
  app.set('views', fileURLToPath(new URL('../views', import.meta.url)));
  app.locals.productName = 'Herald';
  app.use(requestLogger(createLogger({ name: 'web', level: 'silent' })));
  app.get('/boom', () => {
    throw err;
  });
  app.use(handleNotFound);
  app.use(handler);
  return app;
}

describe('the error middleware', () => {
  it('answers a bug with a generic 500 and never a stack trace', async () => {
    const res = await request(appThrowing(new Error('secret detail at /srv/app.js:12'))).get('/boom').expect(500);
    expect(res.body).toEqual({ error: { code: 'internal', message: 'Something went wrong on our side.' } });
    expect(res.text).not.toContain('secret detail');
  });

  it('answers a write conflict between two requests with a retryable 409', async () => {
    const deadlock = Object.assign(new Error('deadlock detected'), { code: '40P01' });
    const res = await request(appThrowing(deadlock)).get('/boom').expect(409);
    expect(res.body.error.code).toBe('conflict');
  });

  it('answers an unreachable database with 503', async () => {
    const down = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    await request(appThrowing(down)).get('/boom').expect(503);
  });

  it('renders a page for browsers and JSON for API clients on 404', async () => {
    const page = await request(appThrowing(null)).get('/nowhere').set('Accept', 'text/html').expect(404);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.text).toContain('<h1>Page not found</h1>');
    const json = await request(appThrowing(null)).get('/nowhere').set('Accept', 'application/json').expect(404);
    expect(json.body.error.code).toBe('not_found');
  });

  it('knows a deadlock under a Prisma raw query by its driver code, not its message', async () => {
    const deadlock = new Prisma.PrismaClientKnownRequestError('Raw query failed', {
      code: 'P2010',
      clientVersion: 'test',
      meta: { driverAdapterError: { name: 'DriverAdapterError', cause: { originalCode: '40P01', kind: 'TransactionWriteConflict' } } },
    });
    expect((await request(appThrowing(deadlock)).get('/boom').expect(409)).body.error.code).toBe('conflict');
    // The same words in a message prove nothing.
    await request(appThrowing(new Error('deadlock detected'))).get('/boom').expect(500);
  });

  it('knows an outage by the code of a wrapped cause', async () => {
    const refused = Object.assign(new Error('connect failed'), { code: 'ECONNREFUSED' });
    await request(appThrowing(new Error('query failed', { cause: refused }))).get('/boom').expect(503);
    const unreachable = new Prisma.PrismaClientKnownRequestError('x', { code: 'P2010', clientVersion: 'test', meta: { driverAdapterError: { cause: { kind: 'DatabaseNotReachable' } } } });
    await request(appThrowing(unreachable)).get('/boom').expect(503);
    await request(appThrowing(new Error("Connection is closed."))).get('/boom').expect(500);
  });

  it('answers an unexplained error with 503 while Redis is down, and 500 while it is up', async () => {
    const plain = new Error("Stream isn't writeable and enableOfflineQueue options is false");
    await request(appThrowing(plain, errorHandler({ redisDown: () => true }))).get('/boom').expect(503);
    await request(appThrowing(plain, errorHandler({ redisDown: () => false }))).get('/boom').expect(500);
  });
});
