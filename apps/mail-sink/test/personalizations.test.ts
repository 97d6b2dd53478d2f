import { Client } from '@sendgrid/client';
import { MailService, type MailDataRequired } from '@sendgrid/mail';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createInbox, type ReceivedMessage } from '../src/inbox.js';
import type { MailSendRequest } from '../src/mail-send-request.js';
import type { SendGridErrorBody } from '../src/sendgrid-error.js';
import { startMailSink, type RunningMailSink } from '../src/start.js';

/*
 * One request carrying many personalizations, as Herald's batched sends make them: the sink must
 * show each recipient exactly the email SendGrid would deliver to them.
 */
const API_KEY = 'SG.personalizations-test-key';
let sink: RunningMailSink;

beforeAll(async () => {
  sink = await startMailSink({ apiKey: API_KEY });
});
afterEach(() => sink.reset());
afterAll(() => sink.close());

function createMailer(): MailService {
  const client = new Client();
  client.setApiKey(API_KEY);
  // setApiKey resets baseUrl to production, so the sink's URL must be set after it.
  client.setDefaultRequest('baseUrl', sink.url);
  const mailer = new MailService();
  mailer.setClient(client);
  return mailer;
}

/** A batch as Herald's worker builds it: per recipient its address, unsubscribe headers, delivery id and substitutions. */
function buildBatch(): MailDataRequired {
  const recipient = (email: string, name: string, delivery: string, extra: { headers?: Record<string, string>; [member: string]: unknown } = {}) => ({
    ...extra,
    to: [{ email, name }],
    headers: {
      'List-Unsubscribe': `<https://herald.test/unsubscribe/{{token}}>, <mailto:unsubscribe+${delivery}@herald.test>`,
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      ...extra.headers,
    },
    customArgs: { herald_delivery_id: delivery, note: 'raw {{name}}' },
    substitutions: { name: name, token: `tok-${delivery}`, email },
  });
  return {
    from: { email: 'news@herald.test', name: 'Herald' },
    replyTo: { email: 'desk@herald.test', name: 'Desk for {{name}}' },
    subject: 'Issue 7 for {{name}}',
    text: 'Hello {{name}} <{{email}}>. Leave: https://herald.test/unsubscribe/{{token}}',
    html: '<p>Hello {{name}}!</p><a href="https://herald.test/unsubscribe/{{token}}">Leave</a> <span>{{name}}</span>',
    headers: { 'X-Campaign': 'issue-7', 'List-Id': 'Herald <news.herald.test>' },
    customArgs: { herald_campaign_id: 'cmp_7', note: 'message level' },
    personalizations: [
      recipient('ada@example.com', 'Ada', 'dlv_1'),
      recipient('grace@example.com', 'Grace', 'dlv_2', { subject: 'Grace, your own subject ({{token}})', headers: { 'list-id': 'Override <x.herald.test>' } }),
      recipient('alan@example.com', 'Alan', 'dlv_3', { cc: [{ email: 'alan.cc@example.com' }] }),
    ],
  } as MailDataRequired;
}

function validBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    from: { email: 'news@herald.test' },
    personalizations: [{ to: [{ email: 'reader@example.com' }] }],
    subject: 'Issue',
    content: [
      { type: 'text/plain', value: 'Hello' },
      { type: 'text/html', value: '<p>Hello</p>' },
    ],
    ...overrides,
  };
}

