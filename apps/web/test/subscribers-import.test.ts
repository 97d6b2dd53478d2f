import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import express from 'express';
import request from 'supertest';
import { closeQueues, createProducerConnection, createQueues } from '@herald/shared';
import { enqueueUnsentConfirmations } from '../../worker/src/subscribers/enqueue-unsent-confirmations.js';
import { beforeEach, describe, expect, it } from 'vitest';
import { handleErrors } from '../src/http/error-handler.js';
import { requestLogger } from '../src/http/request-logger.js';
import { subscriberRoutes } from '../src/routes/subscribers.js';
import { importSubscribers } from '../src/subscribers/import-subscribers.js';
import { readImportCsv } from '../src/subscribers/read-import-csv.js';
import { admin, seedSubscribers } from '../../../test/support/factories.js';
import { adminToken, useWebHarness } from '../../../test/support/web.js';
import { checkAnswers } from '../../../test/support/api-description.js';

const web = useWebHarness();

beforeEach(async () => {
  await web.queues.confirmations.obliterate({ force: true });
  await web.queues.maintenance.obliterate({ force: true });
});

function postCsv(body: string | Buffer, query = '') {
  return admin(web.app).post(`/subscribers/import${query}`).set('Content-Type', 'text/csv').send(Buffer.from(body));
}

/**
 * The confirmation emails an import leads to. The import itself asks for a reconcile run (one job,
 * whatever the file's size); the reconciler then enqueues every unsent confirmation, as here.
 */
async function queuedConfirmations(): Promise<string[]> {
  const reconcileRequested = (await web.queues.maintenance.getJobs(['waiting'])).some((job) => job.name === 'reconcile');
  const enqueued = await enqueueUnsentConfirmations(web.db, web.queues);
  expect(reconcileRequested || enqueued === 0).toBe(true);
  const jobs = await web.queues.confirmations.getJobs(['waiting', 'delayed', 'prioritized', 'active']);
  return jobs.map((job) => (job.data as { subscriberId: string }).subscriberId).sort();
}

async function subscriber(email: string) {
  return web.db.subscriber.findUniqueOrThrow({ where: { email } });
}

const longName = 'x'.repeat(101);

/** Physical lines, numbered as the report should number them. */
const mixedFile = Buffer.from(
  [
    '\ufeff Email , NAME \r\n', // 1: BOM, padded and upper-case headers, CRLF
    'ada@example.com,"Lovelace, Ada"\r\n', // 2
    '\r\n', // 3: blank
    ' Grace@Example.COM ,Grace Hopper\n', // 4: LF from here on
    'not-an-address,Nobody\n', // 5: invalid address
    'ada@example.com,Ada Again\n', // 6: duplicate in the file
    '"linus@example.com","Torvalds, ""Linus"""\r\n', // 7
    `long@example.com,${longName}\n`, // 8: name too long
    'ctrl@example.com,"Bell\u0007Name"\n', // 9: control character
    '"multi@example.com","two\r\n', // 10: a quoted line break spans two lines...
    'lines"\n', // 11: ...and a line break in a name is a control character
    '   \n', // 12: whitespace only
    ',\n', // 13: no values at all
    'short@example.com\n', // 14: fewer columns than the header
    'GRACE@example.com,Another Grace\n', // 15: duplicate after normalising
    'unsub@example.com,Back Again\r\n', // 16: existing unsubscribed
    'bounced@example.com,Back Again\n', // 17: existing bounced
    'complained@example.com,Back Again\n', // 18: existing complained
    'pending@example.com,Renamed Pending\n', // 19: existing pending, new name
    'active@example.com,\n', // 20: existing active, nothing new
    '@example.com,Nobody\n', // 21: invalid address
  ].join(''),
);

async function seedExisting() {
  return seedSubscribers(web.db, [
    { email: 'unsub@example.com', name: 'Old Unsub', status: 'unsubscribed' },
    { email: 'bounced@example.com', name: 'Old Bounced', status: 'bounced' },
    { email: 'complained@example.com', name: 'Old Complained', status: 'complained' },
    { email: 'pending@example.com', name: 'Old Pending', status: 'pending' },
    { email: 'active@example.com', name: 'Old Active', status: 'active' },
  ]);
}

