/**
 * The audiences journey on the running stack, over HTTP from outside as an operator and readers
 * would: lists (public with double opt-in and a welcome email, public without, private), a signup
 * through a list's embedded form with confirmation and one welcome email, people with attributes on
 * overlapping lists, campaigns to two lists and to a segment (each person once), the one-click
 * unsubscribe of a campaign leaving only its list, and a bounce signed with the operator's own key
 * (which replaces the stack's pair) suppressing a person on every list.
 *
 * Runs on a stack where only the existing journey ran: its one subscriber (on the default list) must
 * receive none of these campaigns.
 */
import { generateKeyPairSync, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import type { Compose } from './docker.js';
import { admin, check, json, sinkMessages, sinkMessagesTo, waitFor, webUrl } from './journey.js';
import type { SinkMessage } from './journey.js';

const domain = 'audience.smoke.example';
const at = (local: string) => `${local}@${domain}`;

type Subscription = { listId: string; slug: string; status: string };
type Subscriber = { id: string; email: string; status: string; attributes: Record<string, unknown>; subscriptions: Subscription[] };
type List = { id: string; slug: string; visibility: string; doubleOptIn: boolean };

function step(message: string): void {
  console.log(`compose-smoke: audiences: ${message}`);
}

async function createList(body: Record<string, unknown>): Promise<List> {
  const list = await json<List>(await fetch(`${webUrl}/lists`, admin({ method: 'POST', body: JSON.stringify(body) })), 201, `POST /lists ${String(body.slug)}`);
  check(list.slug === body.slug && list.visibility === body.visibility, `list ${String(body.slug)} created as asked: ${JSON.stringify(list)}`);
  return list;
}

async function subscriberByEmail(email: string): Promise<Subscriber> {
  const found = await json<{ subscribers: { id: string; email: string }[] }>(
    await fetch(`${webUrl}/subscribers?q=${encodeURIComponent(email)}`, admin()),
    200,
    'GET /subscribers?q=',
  );
  const match = found.subscribers.find((subscriber) => subscriber.email === email);
  check(match, `${email} is a subscriber`);
  return subscriber(match.id);
}

async function subscriber(id: string): Promise<Subscriber> {
  return json<Subscriber>(await fetch(`${webUrl}/subscribers/${id}`, admin()), 200, `GET /subscribers/${id}`);
}

/** The person's subscription status per list slug, e.g. {weekly: 'active'}. */
function statusBySlug(person: Subscriber): Record<string, string> {
  return Object.fromEntries(person.subscriptions.map((subscription) => [subscription.slug, subscription.status]));
}

/** Imports confirmed people with attribute columns into one list. */
async function importTo(list: string, header: string, rows: string[]): Promise<void> {
  const result = await json<{ subscribed: number; invalidCount: number }>(
    await fetch(`${webUrl}/subscribers/import?consent=confirmed&list=${list}`, admin({ method: 'POST', body: [header, ...rows].join('\n'), headers: { 'content-type': 'text/csv' } })),
    200,
    `CSV import into ${list}`,
  );
  check(result.subscribed === rows.length && result.invalidCount === 0, `every row imported into ${list}: ${JSON.stringify(result)}`);
}

/** POST /send with an audience, then waits until the campaign reports `sent`. */
async function sendTo(subject: string, audience: { lists: string[]; segment?: string }, expectedRecipients: number): Promise<string> {
  const sent = await json<{ campaignId: string; recipients: number }>(
    await fetch(`${webUrl}/send`, admin({ method: 'POST', body: JSON.stringify({ subject, body: '<p>Hello {{name}}, on {{attributes.plan}}.</p>', ...audience }) })),
    202,
    `POST /send ${subject}`,
  );
  check(sent.recipients === expectedRecipients, `"${subject}" snapshots ${expectedRecipients} recipients (got ${sent.recipients})`);
  await waitFor(`campaign "${subject}" to be sent`, async () => {
    const campaign = await json<{ status: string }>(await fetch(`${webUrl}/campaigns/${sent.campaignId}`, admin()), 200, 'GET campaign');
    return campaign.status === 'sent';
  }, 120_000);
  return sent.campaignId;
}

/**
 * Checks that the messages with `subject` went to exactly `expected`, each once: nobody missing,
 * nobody twice, nobody else (the sink holds everything the stack sent, so this is the whole truth).
 */
async function checkReceivedExactly(subject: string, expected: string[]): Promise<SinkMessage[]> {
  const received = (await sinkMessages()).filter((message) => message.subject === subject);
  const perRecipient = new Map<string, number>();
  for (const message of received) for (const to of message.recipients) perRecipient.set(to, (perRecipient.get(to) ?? 0) + 1);
  const got = [...perRecipient.keys()].sort();
  check(JSON.stringify(got) === JSON.stringify([...expected].sort()), `"${subject}" reached exactly ${expected.join(', ')}; got ${got.join(', ')}`);
  const doubled = [...perRecipient].filter(([, count]) => count !== 1);
  check(doubled.length === 0, `"${subject}" reached each person once (${doubled.map(([to, count]) => `${to}×${count}`).join(', ')})`);
  return received;
}

function header(message: SinkMessage, name: string): string | undefined {
  return Object.entries(message.headers ?? {}).find(([key]) => key.toLowerCase() === name.toLowerCase())?.[1];
}

async function welcomesTo(email: string, subject: string): Promise<number> {
  return (await sinkMessagesTo(email)).filter((message) => message.subject === subject).length;
}

/** A signup through the list's embedded form: a plain urlencoded POST, as the snippet's form makes. */
async function embeddedSignup(slug: string, email: string, name: string): Promise<void> {
  const res = await fetch(`${webUrl}/l/${slug}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    // The redirect's origin is not in SIGNUP_REDIRECT_ORIGINS (empty here), so Herald's own page answers.
    body: new URLSearchParams({ email, name, redirect: 'https://www.example.com/thanks' }).toString(),
    redirect: 'manual',
  });
  const page = await res.text();
  check(res.status === 200 && page.includes('Check your inbox'), `the embedded form answers Herald's "check your inbox" page (got ${res.status})`);
}

/** Confirms through the emailed link: the GET only shows the button, the POST confirms; twice. */
async function confirmByLink(email: string): Promise<void> {
  const confirmation = await waitFor(`the confirmation email to ${email}`, async () => (await sinkMessagesTo(email)).find((message) => /\/confirm\//.test(message.text ?? '')));
  const link = /http:\/\/localhost:3000\/confirm\/[A-Za-z0-9_-]+/.exec(confirmation.text ?? '')?.[0];
  check(link, `a confirm link in the confirmation email: ${confirmation.text}`);
  const shown = await fetch(link);
  const page = await shown.text();
  check(shown.status === 200 && /<form[^>]*method="post"/i.test(page), `GET of the confirm link shows a form with a button (got ${shown.status})`);
  const pending = await subscriberByEmail(email);
  check(pending.status === 'pending', `the GET confirmed nothing: ${email} is still ${pending.status}`);
  for (const attempt of [1, 2]) {
    const confirmed = await fetch(link, { method: 'POST' });
    check(confirmed.status === 200, `confirm POST ${attempt} answered ${confirmed.status}`);
  }
}

/**
 * Restarts the web with a webhook verification key of its own, as an operator who set
 * SENDGRID_WEBHOOK_PUBLIC_KEY to SendGrid's would; it replaces the stack's own pair.
 */
async function verifyWith(compose: Compose, publicKey: KeyObject): Promise<void> {
  const der = publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
  await compose(['up', '-d', '--no-deps', 'web'], { echo: true, env: { SENDGRID_WEBHOOK_PUBLIC_KEY: der } });
  await waitFor('the web /readyz after the restart', async () => (await fetch(`${webUrl}/readyz`)).status === 200, 120_000);
}

/** Posts a batch to SendGrid's webhook route, signed as SendGrid signs: ECDSA over timestamp + body. */
async function postEvents(events: unknown[], key?: KeyObject): Promise<Response> {
  const body = JSON.stringify(events);
  const timestamp = String(Math.floor(Date.now() / 1000));
  const signature: Record<string, string> = key ? { 'x-twilio-email-event-webhook-signature': sign('sha256', Buffer.from(timestamp + body), key).toString('base64'), 'x-twilio-email-event-webhook-timestamp': timestamp } : {};
  return fetch(`${webUrl}/webhooks/sendgrid`, { method: 'POST', headers: { 'content-type': 'application/json', ...signature }, body });
}

export async function audienceJourney(compose: Compose): Promise<void> {
  const welcomeSubject = 'Welcome to the weekly digest';
  step('create two public lists (weekly: double opt-in and a welcome email; product) and a private one (insiders)');
  const weekly = await createList({ name: 'Weekly digest', slug: 'weekly', visibility: 'public', doubleOptIn: true, welcome: { subject: welcomeSubject, body: 'Hello {{name}}, glad you joined.' } });
  await createList({ name: 'Product updates', slug: 'product', visibility: 'public', doubleOptIn: false });
  await createList({ name: 'Insiders', slug: 'insiders', visibility: 'private' });
  check(weekly.doubleOptIn === true, 'weekly needs double opt-in');
  check((await fetch(`${webUrl}/l/weekly`)).status === 200, 'GET /l/weekly shows the public form');
  check((await fetch(`${webUrl}/l/insiders`)).status === 404, 'GET /l/insiders is 404: a private list takes no signups');

  step('Ada signs up to weekly through its embedded form, confirms by the emailed link (twice)');
  const ada = at('ada');
  await embeddedSignup('weekly', ada, 'Ada');
  await confirmByLink(ada);
  await waitFor('the welcome email to Ada', async () => (await welcomesTo(ada, welcomeSubject)) > 0);
  let adaPerson = await subscriberByEmail(ada);
  check(adaPerson.status === 'active' && statusBySlug(adaPerson).weekly === 'active', `Ada is active on weekly: ${JSON.stringify(statusBySlug(adaPerson))}`);

  step('people with attributes on weekly and product (carol on both), dan on the private list only');
  const bob = at('bob');
  const carol = at('carol');
  const dan = at('dan');
  const erin = at('erin');
  const frank = at('frank');
  const gina = at('gina');
  await importTo('weekly', 'email,name,plan,country', [`${bob},Bob,pro,FR`, `${carol},Carol,pro,BE`, `${gina},Gina,free,DE`]);
  await importTo('product', 'email,name,plan', [`${carol},Carol,`, `${erin},Erin,pro`, `${frank},Frank,free`]);
  await importTo('insiders', 'email,name,plan', [`${dan},Dan,pro`]);
  // Ada, who came through the form, gets her attribute and the second list from the API.
  await json(await fetch(`${webUrl}/subscribers/${adaPerson.id}`, admin({ method: 'PATCH', body: JSON.stringify({ attributes: { plan: 'pro', country: 'FR' } }) })), 200, 'PATCH Ada attributes');
  await json(await fetch(`${webUrl}/subscribers/${adaPerson.id}/lists/product`, admin({ method: 'PUT' })), 200, 'PUT Ada on product');
  adaPerson = await subscriber(adaPerson.id);
  check(adaPerson.attributes.plan === 'pro', `Ada's attributes: ${JSON.stringify(adaPerson.attributes)}`);
  check(statusBySlug(adaPerson).weekly === 'active' && statusBySlug(adaPerson).product === 'active', `Ada on both lists: ${JSON.stringify(statusBySlug(adaPerson))}`);
  const carolPerson = await subscriberByEmail(carol);
  // The second import's empty plan cell left Carol's plan as the first import set it.
  check(carolPerson.attributes.plan === 'pro' && carolPerson.attributes.country === 'BE', `Carol's attributes kept: ${JSON.stringify(carolPerson.attributes)}`);
  check(statusBySlug(carolPerson).weekly === 'active' && statusBySlug(carolPerson).product === 'active', `Carol on both lists: ${JSON.stringify(statusBySlug(carolPerson))}`);

  step('a campaign to weekly and product reaches each of their people once, nobody else');
  await sendTo('Audience issue 1', { lists: ['weekly', 'product'] }, 6);
  await checkReceivedExactly('Audience issue 1', [ada, bob, carol, gina, erin, frank]);
  check((await welcomesTo(ada, welcomeSubject)) === 1, `Ada got the welcome email exactly once (confirmed twice, then added to another list)`);

  step('a segment on plan = pro narrows a campaign to the same lists');
  const segment = await json<{ id: string }>(
    await fetch(`${webUrl}/segments`, admin({ method: 'POST', body: JSON.stringify({ name: 'Pro plan', rules: { attribute: 'plan', op: 'eq', value: 'pro' } }) })),
    201,
    'POST /segments',
  );
  // The count is over every active person, the private list's Dan included; the campaign only its lists'.
  const counted = await json<{ count: number }>(await fetch(`${webUrl}/segments/${segment.id}/count`, admin()), 200, 'GET segment count');
  check(counted.count === 5, `the segment counts Ada, Bob, Carol, Dan and Erin (got ${counted.count})`);
  await sendTo('Audience issue 2 (pro)', { lists: ['weekly', 'product'], segment: segment.id }, 4);
  await checkReceivedExactly('Audience issue 2 (pro)', [ada, bob, carol, erin]);

  step('Ada unsubscribes with one click from a campaign sent to weekly: she stays on product');
  await sendTo('Audience issue 3 (weekly)', { lists: ['weekly'] }, 4);
  const weeklyIssue = await checkReceivedExactly('Audience issue 3 (weekly)', [ada, bob, carol, gina]);
  const toAda = weeklyIssue.find((message) => message.recipients.includes(ada))!;
  check(header(toAda, 'List-Unsubscribe-Post') === 'List-Unsubscribe=One-Click', `RFC 8058 List-Unsubscribe-Post header: ${JSON.stringify(toAda.headers)}`);
  const unsubscribeUrl = /<(http:\/\/localhost:3000\/unsubscribe\/[^>]+)>/.exec(header(toAda, 'List-Unsubscribe') ?? '')?.[1];
  check(unsubscribeUrl && unsubscribeUrl.includes('/c/'), `a campaign's one-click URL in List-Unsubscribe: ${header(toAda, 'List-Unsubscribe')}`);
  // What a mail client posts (RFC 8058 §3.2); a second post, as clients retry, changes nothing more.
  for (const attempt of [1, 2]) {
    const res = await fetch(unsubscribeUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
    check(res.status === 200, `one-click POST ${attempt} answered ${res.status}`);
  }
  adaPerson = await subscriber(adaPerson.id);
  check(adaPerson.status === 'active', `Ada is still active herself (${adaPerson.status})`);
  check(statusBySlug(adaPerson).weekly === 'unsubscribed' && statusBySlug(adaPerson).product === 'active', `Ada left weekly only: ${JSON.stringify(statusBySlug(adaPerson))}`);

  step('a bounce for Carol signed with a key the web is given (SENDGRID_WEBHOOK_PUBLIC_KEY) suppresses her on every list');
  const unsigned = await postEvents([{ email: carol, event: 'bounce', type: 'bounce', timestamp: Math.floor(Date.now() / 1000), sg_event_id: 'smoke-unsigned' }]);
  check(unsigned.status === 403, `an unsigned event is refused: the stack verifies with its own key pair (got ${unsigned.status})`);
  const key = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const bounce = { email: carol, event: 'bounce', type: 'bounce', reason: '550 5.1.1 mailbox does not exist', status: '5.1.1', timestamp: Math.floor(Date.now() / 1000), sg_event_id: 'smoke-bounce-carol' };
  const early = await postEvents([bounce], key.privateKey);
  check(early.status === 403, `an event signed with a key the web was not given is refused (got ${early.status})`);
  await verifyWith(compose, key.publicKey);
  const stored = await json<{ received: number; stored: number; malformed: number }>(await postEvents([bounce], key.privateKey), 200, 'signed webhook post');
  check(stored.received === 1 && stored.stored === 1 && stored.malformed === 0, `the bounce is stored: ${JSON.stringify(stored)}`);
  const bounced = await waitFor('Carol to be bounced', async () => {
    const person = await subscriber(carolPerson.id);
    return person.status === 'bounced' && person;
  }, 60_000);
  check(bounced.subscriptions.length === 2, `Carol keeps her two subscriptions; the suppression is on her: ${JSON.stringify(statusBySlug(bounced))}`);
  await sendTo('Audience issue 4', { lists: ['weekly', 'product'] }, 5);
  // Ada comes by product alone now; Carol by neither list.
  await checkReceivedExactly('Audience issue 4', [ada, bob, gina, erin, frank]);
  check((await welcomesTo(ada, welcomeSubject)) === 1, 'Ada still has exactly one welcome email at the end');
  check((await sinkMessagesTo(dan)).length === 0, 'Dan, only on the private list, received nothing');
}
