import { networkInterfaces } from 'node:os';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csrfFrom } from '../../../test/support/admin.js';
import { adminEmail, adminPassword, createWebHarness } from '../../../test/support/web.js';
import type { WebHarness } from '../../../test/support/web.js';

/**
 * The tests reach the app from this host's own non-loopback address: a peer that is not the local
 * host, which the default TRUST_PROXY (loopback) must not believe. A machine with no such address
 * cannot play that peer, and skips them.
 */
const peer = Object.values(networkInterfaces())
  .flat()
  .find((address) => address && !address.internal && address.family === 'IPv4')?.address;

/** The app from `env`, listening on the peer address, and an agent that holds the login page's CSRF cookie. */
function serveFromPeer(env: Record<string, string>) {
  const served = {} as { web: WebHarness; server: Server; login(): Promise<{ attempt(forwardedFor: string, password: string): Promise<number> }> };
  beforeAll(async () => {
    served.web = await createWebHarness(env);
    // Hooks run only when the tests do, that is with a peer address.
    served.server = served.web.app.listen(0, peer!);
    await new Promise((resolve) => served.server.once('listening', resolve));
    const url = `http://${peer}:${(served.server.address() as AddressInfo).port}`;
    served.login = async () => {
      const agent = request.agent(url);
      const csrf = csrfFrom((await agent.get('/admin/login').expect(200)).text);
      return {
        // Guesses name an account that does not exist, so the per-account lock (tested in
        // admin-security.test.ts) stays out of what this file tests: the per-address one.
        attempt: async (forwardedFor, password) =>
          (await agent.post('/admin/login').set('X-Forwarded-For', forwardedFor).type('form')
            .send({ _csrf: csrf, email: password === adminPassword ? adminEmail : 'guesser@herald.test', password })).status,
      };
    };
  });
  afterAll(async () => {
    served.server?.close();
    await served.web?.close();
  });
  return served;
}

describe.skipIf(!peer)('the login throttle behind TRUST_PROXY', () => {
  describe('by default', () => {
    const served = serveFromPeer({});

    it('counts the peer, so rotating X-Forwarded-For from a peer that is not a trusted proxy does not escape it', async () => {
      const login = await served.login();
      const statuses = [];
      for (let i = 1; i <= 5; i++) statuses.push(await login.attempt(`203.0.113.${i}`, `guess ${i}`));
      expect(statuses).toEqual([401, 401, 401, 401, 401]);
      expect(await login.attempt('203.0.113.6', 'guess 6')).toBe(429);
      expect(await login.attempt('203.0.113.7', adminPassword)).toBe(429);
    });
  });

  describe('with TRUST_PROXY naming the peer', () => {
    const served = serveFromPeer({ TRUST_PROXY: `loopback, ${peer}` });

    it('counts the address the proxy forwarded, each on its own', async () => {
      const login = await served.login();
      for (let i = 1; i <= 5; i++) expect(await login.attempt('203.0.113.10', `guess ${i}`)).toBe(401);
      expect(await login.attempt('203.0.113.10', adminPassword)).toBe(429);
      // Another client behind the same proxy is not held back by the first one's guesses.
      expect(await login.attempt('203.0.113.11', adminPassword)).toBe(303);
    });

    it('believes only the address the trusted proxy appended, not what the client put before it', async () => {
      const login = await served.login();
      for (let i = 1; i <= 5; i++) expect(await login.attempt(`198.51.100.${i}, 203.0.113.20`, `guess ${i}`)).toBe(401);
      expect(await login.attempt('198.51.100.6, 203.0.113.20', adminPassword)).toBe(429);
    });
  });
});
