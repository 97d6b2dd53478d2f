import { once } from 'node:events';
import type { Server } from 'node:http';
import type { Express } from 'express';

export type ServerOptions = { port: number; host?: string; keepAliveTimeoutMs: number };

/**
 * Listens with idle timeouts fit for a proxy in front. Node closes an idle keep-alive connection
 * after 5 s by default, while a load balancer (an AWS ALB: 60 s) keeps reusing it longer; a request
 * it sends down a connection Node is closing gets a 502. Keep-alive must outlast the proxy's idle
 * timeout, and the headers timeout must outlast keep-alive, or Node drops a connection whose next
 * request starts just before the keep-alive timeout ends. Resolves once the port is open.
 */
export async function startServer(app: Express, { port, host, keepAliveTimeoutMs }: ServerOptions): Promise<Server> {
  const server = host === undefined ? app.listen(port) : app.listen(port, host);
  server.keepAliveTimeout = keepAliveTimeoutMs;
  server.headersTimeout = keepAliveTimeoutMs + 1_000;
  // Node expects the whole-request timeout to be no shorter than the headers timeout.
  if (server.requestTimeout > 0 && server.requestTimeout < server.headersTimeout) server.requestTimeout = server.headersTimeout;
  await once(server, 'listening');
  return server;
}
