import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createMailSink, type MailSink, type MailSinkOptions } from './app.js';

export type StartMailSinkOptions = MailSinkOptions & {
  /** 0 picks a free port. */
  port?: number;
  host?: string;
};

export type RunningMailSink = Omit<MailSink, 'app'> & {
  /** Base URL without a trailing slash, for `client.setDefaultRequest('baseUrl', url)`. */
  url: string;
  close(): Promise<void>;
};

/** Listens on 127.0.0.1 and an ephemeral port unless told otherwise; resolves once it accepts connections. */
export async function startMailSink(options: StartMailSinkOptions): Promise<RunningMailSink> {
  const { port = 0, host = '127.0.0.1', ...sinkOptions } = options;
  const { app, ...sink } = createMailSink(sinkOptions);
  const server = app.listen(port, host);
  await once(server, 'listening');
  const address = server.address() as AddressInfo;

  return {
    ...sink,
    url: `http://${formatHost(address.address)}:${address.port}`,
    async close() {
      const closed = once(server, 'close');
      server.close();
      // Clients keep connections alive; dropping them makes close() prompt instead of waiting for idle timeouts.
      server.closeAllConnections();
      await closed;
      await sink.events?.close();
    },
  };
}

function formatHost(address: string): string {
  if (address === '0.0.0.0' || address === '::') return 'localhost';
  return address.includes(':') ? `[${address}]` : address;
}