describe('POST /subscribers/import', () => {
  it('imports a mixed file with exact counts, physical line numbers and pending new subscribers', async () => {
    await seedExisting();
    const res = await postCsv(mixedFile).expect(200);

    expect(res.body).toEqual({
      imported: 4,
      updated: 1,
      skipped: 6,
      // The four new people join the default list; the existing pending and active ones are on it.
      subscribed: 4,
      invalid: [
        { line: 5, reason: 'email address is not valid' },
        { line: 8, reason: 'name is longer than 100 characters' },
        { line: 9, reason: 'name contains control characters' },
        { line: 10, reason: 'name contains control characters' },
        { line: 21, reason: 'email address is not valid' },
      ],
      invalidCount: 5,
    });

    const ada = await subscriber('ada@example.com');
    expect(ada).toMatchObject({ name: 'Lovelace, Ada', status: 'pending', consentSource: 'import', confirmedAt: null });
    expect(ada.consentAt).toBeInstanceOf(Date);
    expect(await subscriber('grace@example.com')).toMatchObject({ name: 'Grace Hopper', status: 'pending' });
    expect(await subscriber('linus@example.com')).toMatchObject({ name: 'Torvalds, "Linus"' });
    expect(await subscriber('short@example.com')).toMatchObject({ name: null, status: 'pending' });
    for (const email of ['not-an-address', 'long@example.com', 'ctrl@example.com', 'multi@example.com']) {
      expect(await web.db.subscriber.findUnique({ where: { email } })).toBeNull();
    }

    expect(await subscriber('unsub@example.com')).toMatchObject({ name: 'Old Unsub', status: 'unsubscribed', consentSource: 'test' });
    expect(await subscriber('bounced@example.com')).toMatchObject({ name: 'Old Bounced', status: 'bounced' });
    expect(await subscriber('complained@example.com')).toMatchObject({ name: 'Old Complained', status: 'complained' });
    expect(await subscriber('pending@example.com')).toMatchObject({ name: 'Renamed Pending', status: 'pending', consentSource: 'test' });
    expect(await subscriber('active@example.com')).toMatchObject({ name: 'Old Active', status: 'active' });
    expect(await web.db.subscriber.count()).toBe(9);

    // One confirmation per NEW pending subscriber; the existing pending one is not emailed again.
    const fresh = await web.db.subscriber.findMany({
      where: { email: { in: ['ada@example.com', 'grace@example.com', 'linus@example.com', 'short@example.com'] } },
    });
    expect(await queuedConfirmations()).toEqual(fresh.map((row) => row.id).sort());
  });

  it('with consent=confirmed activates new and pending subscribers, never resurrecting suppressed ones', async () => {
    await seedExisting();
    const before = await subscriber('pending@example.com');
    const file = [
      'email,name',
      'new@example.com,New Person',
      'pending@example.com,',
      'active@example.com,Renamed Active',
      'unsub@example.com,New Name',
      'bounced@example.com,New Name',
      'complained@example.com,New Name',
    ].join('\n');
    const res = await postCsv(file, '?consent=confirmed').expect(200);

    expect(res.body).toEqual({ imported: 1, updated: 2, skipped: 3, subscribed: 2, invalid: [], invalidCount: 0 });
    const created = await subscriber('new@example.com');
    expect(created).toMatchObject({ status: 'active', name: 'New Person', consentSource: 'import' });
    expect(created.confirmedAt).toBeInstanceOf(Date);
    const upgraded = await subscriber('pending@example.com');
    expect(upgraded).toMatchObject({ status: 'active', name: 'Old Pending', consentSource: 'import' });
    expect(upgraded.consentAt!.getTime()).toBeGreaterThan(before.consentAt!.getTime());
    expect(upgraded.confirmedAt).toBeInstanceOf(Date);
    expect(await subscriber('active@example.com')).toMatchObject({ status: 'active', name: 'Renamed Active', consentSource: 'test' });
    expect(await subscriber('unsub@example.com')).toMatchObject({ status: 'unsubscribed', name: 'Old Unsub', consentSource: 'test' });
    expect(await subscriber('bounced@example.com')).toMatchObject({ status: 'bounced', name: 'Old Bounced' });
    expect(await subscriber('complained@example.com')).toMatchObject({ status: 'complained', name: 'Old Complained' });
    expect(await queuedConfirmations()).toEqual([]);
  });

  it('never downgrades an active subscriber when the file does not confirm consent', async () => {
    await seedSubscribers(web.db, [{ email: 'active@example.com', name: 'Old', status: 'active' }]);
    const res = await postCsv('email,name\nactive@example.com,New Name\n').expect(200);
    expect(res.body).toMatchObject({ imported: 0, updated: 1, skipped: 0 });
    expect(await subscriber('active@example.com')).toMatchObject({ status: 'active', name: 'New Name' });
    expect(await queuedConfirmations()).toEqual([]);
  });

  it('skips everything when the same file is imported twice', async () => {
    await postCsv(mixedFile).expect(200);
    const again = await postCsv(mixedFile).expect(200);
    expect(again.body).toMatchObject({ imported: 0, updated: 0, skipped: 11, invalidCount: 5 });
  });

  it('keeps the first occurrence of an address even when the repeat falls in a later batch', async () => {
    const lines = ['email,name', 'first@example.com,First Name'];
    for (let i = 0; i < 4_500; i++) lines.push(`filler-${i}@example.com,Filler`);
    lines.push('first@example.com,Second Name', 'FIRST@example.com,Third Name');
    const res = await postCsv(lines.join('\n'), '?consent=confirmed').expect(200);
    expect(res.body).toMatchObject({ imported: 4_501, updated: 0, skipped: 2, invalidCount: 0 });
    expect((await subscriber('first@example.com')).name).toBe('First Name');
  });

  it('lists at most 100 invalid rows but counts them all', async () => {
    const lines = ['email'];
    for (let i = 0; i < 150; i++) lines.push(`broken-${i}`);
    const res = await postCsv(lines.join('\n')).expect(200);
    expect(res.body.invalidCount).toBe(150);
    expect(res.body.invalid).toHaveLength(100);
    expect(res.body.invalid[99]).toEqual({ line: 101, reason: 'email address is not valid' });
  });

  it('imports a 10 MB file of 250,000 rows streamed in chunks', async () => {
    const rows = 250_000;
    const chunks: Buffer[] = [];
    let chunk = 'email,name\n';
    for (let i = 0; i < rows; i++) {
      if (i % 1_000 === 999) chunk += `broken-address-${i},Broken\n`;
      else if (i % 500 === 499) chunk += `reader-${i - 100}@example.com,Repeat\n`;
      else chunk += `reader-${i}@example.com,Reader ${i}\n`;
      if (chunk.length > 64 * 1024) {
        chunks.push(Buffer.from(chunk));
        chunk = '';
      }
    }
    chunks.push(Buffer.from(chunk));
    const body = Buffer.concat(chunks);
    expect(body.length).toBeGreaterThan(9_500_000);

    const res = await postCsv(body, '?consent=confirmed').expect(200);
    expect(res.body).toMatchObject({ imported: 249_500, updated: 0, skipped: 250, invalidCount: 250 });
    expect(res.body.invalid[0]).toEqual({ line: 1_001, reason: 'email address is not valid' });
    expect(await web.db.subscriber.count({ where: { status: 'active' } })).toBe(249_500);
  }, 60_000);
});