function postMailSend(body: object): Promise<Response> {
  return fetch(`${sink.url}/v3/mail/send`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` },
    body: JSON.stringify(body),
  });
}

async function getJson<T>(path: string): Promise<T> {
  return (await (await fetch(`${sink.url}${path}`)).json()) as T;
}

function only(messages: ReceivedMessage[]): ReceivedMessage {
  expect(messages).toHaveLength(1);
  return messages[0]!;
}

describe('a request with several personalizations, sent with the real @sendgrid/mail client', () => {
  it('lands as one message per personalization, each as its recipient receives it', async () => {
    const [response] = await createMailer().send(buildBatch());
    expect(response.statusCode).toBe(202);
    const messageId = response.headers['x-message-id'] as string;

    const messages = sink.inbox.list();
    expect(messages.map((message) => message.recipients)).toEqual([['ada@example.com'], ['grace@example.com'], ['alan@example.com', 'alan.cc@example.com']]);
    expect(messages.map((message) => message.id)).toEqual([messageId, messageId, messageId]);
    expect(new Set(messages.map((message) => message.sgMessageId)).size).toBe(3);
    for (const message of messages) expect(message.sgMessageId.startsWith(`${messageId}.`)).toBe(true);

    const [ada, grace, alan] = messages;
    expect(ada).toMatchObject({
      personalizationIndex: 0,
      to: [{ email: 'ada@example.com', name: 'Ada' }],
      cc: [],
      bcc: [],
      from: 'news@herald.test',
      subject: 'Issue 7 for Ada',
      text: 'Hello Ada <ada@example.com>. Leave: https://herald.test/unsubscribe/tok-dlv_1',
      html: '<p>Hello Ada!</p><a href="https://herald.test/unsubscribe/tok-dlv_1">Leave</a> <span>Ada</span>',
      replyTo: { email: 'desk@herald.test', name: 'Desk for Ada' },
    });
    // Headers and custom args: the personalization's win; SendGrid substitutes neither.
    expect(ada!.headers).toEqual({
      'X-Campaign': 'issue-7',
      'List-Id': 'Herald <news.herald.test>',
      'List-Unsubscribe': '<https://herald.test/unsubscribe/{{token}}>, <mailto:unsubscribe+dlv_1@herald.test>',
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    });
    expect(ada!.customArgs).toEqual({ herald_campaign_id: 'cmp_7', note: 'raw {{name}}', herald_delivery_id: 'dlv_1' });

    expect(grace).toMatchObject({
      personalizationIndex: 1,
      subject: 'Grace, your own subject (tok-dlv_2)',
      text: 'Hello Grace <grace@example.com>. Leave: https://herald.test/unsubscribe/tok-dlv_2',
      html: '<p>Hello Grace!</p><a href="https://herald.test/unsubscribe/tok-dlv_2">Leave</a> <span>Grace</span>',
      customArgs: { herald_campaign_id: 'cmp_7', note: 'raw {{name}}', herald_delivery_id: 'dlv_2' },
    });
    // A header name differing only in case replaces the message's header rather than doubling it.
    expect(grace!.headers).toEqual({
      'X-Campaign': 'issue-7',
      'list-id': 'Override <x.herald.test>',
      'List-Unsubscribe': '<https://herald.test/unsubscribe/{{token}}>, <mailto:unsubscribe+dlv_2@herald.test>',
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    });

    expect(alan).toMatchObject({
      personalizationIndex: 2,
      to: [{ email: 'alan@example.com', name: 'Alan' }],
      cc: [{ email: 'alan.cc@example.com' }],
      subject: 'Issue 7 for Alan',
      html: '<p>Hello Alan!</p><a href="https://herald.test/unsubscribe/tok-dlv_3">Leave</a> <span>Alan</span>',
      customArgs: { herald_campaign_id: 'cmp_7', note: 'raw {{name}}', herald_delivery_id: 'dlv_3' },
    });
    // The request as received, narrowed to the message's own personalization.
    expect(alan!.request.personalizations).toHaveLength(1);
    expect(alan!.request.personalizations[0]?.substitutions).toEqual({ '{{name}}': 'Alan', '{{token}}': 'tok-dlv_3', '{{email}}': 'alan@example.com' });

    expect(sink.stats.get()).toEqual({
      requests: 1,
      byStatus: { 202: 1 },
      byRecipient: { 'ada@example.com': 1, 'grace@example.com': 1, 'alan@example.com': 1, 'alan.cc@example.com': 1 },
      messages: 3,
      recipients: 4,
    });
  });

  it('finds each recipient’s own message, with their own substitutions, in code, the JSON API and the pages', async () => {
    const [response] = await createMailer().send(buildBatch());
    const messageId = response.headers['x-message-id'] as string;

    const grace = only(sink.inbox.findByRecipient('Grace@Example.com'));
    expect(grace.html).toContain('Hello Grace!');
    expect(only(sink.inbox.findByRecipient('alan.cc@example.com')).html).toContain('Hello Alan!');

    const fromApi = await getJson<ReceivedMessage[]>('/api/messages?to=GRACE@example.com');
    expect(fromApi).toEqual([JSON.parse(JSON.stringify(grace))]);
    expect(fromApi[0]).toMatchObject({ subject: 'Grace, your own subject (tok-dlv_2)', html: expect.stringContaining('tok-dlv_2') });

    const ofRequest = await getJson<ReceivedMessage[]>(`/api/messages?messageId=${messageId}`);
    expect(ofRequest.map((message) => message.recipients[0])).toEqual(['ada@example.com', 'grace@example.com', 'alan@example.com']);
    expect((await getJson<ReceivedMessage[]>(`/api/messages?messageId=${messageId}&to=alan@example.com`)).map((m) => m.sgMessageId)).toEqual([
      ofRequest[2]?.sgMessageId,
    ]);
    expect(await getJson('/api/messages?messageId=unknown')).toEqual([]);

    const one = await getJson<ReceivedMessage>(`/api/messages/${grace.sgMessageId}`);
    expect(one).toMatchObject({ sgMessageId: grace.sgMessageId, recipients: ['grace@example.com'], subject: grace.subject });
    // The X-Message-Id alone names the request's first message.
    expect((await getJson<ReceivedMessage>(`/api/messages/${messageId}`)).recipients).toEqual(['ada@example.com']);

    const inboxPage = await (await fetch(`${sink.url}/?to=grace@example.com`)).text();
    expect(inboxPage).toContain('1 message to grace@example.com');
    expect(inboxPage).toContain(`href="/messages/${grace.sgMessageId}"`);
    expect(inboxPage).toContain('Grace, your own subject (tok-dlv_2)');
    expect(inboxPage).not.toContain('Issue 7 for Ada');

    const messagePage = await (await fetch(`${sink.url}/messages/${grace.sgMessageId}`)).text();
    expect(messagePage).toContain('Hello Grace!');
    expect(messagePage).toContain('tok-dlv_2');
    expect(messagePage).not.toContain('Hello Ada!');
    expect(messagePage).not.toContain('dlv_1');
    expect(messagePage).toContain('Override &lt;x.herald.test&gt;');
  });

  it('fails the whole request with 400 when a fault refuses one recipient, and stores none of it', async () => {
    sink.faults.update({ rejectRecipients: ['grace@example.com'] });

    const error = (await createMailer().send(buildBatch()).then(
      () => expect.fail('the request should have been refused'),
      (caught: unknown) => caught,
    )) as { code: number; response: { body: SendGridErrorBody } };

    expect(error.code).toBe(400);
    expect(error.response.body).toEqual({ errors: [{ message: 'Does not contain a valid address.', field: 'personalizations.1.to.0.email', help: null }] });
    expect(sink.inbox.list()).toHaveLength(0);
    expect(sink.inbox.findByRecipient('ada@example.com')).toHaveLength(0);
    expect(sink.stats.get()).toMatchObject({ requests: 1, byStatus: { 400: 1 }, messages: 0, recipients: 0 });
  });
});

describe('substitutions in a request, as SendGrid documents them', () => {
  it('apply to the subject, the text and html parts and reply_to, not to headers, custom_args or other content', async () => {
    const response = await postMailSend(
      validBody({
        subject: '-k- subject',
        reply_to: { email: 'reply-k-@herald.test', name: '-k- desk' },
        content: [
          { type: 'text/plain', value: 'text -k-' },
          { type: 'text/html', value: '<p>html -k-</p>' },
          { type: 'text/calendar', value: 'BEGIN:VCALENDAR -k-' },
        ],
        headers: { 'X-Tag': '-k-' },
        custom_args: { tag: '-k-' },
        personalizations: [{ to: [{ email: 'reader@example.com' }], substitutions: { '-k-': 'K' }, headers: { 'X-Own': '-k-' }, custom_args: { own: '-k-' } }],
      }),
    );
    expect(response.status).toBe(202);

    const message = only(sink.inbox.list());
    expect(message).toMatchObject({
      subject: 'K subject',
      text: 'text K',
      html: '<p>html K</p>',
      replyTo: { email: 'replyK@herald.test', name: 'K desk' },
      headers: { 'X-Tag': '-k-', 'X-Own': '-k-' },
      customArgs: { tag: '-k-', own: '-k-' },
    });
    expect(message.request.content?.[2]?.value).toBe('BEGIN:VCALENDAR -k-');
  });

  it('cover the edge cases: repeated keys, values holding keys, absent keys, replacement patterns', async () => {
    const response = await postMailSend(
      validBody({
        subject: '-a- and -a-',
        content: [
          { type: 'text/plain', value: '-a- -b- -a-' },
          { type: 'text/html', value: '<p>-dollar- -absent-</p>' },
        ],
        personalizations: [
          { to: [{ email: 'one@example.com' }], substitutions: { '-a-': '-b-', '-b-': 'B', '-dollar-': "$& $1 $$ $' $`", '-unused-': 'x' } },
          { to: [{ email: 'two@example.com' }], substitutions: { '-b-': '2', '-a-': 'A2' } },
          { to: [{ email: 'three@example.com' }] },
        ],
      }),
    );
    expect(response.status).toBe(202);

    const [one, two, three] = sink.inbox.list();
    expect(one).toMatchObject({ subject: '-b- and -b-', text: '-b- B -b-', html: "<p>$& $1 $$ $' $` -absent-</p>" });
    expect(two).toMatchObject({ subject: 'A2 and A2', text: 'A2 2 A2', html: '<p>-dollar- -absent-</p>' });
    expect(three).toMatchObject({ subject: '-a- and -a-', text: '-a- -b- -a-', html: '<p>-dollar- -absent-</p>' });
  });
});

