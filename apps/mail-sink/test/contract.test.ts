import { request as httpRequest } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SendGridErrorBody } from '../src/sendgrid-error.js';
import { startMailSink, type RunningMailSink } from '../src/start.js';

/*
 * The sink's contract with Herald: one row per documented SendGrid rule, with where the rule comes
 * from. "refuses" rows hold the sink to SendGrid's strictness; "accepts" rows keep it from being
 * stricter than SendGrid, which would hide nothing but fail mail that production would send.
 */
const OAI = 'sendgrid/sendgrid-oai spec/paths/mail_send/mail_send.json';
const OAI_SCHEMAS = 'sendgrid/sendgrid-oai spec/components/schemas.json';
const LIMITS = 'SendGrid docs: Mail Send limitations (api-reference/mail-send/limitations)';
const ERRORS = 'SendGrid docs: Mail Send errors (api-reference/mail-send/errors)';
const SUPPORT = 'SendGrid support: Validation errors when sending with the Mail Send API';
const RATE_LIMITS = 'SendGrid docs: API rate limits (X-RateLimit-Limit/Remaining/Reset)';
const RFC5322 = 'RFC 5322 §2.2 (header field names), which SendGrid builds the message from';

const API_KEY = 'SG.contract-test-key';
let sink: RunningMailSink;

beforeAll(async () => {
  sink = await startMailSink({ apiKey: API_KEY });
});
afterEach(() => sink.reset());
afterAll(() => sink.close());

type Body = Record<string, unknown>;

const to = (email: string, name?: string) => (name === undefined ? { email } : { email, name });
const nowSeconds = () => Math.floor(Date.now() / 1000);

/** A minimal valid body, as Herald sends it (one recipient, text then HTML). */
function validBody(overrides: Body = {}): Body {
  const body: Body = {
    from: { email: 'news@herald.test', name: 'Herald' },
    personalizations: [{ to: [to('reader@example.com', 'Reader')] }],
    subject: 'Issue 1',
    content: [
      { type: 'text/plain', value: 'Hello' },
      { type: 'text/html', value: '<p>Hello</p>' },
    ],
    ...overrides,
  };
  for (const [key, value] of Object.entries(body)) if (value === undefined) delete body[key];
  return body;
}

function personalization(extra: Body = {}): Body {
  return { to: [to('reader@example.com')], ...extra };
}

/**
 * One fresh connection per request: a pooled keep-alive connection can be closed by the server just
 * as the next (large) request goes out on it, which would fail a row for a reason that is not the rule.
 */
function post(body: Body, apiKey = API_KEY): Promise<Response> {
  const payload = Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      `${sink.url}/v3/mail/send`,
      { method: 'POST', agent: false, headers: { 'content-type': 'application/json', 'content-length': payload.length, authorization: `Bearer ${apiKey}` } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const headers = new Headers();
          for (const [name, value] of Object.entries(res.headers)) if (typeof value === 'string') headers.set(name, value);
          resolve(new Response(res.statusCode === 204 ? null : Buffer.concat(chunks), { status: res.statusCode ?? 0, headers }));
        });
        res.on('error', reject);
      },
    );
    // The server may answer 413 and close before reading the whole body; the answer still counts.
    req.on('error', reject);
    req.end(payload);
  });
}

type Row = { rule: string; source: string; body: () => Body };
type RefusedRow = Row & { field: string | null };