describe('POST /subscribers/import refuses, changing nothing,', () => {
  const valid = 'email,name\nada@example.com,Ada\n';

  async function expectNothingChanged() {
    expect(await web.db.subscriber.count()).toBe(0);
    expect(await queuedConfirmations()).toEqual([]);
  }

  it('a request without the admin token (401)', async () => {
    await request(web.app).post('/subscribers/import').set('Content-Type', 'text/csv').send(valid).expect(401);
    await expectNothingChanged();
  });

  it.each([
    ['JSON', 'application/json'],
    ['plain text', 'text/plain'],
    ['CSV in another charset', 'text/csv; charset=iso-8859-1'],
  ])('%s with 415', async (_name, type) => {
    const res = await admin(web.app).post('/subscribers/import').set('Content-Type', type).send(valid).expect(415);
    expect(res.body.error.code).toMatch(/^unsupported_/);
    await expectNothingChanged();
  });

  it('a UTF-8 charset parameter is fine', async () => {
    await admin(web.app).post('/subscribers/import').set('Content-Type', 'text/csv; charset=UTF-8').send(valid).expect(200);
  });

  it.each([
    ['no email column', 'mail,name\nada@example.com,Ada\n', 'invalid_csv_header'],
    ['an empty file', '', 'invalid_csv_header'],
    ['only blank lines', '\n\r\n  \n', 'invalid_csv_header'],
    ['the email column twice', 'email,Email\nada@example.com,ada@example.com\n', 'invalid_csv_header'],
  ])('%s with 400', async (_name, body, code) => {
    const res = await postCsv(body).expect(400);
    expect(res.body.error.code).toBe(code);
    await expectNothingChanged();
  });

  it.each(['yes', 'CONFIRMED', ''])('consent=%s with 400', async (consent) => {
    const res = await postCsv(valid, `?consent=${consent}`).expect(400);
    expect(res.body.error.code).toBe('invalid_request');
    await expectNothingChanged();
  });

  it('a file malformed after thousands of good rows with 400, rolling back the rows before it', async () => {
    const lines = ['email,name'];
    for (let i = 0; i < 5_000; i++) lines.push(`reader-${i}@example.com,Reader`);
    lines.push('last@example.com,"never closed');
    const res = await postCsv(lines.join('\n')).expect(400);
    expect(res.body.error).toMatchObject({ code: 'invalid_csv' });
    expect(res.body.error.message).toMatch(/line 5002/);
    await expectNothingChanged();
  });

  it('a declared body over 200 MB with 413 before reading it', async () => {
    const server = web.app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const req = http.request({
        port: (server.address() as AddressInfo).port,
        host: '127.0.0.1',
        method: 'POST',
        path: '/subscribers/import',
        headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'text/csv', 'content-length': String(201 * 1024 * 1024) },
      });
      req.on('error', () => undefined);
      req.write(valid);
      const [res] = (await once(req, 'response')) as [http.IncomingMessage];
      const body = JSON.parse((await res.toArray()).join(''));
      expect(res.statusCode).toBe(413);
      expect(body.error.code).toBe('payload_too_large');
      req.destroy();
    } finally {
      server.close();
    }
    await expectNothingChanged();
  });

  it('a streamed body that grows past the limit with 413, rolling back what was written', async () => {
    const app = express();
    app.use(requestLogger(web.logger));
    app.use(subscriberRoutes(web, { maxImportBytes: 256 * 1024 }));
    app.use(handleErrors);
    const res = await postChunked(checkAnswers(app), function* () {
      yield 'email,name\n';
      for (let i = 0; i < 20_000; i++) yield `reader-${i}@example.com,Reader ${i}\n`;
    });
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('payload_too_large');
    await expectNothingChanged();
  });

  it('the same limit applies when the import is called directly', async () => {
    const chunks = ['email\n', ...Array.from({ length: 5_000 }, (_, i) => `direct-${i}@example.com\n`)];
    const rows = await readImportCsv(Readable.from(chunks), { maxBytes: 50_000 });
    await expect(importSubscribers(web, rows, { consentConfirmed: true })).rejects.toMatchObject({ code: 'payload_too_large' });
    await expectNothingChanged();
  });
});