describe('limits', () => {
  it('accepts 1,000 personalizations as 1,000 messages sharing one stored body, and refuses 1,001', async () => {
    const html = `<p>Hello -name-</p>${'<p>filler</p>'.repeat(7_500)}`; // about 100 KB
    const personalizations = (count: number) =>
      Array.from({ length: count }, (_, i) => ({ to: [{ email: `r${i}@example.com` }], substitutions: { '-name-': `R${i}` }, custom_args: { herald_delivery_id: `d${i}` } }));

    const accepted = await postMailSend(validBody({ content: [{ type: 'text/html', value: html }], personalizations: personalizations(1_000) }));
    expect(accepted.status).toBe(202);
    const messages = sink.inbox.list();
    expect(messages).toHaveLength(1_000);
    expect(sink.stats.get()).toMatchObject({ requests: 1, messages: 1_000, recipients: 1_000 });
    const r737 = only(sink.inbox.findByRecipient('r737@example.com'));
    expect(r737.html?.startsWith('<p>Hello R737</p><p>filler</p>')).toBe(true);
    expect(r737.customArgs).toEqual({ herald_delivery_id: 'd737' });
    // The body is kept once: every message reads the same content array, rendering only when read.
    expect(messages[0]!.request.content).toBe(messages[999]!.request.content);

    sink.reset();
    const refused = await postMailSend(validBody({ personalizations: personalizations(1_001) }));
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as SendGridErrorBody).errors).toContainEqual(expect.objectContaining({ field: 'personalizations' }));
    expect(sink.inbox.list()).toHaveLength(0);
    expect(sink.stats.get()).toMatchObject({ messages: 0, recipients: 0 });
  });

  it('stores nothing in sandbox mode, however many personalizations', async () => {
    const response = await postMailSend(
      validBody({ mail_settings: { sandbox_mode: { enable: true } }, personalizations: [{ to: [{ email: 'a@example.com' }] }, { to: [{ email: 'b@example.com' }] }] }),
    );
    expect(response.status).toBe(200);
    expect(sink.inbox.list()).toHaveLength(0);
    expect(sink.stats.get()).toMatchObject({ requests: 1, messages: 0 });
  });
});

