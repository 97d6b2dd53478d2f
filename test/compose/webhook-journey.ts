/**
 * Outbound webhooks on the running stack: an endpoint registered at the mail sink's receiver
 * (reachable because compose sets WEBHOOK_ALLOW_PRIVATE), a test event and a signup's
 * subscriber.created arriving there, each signature verified with the endpoint's secret by the
 * `standardwebhooks` library, as a receiver would.
 */
import { Webhook } from 'standardwebhooks';
import { admin, check, json, sinkUrl, waitFor, webUrl } from './journey.js';

type Caught = { id: string | null; timestamp: string | null; signature: string | null; body: string };
type Event = { id: string; type: string; data: { subscriber?: { email?: string } } };

export async function webhookJourney(): Promise<void> {
  const endpoint = await json<{ id: string; secret: string }>(
    await fetch(`${webUrl}/webhook-endpoints`, admin({ method: 'POST', body: JSON.stringify({ url: 'http://mail-sink:3100/api/webhooks', events: ['subscriber.created'] }) })),
    201,
    'POST /webhook-endpoints',
  );
  const test = await json<{ eventId: string }>(await fetch(`${webUrl}/webhook-endpoints/${endpoint.id}/test`, admin({ method: 'POST' })), 202, 'POST /webhook-endpoints/:id/test');
  const email = 'webhooks@smoke.example';
  const signup = await fetch(`${webUrl}/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email }) });
  check(signup.status < 300, `signup for the webhook answered ${signup.status}`);

  const verifier = new Webhook(endpoint.secret);
  const events = await waitFor('the test event and subscriber.created at the sink', async () => {
    const caught = await json<Caught[]>(await fetch(`${sinkUrl}/api/webhooks`), 200, 'GET the sink /api/webhooks');
    const verified = caught.map((request) =>
      verifier.verify(request.body, { 'webhook-id': request.id ?? '', 'webhook-timestamp': request.timestamp ?? '', 'webhook-signature': request.signature ?? '' }) as Event,
    );
    const gotTest = verified.some((event) => event.id === test.eventId && event.type === 'webhook.test');
    const gotSignup = verified.some((event) => event.type === 'subscriber.created' && event.data.subscriber?.email === email);
    return gotTest && gotSignup ? verified : undefined;
  }, 60_000);
  const deliveries = await json<{ deliveries: { status: string }[] }>(await fetch(`${webUrl}/webhook-endpoints/${endpoint.id}/deliveries`, admin()), 200, 'GET deliveries');
  check(deliveries.deliveries.every((delivery) => delivery.status === 'delivered'), `every delivery delivered: ${JSON.stringify(deliveries.deliveries)}`);
  console.log(`compose-smoke: webhooks: ${events.length} signed events verified at the sink's receiver`);
}