/** An import upload with chunked transfer encoding (no Content-Length), as a streaming client sends it. */
function openUpload(server: http.Server): http.ClientRequest {
  const req = http.request({
    port: (server.address() as AddressInfo).port,
    host: '127.0.0.1',
    method: 'POST',
    path: '/subscribers/import',
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'text/csv' },
  });
  req.on('error', () => undefined);
  return req;
}

/** POSTs `lines` as a streamed upload, stopping early if the server answers first. */
async function postChunked(app: express.Express, lines: () => Iterable<string>): Promise<{ status: number; body: { error: { code: string } } }> {
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const req = openUpload(server);
    const response = once(req, 'response') as Promise<[http.IncomingMessage]>;
    let answered = false;
    void response.then(() => (answered = true));
    for (const line of lines()) {
      if (answered) break;
      if (!req.write(line)) await Promise.race([once(req, 'drain'), response]);
    }
    if (!answered) req.end();
    const [res] = await response;
    const text = (await res.toArray()).join('');
    return { status: res.statusCode ?? 0, body: JSON.parse(text) };
  } finally {
    server.close();
  }
}

describe('with Redis down', () => {
  it('still imports, and leaves the confirmations to the reconciler', async () => {
    const deadRedis = createProducerConnection('redis://127.0.0.1:1');
    deadRedis.on('error', () => undefined);
    const deadQueues = createQueues(deadRedis, 'unreachable', web.logger);
    const app = express();
    app.use(requestLogger(web.logger));
    app.use(subscriberRoutes({ ...web, redis: deadRedis, queues: deadQueues }));
    app.use(handleErrors);
    try {
      const started = Date.now();
      const res = await request(checkAnswers(app))
        .post('/subscribers/import')
        .set('Authorization', `Bearer ${adminToken}`)
        .set('Content-Type', 'text/csv')
        .send('email\nada@example.com\ngrace@example.com\n')
        .expect(200);
      expect(res.body).toMatchObject({ imported: 2 });
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(await web.db.subscriber.count({ where: { status: 'pending', confirmationSentAt: null } })).toBe(2);
    } finally {
      await closeQueues(deadQueues).catch(() => undefined);
      deadRedis.disconnect();
    }
  });
});

describe('an interrupted upload', () => {
  it('rolls back and lets go of its database connection', async () => {
    const server = web.app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const req = openUpload(server);
      req.write('email,name\n');
      for (let i = 0; i < 5_000; i++) req.write(`reader-${i}@example.com,Reader\n`);
      // Let the server write a batch or two inside its transaction, then vanish mid-upload.
      await waitForOpenTransaction();
      req.destroy();
      await expect.poll(openTransactions, { timeout: 10_000 }).toBe(0);
    } finally {
      server.close();
    }
    expect(await web.db.subscriber.count()).toBe(0);
  });
});

async function openTransactions(): Promise<number> {
  const [row] = await web.db.$queryRaw<{ open: number }[]>`
    SELECT count(*)::int AS open FROM pg_stat_activity
    WHERE datname = current_database() AND pid <> pg_backend_pid() AND xact_start IS NOT NULL`;
  return row?.open ?? 0;
}

async function waitForOpenTransaction(): Promise<void> {
  await expect.poll(openTransactions, { timeout: 10_000 }).toBeGreaterThan(0);
}
