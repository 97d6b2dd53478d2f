import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export type ReceivedWebhook = { headers: IncomingHttpHeaders; body: string; at: number; answered: number };

/**
 * An outbound webhook receiver on a free local port: it keeps every request, answers `status`
 * (200 unless set otherwise, e.g. 503 for an outage), and checks signatures with the maintained
 * `standardwebhooks` library, as a receiver would.
 */
export async function startWebhookReceiver() {
  const received: ReceivedWebhook[] = [];
  let status = 200;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now(), answered: status });
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : 'down for now');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    received,
    /** The status every request is answered with from now on. */
    answer(next: number) {
      status = next;
    },
    /** Requests answered 2xx, parsed after their signature is verified with `secret` (throws if one is not). */
    delivered(secret: string): { id: string; type: string; version: number; timestamp: string; data: Record<string, unknown> }[] {
      const verifier = new Webhook(secret);
      return received
        .filter((request) => request.answered < 300)
        .map((request) => verifier.verify(request.body, request.headers as Record<string, string>) as never);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
