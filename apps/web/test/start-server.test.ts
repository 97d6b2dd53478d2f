import { once } from 'node:events';
import type { Server } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { startServer } from '../src/http/start-server.js';

const env = {
  DATABASE_URL: 'postgresql://postgres@127.0.0.1:5432/herald',
  ADMIN_TOKEN: 'a'.repeat(32),
  ADMIN_PASSWORD: 'long enough password',
  SESSION_SECRET: 's'.repeat(32),
};

const app = express().get('/ping', (_req, res) => {
  res.send('pong');
});

const started: Server[] = [];
async function start(keepAliveTimeoutMs: number): Promise<Server> {
  const server = await startServer(app, { port: 0, host: '127.0.0.1', keepAliveTimeoutMs });
  started.push(server);
  return server;
}
afterEach(async () => {
  for (const server of started.splice(0)) {
    server.closeAllConnections();
    server.close();
  }
});

describe('the web server', () => {
  it('listens with the configured keep-alive, 65 s by default, and a headers timeout a second longer', async () => {
    const server = await start(loadConfig(env).keepAliveTimeoutMs);
    expect(server.listening).toBe(true);
    expect(server.keepAliveTimeout).toBe(65_000);
    expect(server.headersTimeout).toBe(66_000);

    const custom = await start(loadConfig({ ...env, HTTP_KEEP_ALIVE_TIMEOUT_MS: '120000' }).keepAliveTimeoutMs);
    expect(custom.keepAliveTimeout).toBe(120_000);
    expect(custom.headersTimeout).toBe(121_000);
    expect(custom.requestTimeout).toBeGreaterThanOrEqual(custom.headersTimeout);
  });

  it('keeps the whole-request timeout no shorter than the headers timeout', async () => {
    const server = await start(400_000);
    expect(server.headersTimeout).toBe(401_000);
    expect(server.requestTimeout).toBe(401_000);
  });

  it('closes an idle keep-alive connection when its keep-alive ends, not at Node\'s five seconds', async () => {
    const server = await start(200);
    const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
    await once(socket, 'connect');
    socket.write('GET /ping HTTP/1.1\r\nHost: herald.test\r\nConnection: keep-alive\r\n\r\n');
    const [answer] = (await once(socket, 'data')) as [Buffer];
    expect(answer.toString()).toMatch(/^HTTP\/1\.1 200[\s\S]*pong$/);
    const idleSince = Date.now();
    await once(socket.resume(), 'close');
    const idleMs = Date.now() - idleSince;
    // Node closes the socket about a second after keep-alive ends, by a margin of its own.
    expect(idleMs).toBeGreaterThanOrEqual(150);
    expect(idleMs).toBeLessThan(4_000);
  });
});