describe('createInbox bound', () => {
  const request = (...emails: string[]): MailSendRequest => ({
    from: { email: 'news@herald.test' },
    subject: 'S',
    content: [{ type: 'text/plain', value: 'x' }],
    personalizations: emails.map((email) => ({ to: [{ email }] })),
  });

  it('counts messages, not requests, and drops a request’s oldest messages first', () => {
    const inbox = createInbox(4);
    inbox.add('first', request('a@example.com', 'b@example.com', 'c@example.com'));
    const added = inbox.add('second', request('d@example.com', 'e@example.com', 'f@example.com'));

    expect(added.map((message) => message.recipients[0])).toEqual(['d@example.com', 'e@example.com', 'f@example.com']);
    expect(inbox.list().map((message) => message.recipients[0])).toEqual(['c@example.com', 'd@example.com', 'e@example.com', 'f@example.com']);
    expect(inbox.findByMessageId('first').map((message) => message.personalizationIndex)).toEqual([2]);
    expect(inbox.get('first')?.recipients).toEqual(['c@example.com']);
    expect(inbox.findByRecipient('a@example.com')).toEqual([]);

    inbox.add('third', request('g@example.com', 'h@example.com'));
    expect(inbox.findByMessageId('first')).toEqual([]);
    expect(inbox.get('first')).toBeUndefined();
    expect(inbox.list().map((message) => message.recipients[0])).toEqual(['e@example.com', 'f@example.com', 'g@example.com', 'h@example.com']);
  });

  it('keeps the newest messages of a request larger than the bound', () => {
    const inbox = createInbox(2);
    const added = inbox.add('big', request('a@example.com', 'b@example.com', 'c@example.com'));
    expect(added.map((message) => message.personalizationIndex)).toEqual([1, 2]);
    expect(inbox.get(added[0]!.sgMessageId)?.recipients).toEqual(['b@example.com']);
  });
});