const refused: RefusedRow[] = [
  { rule: 'from is required', source: `${OAI} (required: from)`, field: 'from.email', body: () => validBody({ from: undefined }) },
  { rule: 'from.email is a valid address', source: `${OAI_SCHEMAS} from_email_object (format: email)`, field: 'from.email', body: () => validBody({ from: { email: 'news@' } }) },
  { rule: 'no Unicode in the from address', source: `${LIMITS}: "Unicode encoding is not supported for the from field"`, field: 'from.email', body: () => validBody({ from: { email: 'nöws@herald.test' } }) },
  { rule: 'reply_to is a valid address', source: `${OAI_SCHEMAS} reply_to_email_object`, field: 'reply_to.email', body: () => validBody({ reply_to: { email: 'nope' } }) },
  { rule: 'reply_to and reply_to_list are mutually exclusive', source: `${OAI} description, "Multiple Reply-To Emails"`, field: 'reply_to_list', body: () => validBody({ reply_to: to('a@example.com'), reply_to_list: [to('b@example.com')] }) },
  { rule: 'reply_to_list addresses are unique', source: `${OAI} reply_to_list (uniqueItems) and "Usage Considerations"`, field: 'reply_to_list.1.email', body: () => validBody({ reply_to_list: [to('a@example.com'), to('A@example.com')] }) },
  { rule: 'reply_to_list has at most 1000 addresses', source: `${OAI} reply_to_list (maxItems: 1000)`, field: 'reply_to_list', body: () => validBody({ reply_to_list: Array.from({ length: 1001 }, (_, i) => to(`r${i}@example.com`)) }) },
  { rule: 'personalizations is required', source: `${OAI} (required: personalizations); ${ERRORS}`, field: 'personalizations', body: () => validBody({ personalizations: undefined }) },
  { rule: 'at least one personalization', source: `${ERRORS}: "You must have at least one personalization."`, field: 'personalizations', body: () => validBody({ personalizations: [] }) },
  { rule: 'at most 1000 personalizations', source: `${OAI} personalizations (maxItems: 1000); ${ERRORS}`, field: 'personalizations', body: () => validBody({ personalizations: Array.from({ length: 1001 }, (_, i) => ({ to: [to(`p${i}@example.com`)] })) }) },
  { rule: 'every personalization has a to', source: `${OAI} personalizations.items (required: to); ${ERRORS}`, field: 'personalizations.0.to', body: () => validBody({ personalizations: [{ cc: [to('a@example.com')] }] }) },
  { rule: 'to has at least one address', source: `${ERRORS}: "The to parameter is required for all personalization objects"`, field: 'personalizations.0.to', body: () => validBody({ personalizations: [{ to: [] }] }) },
  { rule: 'to.email is a valid address', source: `${OAI_SCHEMAS} to_email_array (format: email)`, field: 'personalizations.0.to.0.email', body: () => validBody({ personalizations: [{ to: [to('reader@')] }] }) },
  { rule: 'cc.email is a valid address', source: `${OAI_SCHEMAS} cc_bcc_email_object (format: email)`, field: 'personalizations.0.cc.0.email', body: () => validBody({ personalizations: [personalization({ cc: [to('x')] })] }) },
  { rule: 'to.name is a string', source: `${OAI_SCHEMAS} to_email_array (name: string)`, field: 'personalizations.0.to.0.name', body: () => validBody({ personalizations: [{ to: [{ email: 'a@example.com', name: 7 }] }] }) },
  { rule: 'to.name has no comma', source: `${LIMITS}: "to.name, cc.name, and bcc.name ... cannot include either the ; or , characters"`, field: 'personalizations.0.to.0.name', body: () => validBody({ personalizations: [{ to: [to('jane@example.com', 'Doe, Jane')] }] }) },
  { rule: 'cc.name has no semicolon', source: `${LIMITS}: "to.name, cc.name, and bcc.name ... cannot include either the ; or , characters"`, field: 'personalizations.0.cc.0.name', body: () => validBody({ personalizations: [personalization({ cc: [to('c@example.com', 'A; B')] })] }) },
  { rule: 'bcc.name has no comma', source: `${LIMITS}: "to.name, cc.name, and bcc.name ... cannot include either the ; or , characters"`, field: 'personalizations.0.bcc.0.name', body: () => validBody({ personalizations: [personalization({ bcc: [to('b@example.com', 'X, Y')] })] }) },
  { rule: 'an address appears once across to, cc and bcc of a personalization', source: `${SUPPORT}: "Each email address in the personalization block should be unique between to, cc, and bcc"; ${ERRORS}`, field: 'personalizations.0', body: () => validBody({ personalizations: [personalization({ bcc: [to('Reader@example.com')] })] }) },
  { rule: 'at most 1000 recipients (to + cc + bcc) per request', source: `${LIMITS}; ${ERRORS}: "There is a limit of 1000 total recipients"`, field: 'personalizations', body: () => validBody({ personalizations: [personalization({ bcc: Array.from({ length: 1000 }, (_, i) => to(`b${i}@example.com`)) })] }) },
  { rule: 'subject is required without a template or per-personalization subjects', source: `${OAI} (required: subject); ${SUPPORT}`, field: 'subject', body: () => validBody({ subject: undefined }) },
  { rule: 'subject is not empty', source: `${OAI} subject (minLength: 1)`, field: 'subject', body: () => validBody({ subject: '' }) },
  { rule: 'a personalization subject is not empty', source: `${OAI} personalizations.items.subject (minLength: 1)`, field: 'personalizations.0.subject', body: () => validBody({ personalizations: [personalization({ subject: '' })] }) },
  { rule: 'content is required without a template_id', source: `${OAI} (required: content); ${ERRORS}: "Unless a valid template_id is provided, the content parameter is required"`, field: 'content', body: () => validBody({ content: undefined }) },
  { rule: 'content has at least one block', source: `${ERRORS}: "There must be at least one defined content block"`, field: 'content', body: () => validBody({ content: [] }) },
  { rule: 'a content value is not empty', source: `${OAI} content.items.value (minLength: 1); ${SUPPORT}`, field: 'content.0.value', body: () => validBody({ content: [{ type: 'text/plain', value: '' }] }) },
  { rule: 'a content type is not empty', source: `${OAI} content.items.type (minLength: 1)`, field: 'content.0.type', body: () => validBody({ content: [{ type: '', value: 'x' }] }) },
  { rule: 'text/plain comes before text/html', source: `${ERRORS} (content): text/plain first, then text/html, then other types`, field: 'content', body: () => validBody({ content: [{ type: 'text/html', value: '<p>x</p>' }, { type: 'text/plain', value: 'x' }] }) },
  { rule: 'other content types come after text/plain and text/html', source: `${ERRORS} (content): text/plain first, then text/html, then other types`, field: 'content', body: () => validBody({ content: [{ type: 'text/calendar', value: 'BEGIN:VCALENDAR' }, { type: 'text/html', value: '<p>x</p>' }] }) },
  { rule: 'a message header may not override a reserved header', source: `${OAI} personalizations.items.headers (reserved list); headers: "cannot be one of the reserved headers"`, field: 'headers.reply-to', body: () => validBody({ headers: { 'reply-to': 'x@example.com' } }) },
  { rule: 'reserved header names are case-insensitive, in personalizations too', source: `${OAI} personalizations.items.headers: "You may not overwrite ... From"`, field: 'personalizations.0.headers.FROM', body: () => validBody({ personalizations: [personalization({ headers: { FROM: 'x' } })] }) },
  { rule: 'DKIM-Signature and X-SG-ID are reserved', source: `${OAI} personalizations.items.headers: "x-sg-id, x-sg-eid, received, dkim-signature"`, field: 'headers.DKIM-Signature', body: () => validBody({ headers: { 'DKIM-Signature': 'v=1' } }) },
  { rule: 'header values are strings', source: `${OAI} headers: "The key/value pairs must be strings"`, field: 'headers.X-Count', body: () => validBody({ headers: { 'X-Count': 3 } }) },
  { rule: 'header names are printable ASCII without a colon or space', source: RFC5322, field: 'headers.X Bad:Name', body: () => validBody({ headers: { 'X Bad:Name': 'v' } }) },
  { rule: 'custom_args values are strings', source: `${OAI} custom_args: "Key/value pairs must be strings"`, field: 'custom_args.attempt', body: () => validBody({ custom_args: { attempt: 3 } }) },
  { rule: 'custom_args, message and personalization merged, stay within 10,000 bytes', source: `${LIMITS}: "The total length of custom arguments must be less than 10000 bytes"; ${OAI} custom_args`, field: 'personalizations.0.custom_args', body: () => validBody({ custom_args: { a: 'x'.repeat(6_000) }, personalizations: [personalization({ custom_args: { b: 'y'.repeat(4_000) } })] }) },
  { rule: 'substitutions values are strings', source: `${OAI} substitutions: "The key/value pairs must be strings"`, field: 'personalizations.0.substitutions.-name-', body: () => validBody({ personalizations: [personalization({ substitutions: { '-name-': 1 } })] }) },
  { rule: 'substitutions stay within 10,000 bytes per personalization', source: `${OAI} substitutions: "may not exceed 10,000 bytes per personalization object"`, field: 'personalizations.0.substitutions', body: () => validBody({ personalizations: [personalization({ substitutions: { '-x-': 'x'.repeat(10_001) } })] }) },
  { rule: 'at most 10 categories', source: `${OAI} categories (maxItems: 10)`, field: 'categories', body: () => validBody({ categories: Array.from({ length: 11 }, (_, i) => `c${i}`) }) },
  { rule: 'a category has at most 255 characters', source: `${OAI} categories.items (maxLength: 255)`, field: 'categories.0', body: () => validBody({ categories: ['c'.repeat(256)] }) },
  { rule: 'categories are unique', source: `${OAI} categories (uniqueItems: true)`, field: 'categories.1', body: () => validBody({ categories: ['news', 'news'] }) },
  { rule: 'send_at is at most 72 hours ahead', source: `${OAI} send_at: "Delivery cannot be scheduled more than 72 hours in advance"`, field: 'send_at', body: () => validBody({ send_at: nowSeconds() + 73 * 3600 }) },
  { rule: 'a personalization send_at is at most 72 hours ahead', source: `${OAI} personalizations.items.send_at: "more than 72 hours in advance is forbidden"`, field: 'personalizations.0.send_at', body: () => validBody({ personalizations: [personalization({ send_at: nowSeconds() + 80 * 3600 })] }) },
  { rule: 'send_at is an integer', source: `${OAI} send_at (type: integer)`, field: 'send_at', body: () => validBody({ send_at: '1617260400' }) },
  { rule: 'an attachment has content', source: `${OAI} attachments.items (required: content, minLength: 1)`, field: 'attachments.0.content', body: () => validBody({ attachments: [{ filename: 'a.txt' }] }) },
  { rule: 'attachment content is base64', source: `${OAI} attachments.items.content: "The Base64 encoded content of the attachment"`, field: 'attachments.0.content', body: () => validBody({ attachments: [{ content: 'not base64!', filename: 'a.txt' }] }) },
  { rule: 'an attachment has a filename', source: `${OAI} attachments.items (required: filename)`, field: 'attachments.0.filename', body: () => validBody({ attachments: [{ content: 'aGVsbG8=' }] }) },
  { rule: 'attachment disposition is inline or attachment', source: `${OAI} attachments.items.disposition (enum: inline, attachment)`, field: 'attachments.0.disposition', body: () => validBody({ attachments: [{ content: 'aGVsbG8=', filename: 'a.txt', disposition: 'download' }] }) },
  { rule: 'asm needs an integer group_id', source: `${OAI} asm (required: group_id, type: integer)`, field: 'asm.group_id', body: () => validBody({ asm: { groups_to_display: [1] } }) },
  { rule: 'asm shows at most 25 groups', source: `${OAI} asm.groups_to_display (maxItems: 25)`, field: 'asm.groups_to_display', body: () => validBody({ asm: { group_id: 1, groups_to_display: Array.from({ length: 26 }, (_, i) => i) } }) },
  { rule: 'ip_pool_name has 2 to 64 characters', source: `${OAI} ip_pool_name (minLength: 2, maxLength: 64)`, field: 'ip_pool_name', body: () => validBody({ ip_pool_name: 'x' }) },
  { rule: 'bypass_list_management does not combine with other bypass filters', source: `${OAI} mail_settings.bypass_list_management: "cannot be combined with any other bypass filters"`, field: 'mail_settings.bypass_list_management', body: () => validBody({ mail_settings: { bypass_list_management: { enable: true }, bypass_spam_management: { enable: true } } }) },
  { rule: 'tracking_settings is an object', source: `${OAI} tracking_settings (type: object)`, field: 'tracking_settings', body: () => validBody({ tracking_settings: true }) },
  { rule: 'open_tracking.enable is a boolean', source: `${OAI} tracking_settings.open_tracking.enable (type: boolean)`, field: 'tracking_settings.open_tracking.enable', body: () => validBody({ tracking_settings: { open_tracking: { enable: 'false' } } }) },
  { rule: 'click_tracking is an object', source: `${OAI} tracking_settings.click_tracking (type: object)`, field: 'tracking_settings.click_tracking', body: () => validBody({ tracking_settings: { click_tracking: false } }) },
];

