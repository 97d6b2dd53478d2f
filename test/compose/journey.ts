/**
 * What a user does with the running stack, over HTTP from outside the containers: the web on
 * :3000 and the mail sink on :3100, as published by docker-compose.yml.
 */
export const webUrl = 'http://localhost:3000';
export const sinkUrl = 'http://localhost:3100';
/** The development token the README's curl uses (docker-compose.yml's and .env.example's default). */
export const adminToken = 'dev-admin-token-change-me-0123456789abcdef';
export const metricsToken = 'dev-metrics-token-change-me-0123456789';

export type SinkMessage = { id: string; recipients: string[]; subject: string; text: string | null; headers?: Record<string, string> };

export function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`check failed: ${message}`);
}

/** Polls `probe` until it returns a value, or fails naming `what` after `timeoutMs`. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      // Each probe is bounded by a timer of our own: a fetch whose connection the Docker proxy drops
      // while a container starts can stay pending with nothing keeping Node's event loop alive.
      let timer: NodeJS.Timeout | undefined;
      const value = await Promise.race([
        probe(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`probe for ${what} took over 15 s`)), 15_000);
        }),
      ]).finally(() => clearTimeout(timer));
      if (value) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`, { cause: lastError });
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

export async function json<T>(res: Response, expected: number, what: string): Promise<T> {
  const text = await res.text();
  check(res.status === expected, `${what}: expected ${expected}, got ${res.status} ${text.slice(0, 500)}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

export const admin = (init: RequestInit = {}): RequestInit => ({
  ...init,
  headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json', ...init.headers },
});

export async function sinkMessagesTo(email: string): Promise<SinkMessage[]> {
  return json<SinkMessage[]>(await fetch(`${sinkUrl}/api/messages?to=${encodeURIComponent(email)}`), 200, 'sink messages');
}

export async function sinkMessages(): Promise<SinkMessage[]> {
  return json<SinkMessage[]>(await fetch(`${sinkUrl}/api/messages`), 200, 'sink messages');
}

/**
 * Signup → confirmation email in the sink → POST the confirm link → POST /send → newsletter in the
 * sink → its delivery in the campaign's report.
 */
export async function signupConfirmAndSend(email: string, subject: string): Promise<void> {
  await json(
    await fetch(`${webUrl}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ email, name: 'Smoke Test' }),
    }),
    202,
    'signup',
  );
  const confirmation = await waitFor('the confirmation email in the sink', async () => (await sinkMessagesTo(email))[0]);
  const link = /http:\/\/localhost:3000\/confirm\/[A-Za-z0-9_-]+/.exec(confirmation.text ?? '')?.[0];
  check(link, `a confirm link in the confirmation email: ${confirmation.text}`);
  const confirmed = await fetch(link, { method: 'POST' });
  check(confirmed.status === 200, `confirm answered ${confirmed.status}`);

  const sent = await json<{ campaignId: string; recipients: number }>(
    await fetch(`${webUrl}/send`, admin({ method: 'POST', body: JSON.stringify({ subject, body: '<p>Hello {{name}}!</p>' }) })),
    202,
    'POST /send',
  );
  check(sent.recipients >= 1, `the campaign has recipients (${sent.recipients})`);
  await waitFor('the newsletter in the sink', async () => (await sinkMessagesTo(email)).find((message) => message.subject === subject));
  await waitForDeliveredInReport(sent.campaignId);
}

/**
 * The sink's `delivered` event, signed with the stack's own key pair, reached the web's webhook and
 * a worker counted it: what a live campaign report in `docker compose up` rests on.
 */
export async function waitForDeliveredInReport(campaignId: string): Promise<number> {
  return waitFor(
    `campaign ${campaignId}'s report to count a delivery`,
    async () => {
      const report = await json<{ totals: { delivered: number } }>(await fetch(`${webUrl}/campaigns/${campaignId}/report`, admin()), 200, 'GET report');
      return report.totals.delivered > 0 && report.totals.delivered;
    },
    60_000,
  );
}

/** Imports `count` confirmed subscribers in one CSV upload. */
export async function importAudience(count: number, domain: string): Promise<string[]> {
  const emails = Array.from({ length: count }, (_, i) => `reader-${i}@${domain}`);
  const csv = ['email,name', ...emails.map((email, i) => `${email},Reader ${i}`)].join('\n');
  const result = await json<{ imported: number }>(
    await fetch(`${webUrl}/subscribers/import?consent=confirmed`, admin({ method: 'POST', body: csv, headers: { 'content-type': 'text/csv' } })),
    200,
    'CSV import',
  );
  check(result.imported === count, `imported ${result.imported} of ${count}`);
  return emails;
}

/** POST /send, then waits until the campaign reports `sent`; resolves with the campaign. */
export async function sendAndWait(
  subject: string,
  timeoutMs: number,
  body = '<p>Hello {{name}}!</p>',
): Promise<{ campaignId: string; recipients: number }> {
  const sent = await json<{ campaignId: string; recipients: number }>(
    await fetch(`${webUrl}/send`, admin({ method: 'POST', body: JSON.stringify({ subject, body }) })),
    202,
    'POST /send',
  );
  await waitFor(
    `campaign ${sent.campaignId} to be sent`,
    async () => {
      const campaign = await json<{ status: string }>(await fetch(`${webUrl}/campaigns/${sent.campaignId}`, admin()), 200, 'GET campaign');
      return campaign.status === 'sent';
    },
    timeoutMs,
  );
  return sent;
}

/** Reads a series' value out of Prometheus text; 0 when absent. */
export function sample(text: string, series: string): number {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}