const accepted: Row[] = [
  { rule: 'a name without , or ; is fine, Unicode included', source: LIMITS, body: () => validBody({ personalizations: [{ to: [to('jane@example.com', 'Jane Doe-Émile (Team)')] }] }) },
  { rule: 'the same address in two personalizations', source: `${SUPPORT} (the uniqueness rule is per personalization)`, body: () => validBody({ personalizations: [personalization(), personalization()] }) },
  { rule: 'exactly 1000 recipients', source: LIMITS, body: () => validBody({ personalizations: [personalization({ bcc: Array.from({ length: 999 }, (_, i) => to(`b${i}@example.com`)) })] }) },
  { rule: 'no top-level subject when every personalization has one', source: `${SUPPORT} (subject)`, body: () => validBody({ subject: undefined, personalizations: [personalization({ subject: 'Hi' })] }) },
  { rule: 'template_id without content or subject', source: `${OAI} template_id; ${ERRORS}: "Unless a valid template_id is provided"`, body: () => validBody({ template_id: 'd-0123456789abcdef', content: undefined, subject: undefined }) },
  { rule: 'text/html alone', source: `${OAI} content: "you must specify at least one MIME type"`, body: () => validBody({ content: [{ type: 'text/html', value: '<p>x</p>' }] }) },
  { rule: 'other content types after text/plain and text/html', source: `${OAI} content: "You can include multiple MIME types"; ${ERRORS} (order)`, body: () => validBody({ content: [{ type: 'text/plain', value: 'x' }, { type: 'text/html', value: '<p>x</p>' }, { type: 'text/calendar', value: 'BEGIN:VCALENDAR' }] }) },
  { rule: 'custom headers such as List-Unsubscribe', source: `${OAI} headers (only the reserved list is refused)`, body: () => validBody({ headers: { 'List-Unsubscribe': '<https://h.test/u/1>', 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' } }) },
  { rule: 'custom_args of exactly 10,000 bytes merged', source: `${OAI} custom_args: "may not exceed 10,000 bytes"`, body: () => validBody({ custom_args: { a: 'x'.repeat(10_000 - '{"a":""}'.length) } }) },
  { rule: 'send_at in the past or within 72 hours', source: `${OAI} send_at`, body: () => validBody({ send_at: nowSeconds() + 71 * 3600, personalizations: [personalization({ send_at: nowSeconds() - 60 })] }) },
  { rule: 'reply_to_list alone', source: `${OAI} reply_to_list`, body: () => validBody({ reply_to_list: [to('a@example.com'), to('b@example.com', 'B')] }) },
  { rule: 'a valid attachment, inline with a content_id', source: `${OAI} attachments`, body: () => validBody({ attachments: [{ content: 'aGVsbG8=', filename: 'a.txt', type: 'text/plain', disposition: 'inline', content_id: 'a1' }] }) },
  { rule: 'ten unique categories of 255 characters', source: `${OAI} categories`, body: () => validBody({ categories: Array.from({ length: 10 }, (_, i) => `${i}`.padEnd(255, 'c')) }) },
];

describe('Mail Send contract: what SendGrid refuses, the sink refuses', () => {
  it.each(refused.map((row) => [row.rule, row] as const))('refuses: %s', async (_rule, row) => {
    const response = await post(row.body());
    expect(response.status, row.source).toBe(400);
    const body = (await response.json()) as SendGridErrorBody;
    expect(body.errors, row.source).toContainEqual({ message: expect.any(String), field: row.field, help: null });
    expect(sink.inbox.list()).toHaveLength(0);
  });
});

describe('Mail Send contract: what SendGrid accepts, the sink accepts', () => {
  it.each(accepted.map((row) => [row.rule, row] as const))('accepts: %s', async (_rule, row) => {
    const body = row.body();
    const response = await post(body);
    expect(response.status, `${row.source}: ${await response.clone().text()}`).toBe(202);
    expect(response.headers.get('x-message-id')).toEqual(expect.any(String));
    // One email per personalization, as SendGrid sends them.
    expect(sink.inbox.list()).toHaveLength((body.personalizations as unknown[]).length);
  });
});

describe('Mail Send contract: transport', () => {
  it(`answers 413 for a body over 30 MB (${LIMITS}; ${OAI} 413)`, async () => {
    const response = await post(validBody({ content: [{ type: 'text/plain', value: 'x'.repeat(31 * 1024 * 1024) }] }));
    expect(response.status).toBe(413);
    expect(((await response.json()) as SendGridErrorBody).errors[0]).toMatchObject({ field: null });
  });

  it('accepts a 21 MB body: 20 MB is advice for deliverability, 30 MB the API limit (SendGrid docs: recommended message size; Mail Send limitations)', async () => {
    const attachment = Buffer.alloc(15 * 1024 * 1024, 7).toString('base64');
    const response = await post(validBody({ attachments: [{ content: attachment, filename: 'big.bin' }] }));
    expect(response.status).toBe(202);
  });

  it(`answers every 429 with X-RateLimit-Limit, -Remaining and -Reset (${RATE_LIMITS})`, async () => {
    sink.faults.update({ rateLimit: { count: 1 } });
    const before = nowSeconds();
    const response = await post(validBody());
    expect(response.status).toBe(429);
    expect(response.headers.get('x-ratelimit-limit')).toBe('600');
    expect(response.headers.get('x-ratelimit-remaining')).toBe('0');
    const reset = Number(response.headers.get('x-ratelimit-reset'));
    expect(reset).toBeGreaterThanOrEqual(before + 1);
    expect(reset).toBeLessThanOrEqual(nowSeconds() + 1);
    expect(await response.json()).toEqual({ errors: [{ message: 'too many requests', field: null, help: null }] });
  });

  it(`answers 401 in SendGrid's error shape for a wrong key (${OAI} 401)`, async () => {
    const response = await post(validBody(), 'SG.wrong');
    expect(response.status).toBe(401);
    expect(((await response.json()) as SendGridErrorBody).errors[0]).toMatchObject({ field: null, help: null });
  });
});
