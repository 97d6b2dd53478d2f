import { isRecord, type MailSendRequest } from './mail-send-request.js';
import type { SendGridError } from './sendgrid-error.js';

export type ValidationResult = { ok: true; request: MailSendRequest } | { ok: false; errors: SendGridError[] };

/*
 * SendGrid's documented rules for v3 Mail Send, so a payload Herald builds fails here exactly when it
 * would fail in production, and nothing SendGrid accepts is refused. Sources: the OpenAPI description
 * (sendgrid/sendgrid-oai, spec/paths/mail_send/mail_send.json and spec/components/schemas.json), the
 * "Mail Send limitations" and "Mail Send errors" pages. apps/mail-sink/test/contract.test.ts has one
 * row per rule, naming its source.
 */
const MAX_PERSONALIZATIONS = 1000;
const MAX_RECIPIENTS = 1000;
const MAX_REPLY_TO_LIST = 1000;
const MAX_CATEGORIES = 10;
const MAX_CATEGORY_LENGTH = 255;
const MAX_CUSTOM_ARGS_BYTES = 10_000;
const MAX_SUBSTITUTIONS_BYTES = 10_000;
const MAX_SEND_AT_AHEAD_SECONDS = 72 * 60 * 60;
const MAX_GROUPS_TO_DISPLAY = 25;
/** The OpenAPI description's list; header names are case-insensitive (RFC 5322). */
const RESERVED_HEADERS = new Set([
  'x-sg-id', 'x-sg-eid', 'received', 'dkim-signature', 'content-type', 'content-transfer-encoding',
  'to', 'from', 'subject', 'reply-to', 'cc', 'bcc',
]);
/** RFC 5322 §2.2 field name: printable US-ASCII except the colon. */
const HEADER_NAME = /^[\x21-\x39\x3b-\x7e]+$/;
const EMAIL = /^[^\s@<>(),;:"]+@[^\s@<>(),;:"]+\.[^\s@<>(),;:".]+$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const BYPASS_FILTERS = ['bypass_spam_management', 'bypass_bounce_management', 'bypass_unsubscribe_management'];
/** The members of each `tracking_settings` object and their types, as the OpenAPI description lists them. */
const TRACKING_SETTINGS: Record<string, Record<string, 'boolean' | 'string'>> = {
  click_tracking: { enable: 'boolean', enable_text: 'boolean' },
  open_tracking: { enable: 'boolean', substitution_tag: 'string' },
  subscription_tracking: { enable: 'boolean', text: 'string', html: 'string', substitution_tag: 'string' },
  ganalytics: { enable: 'boolean', utm_source: 'string', utm_medium: 'string', utm_term: 'string', utm_content: 'string', utm_campaign: 'string' },
};

type Fail = (message: string, field: string | null) => void;

/**
 * Checks a Mail Send body and reports every problem at once, as SendGrid does, with `field` paths in
 * SendGrid's dotted form (`personalizations.0.to.0.email`).
 */
export function validateMailSend(body: unknown, now: number = Date.now()): ValidationResult {
  if (!isRecord(body)) return { ok: false, errors: [toError('The request body must be a JSON object.', null)] };
  const errors: SendGridError[] = [];
  const fail: Fail = (message, field) => errors.push(toError(message, field));
  const hasTemplate = isNonEmptyString(body.template_id);

  if (body.template_id !== undefined && typeof body.template_id !== 'string') fail('The template_id must be a string.', 'template_id');
  if (!isRecord(body.from) || body.from.email === undefined) {
    fail('The from object must be provided for every email send. It is an object that requires the email parameter, but may also contain a name parameter.', 'from.email');
  } else {
    checkAddress(body.from, 'from', fail);
    if (typeof body.from.email === 'string' && /[^\x21-\x7e]/.test(body.from.email)) {
      fail('Unicode encoding is not supported for the from field.', 'from.email');
    }
  }
  checkReplyTo(body, fail);

  const personalizations = body.personalizations;
  if (!Array.isArray(personalizations) || personalizations.length === 0) {
    fail('The personalizations field is required and must have at least one personalization.', 'personalizations');
  } else if (personalizations.length > MAX_PERSONALIZATIONS) {
    fail(`The personalization block is limited to ${MAX_PERSONALIZATIONS} personalizations per API request. You have provided ${personalizations.length} personalizations. Please consider splitting this into multiple requests and resending your request.`, 'personalizations');
  } else {
    let recipients = 0;
    personalizations.forEach((personalization: unknown, index) => {
      recipients += checkPersonalization(personalization, `personalizations.${index}`, body, now, fail);
    });
    if (recipients > MAX_RECIPIENTS) fail(`There is a limit of ${MAX_RECIPIENTS} total recipients (to + cc + bcc) per request.`, 'personalizations');
  }

  const everyPersonalizationHasSubject =
    Array.isArray(personalizations) &&
    personalizations.length > 0 &&
    personalizations.every((p: unknown) => isRecord(p) && isNonEmptyString(p.subject));
  if (body.subject !== undefined && !isNonEmptyString(body.subject)) {
    fail('The subject must be a string at least one character in length.', 'subject');
  } else if (body.subject === undefined && !everyPersonalizationHasSubject && !hasTemplate) {
    fail('The subject is required. You can get around this requirement if you use a template with a subject defined or if every personalization has a subject defined.', 'subject');
  }

  checkContent(body.content, hasTemplate, fail);
  checkAttachments(body.attachments, fail);
  checkHeaders(body.headers, 'headers', fail);
  checkStringMap(body.custom_args, 'custom_args', fail);
  checkCategories(body.categories, fail);
  checkSendAt(body.send_at, 'send_at', now, fail);
  checkAsm(body.asm, fail);
  checkIpPool(body.ip_pool_name, fail);
  checkMailSettings(body.mail_settings, fail);
  checkTrackingSettings(body.tracking_settings, fail);

  return errors.length === 0 ? { ok: true, request: body as MailSendRequest } : { ok: false, errors };
}

function checkPersonalization(value: unknown, field: string, body: Record<string, unknown>, now: number, fail: Fail): number {
  if (!isRecord(value)) {
    fail('Each personalization must be an object.', field);
    return 0;
  }
  if (!Array.isArray(value.to) || value.to.length === 0) {
    fail('The to parameter is required for all personalization objects, and must have at least one email object with a valid email address.', `${field}.to`);
  }
  let recipients = 0;
  const seen = new Set<string>();
  for (const kind of ['to', 'cc', 'bcc']) {
    const addresses = value[kind];
    if (addresses === undefined) continue;
    if (!Array.isArray(addresses)) {
      fail(`The ${kind} field must be an array of email objects.`, `${field}.${kind}`);
      continue;
    }
    addresses.forEach((address: unknown, index) => {
      const path = `${field}.${kind}.${index}`;
      if (!checkAddress(address, path, fail)) return;
      const { email, name } = address as { email: string; name?: string };
      if (typeof name === 'string' && /[,;]/.test(name)) {
        fail(`The ${kind}.name cannot include either the ; or , characters.`, `${path}.name`);
      }
      const key = email.toLowerCase();
      if (seen.has(key)) {
        fail(`Each email address in the personalization block should be unique between to, cc, and bcc. We found the first duplicate instance of [${email}] in the ${field}.${kind} field.`, field);
      }
      seen.add(key);
    });
    recipients += addresses.length;
  }
  if (value.subject !== undefined && !isNonEmptyString(value.subject)) {
    fail('The subject must be a string at least one character in length.', `${field}.subject`);
  }
  checkHeaders(value.headers, `${field}.headers`, fail);
  checkStringMap(value.custom_args, `${field}.custom_args`, fail);
  // SendGrid merges message-level and personalization-level custom_args before applying the size limit.
  const merged = { ...(isRecord(body.custom_args) ? body.custom_args : {}), ...(isRecord(value.custom_args) ? value.custom_args : {}) };
  if (Buffer.byteLength(JSON.stringify(merged)) > MAX_CUSTOM_ARGS_BYTES) {
    fail(`The total size of custom arguments may not exceed ${MAX_CUSTOM_ARGS_BYTES} bytes per personalization.`, `${field}.custom_args`);
  }
  if (value.substitutions !== undefined && checkStringMap(value.substitutions, `${field}.substitutions`, fail) && Buffer.byteLength(JSON.stringify(value.substitutions)) > MAX_SUBSTITUTIONS_BYTES) {
    fail(`The total collective size of your substitutions may not exceed ${MAX_SUBSTITUTIONS_BYTES} bytes per personalization object.`, `${field}.substitutions`);
  }
  checkSendAt(value.send_at, `${field}.send_at`, now, fail);
  return recipients;
}

/** True when the value is an address object with a valid email and, if any, a string name. */
function checkAddress(value: unknown, field: string, fail: Fail): boolean {
  if (!isRecord(value) || typeof value.email !== 'string' || !EMAIL.test(value.email)) {
    fail('Does not contain a valid address.', `${field}.email`);
    return false;
  }
  if (value.name !== undefined && typeof value.name !== 'string') {
    fail('The name must be a string.', `${field}.name`);
    return false;
  }
  return true;
}

function checkReplyTo(body: Record<string, unknown>, fail: Fail): void {
  if (body.reply_to !== undefined) checkAddress(body.reply_to, 'reply_to', fail);
  const list = body.reply_to_list;
  if (list === undefined) return;
  if (body.reply_to !== undefined) fail('reply_to is mutually exclusive with reply_to_list.', 'reply_to_list');
  if (!Array.isArray(list)) {
    fail('The reply_to_list must be an array of email objects.', 'reply_to_list');
    return;
  }
  if (list.length > MAX_REPLY_TO_LIST) fail(`There is a limit of ${MAX_REPLY_TO_LIST} reply_to emails per mail/send request.`, 'reply_to_list');
  const seen = new Set<string>();
  list.forEach((address: unknown, index) => {
    if (!checkAddress(address, `reply_to_list.${index}`, fail)) return;
    const email = (address as { email: string }).email.toLowerCase();
    if (seen.has(email)) fail('Each email address in the reply_to_list should be unique.', `reply_to_list.${index}.email`);
    seen.add(email);
  });
}

function checkContent(content: unknown, hasTemplate: boolean, fail: Fail): void {
  if (content === undefined && hasTemplate) return;
  if (!Array.isArray(content) || content.length === 0) {
    fail('Unless a valid template_id is provided, the content parameter is required. There must be at least one defined content block.', 'content');
    return;
  }
  content.forEach((part: unknown, index) => {
    if (!isRecord(part) || !isNonEmptyString(part.type)) {
      fail('The content type must be a string at least one character in length.', `content.${index}.type`);
    }
    if (!isRecord(part) || !isNonEmptyString(part.value)) {
      fail('The content value must be a string at least one character in length.', `content.${index}.value`);
    }
  });
  // Any MIME type may follow, but text/plain comes first and text/html next when they are present.
  const types = content.map((part: unknown) => (isRecord(part) && typeof part.type === 'string' ? part.type.toLowerCase() : ''));
  const expectedFirst = ['text/plain', 'text/html'].filter((type) => types.includes(type));
  const first = types.slice(0, expectedFirst.length);
  if (expectedFirst.some((type, index) => first[index] !== type)) {
    fail('The text/plain content type must be first, followed by text/html, followed by any other content.', 'content');
  }
}

function checkAttachments(attachments: unknown, fail: Fail): void {
  if (attachments === undefined) return;
  if (!Array.isArray(attachments)) {
    fail('The attachments must be an array of attachment objects.', 'attachments');
    return;
  }
  attachments.forEach((attachment: unknown, index) => {
    const field = `attachments.${index}`;
    if (!isRecord(attachment)) {
      fail('Each attachment must be an object.', field);
      return;
    }
    if (!isNonEmptyString(attachment.content)) {
      fail('The attachment content is required and must be a string at least one character in length.', `${field}.content`);
    } else if (!BASE64.test(attachment.content.replace(/\s+/g, ''))) {
      fail('The attachment content must be base64 encoded.', `${field}.content`);
    }
    if (!isNonEmptyString(attachment.filename)) fail('The attachment filename parameter is required.', `${field}.filename`);
    if (attachment.type !== undefined && !isNonEmptyString(attachment.type)) {
      fail('The attachment type must be a string at least one character in length.', `${field}.type`);
    }
    if (attachment.disposition !== undefined && attachment.disposition !== 'inline' && attachment.disposition !== 'attachment') {
      fail('The disposition of your attachment can be either "inline" or "attachment".', `${field}.disposition`);
    }
  });
}

function checkHeaders(headers: unknown, field: string, fail: Fail): void {
  if (headers === undefined) return;
  if (!isRecord(headers)) {
    fail('The headers must be an object of string values.', field);
    return;
  }
  for (const [name, value] of Object.entries(headers)) {
    if (!HEADER_NAME.test(name)) fail(`The header name ${JSON.stringify(name)} is not a valid header name.`, `${field}.${name}`);
    else if (RESERVED_HEADERS.has(name.toLowerCase())) fail(`The header ${name} is reserved and cannot be set in headers.`, `${field}.${name}`);
    else if (typeof value !== 'string') fail(`Invalid type. Expected: string, given: ${describeType(value)}.`, `${field}.${name}`);
  }
}

/** True when the value is absent or an object of string values. */
function checkStringMap(map: unknown, field: string, fail: Fail): boolean {
  if (map === undefined) return true;
  if (!isRecord(map)) {
    fail(`Invalid type. Expected: object, given: ${describeType(map)}.`, field);
    return false;
  }
  let ok = true;
  for (const [name, value] of Object.entries(map)) {
    if (typeof value !== 'string') {
      fail(`Invalid type. Expected: string, given: ${describeType(value)}.`, `${field}.${name}`);
      ok = false;
    }
  }
  return ok;
}

function checkCategories(categories: unknown, fail: Fail): void {
  if (categories === undefined) return;
  if (!Array.isArray(categories) || categories.length > MAX_CATEGORIES) {
    fail(`The categories must be an array of at most ${MAX_CATEGORIES} strings.`, 'categories');
    return;
  }
  const seen = new Set<unknown>();
  categories.forEach((category: unknown, index) => {
    if (typeof category !== 'string' || category.length > MAX_CATEGORY_LENGTH) {
      fail(`A category must be a string of at most ${MAX_CATEGORY_LENGTH} characters.`, `categories.${index}`);
    } else if (seen.has(category)) {
      fail('The categories must be unique.', `categories.${index}`);
    }
    seen.add(category);
  });
}

function checkSendAt(sendAt: unknown, field: string, now: number, fail: Fail): void {
  if (sendAt === undefined) return;
  if (!Number.isInteger(sendAt)) {
    fail(`Invalid type. Expected: integer, given: ${describeType(sendAt)}.`, field);
  } else if ((sendAt as number) > Math.floor(now / 1000) + MAX_SEND_AT_AHEAD_SECONDS) {
    fail('Scheduling delivery more than 72 hours in advance is forbidden.', field);
  }
}

function checkAsm(asm: unknown, fail: Fail): void {
  if (asm === undefined) return;
  if (!isRecord(asm) || !Number.isInteger(asm.group_id)) {
    fail('The asm object requires an integer group_id.', 'asm.group_id');
    return;
  }
  const groups = asm.groups_to_display;
  if (groups === undefined) return;
  if (!Array.isArray(groups) || groups.length > MAX_GROUPS_TO_DISPLAY || !groups.every((group) => Number.isInteger(group))) {
    fail(`The groups_to_display must be an array of at most ${MAX_GROUPS_TO_DISPLAY} integers.`, 'asm.groups_to_display');
  }
}

function checkIpPool(name: unknown, fail: Fail): void {
  if (name === undefined) return;
  if (typeof name !== 'string' || name.length < 2 || name.length > 64) {
    fail('The ip_pool_name must be a string between 2 and 64 characters.', 'ip_pool_name');
  }
}

function checkMailSettings(settings: unknown, fail: Fail): void {
  if (!isRecord(settings)) return;
  const enabled = (name: string) => isRecord(settings[name]) && (settings[name] as { enable?: unknown }).enable === true;
  if (enabled('bypass_list_management') && BYPASS_FILTERS.some(enabled)) {
    fail('The bypass_list_management filter cannot be combined with any other bypass filters.', 'mail_settings.bypass_list_management');
  }
}

/** Each setting an object, each known member of the type the API declares; unknown members are left alone. */
function checkTrackingSettings(settings: unknown, fail: Fail): void {
  if (settings === undefined) return;
  if (!isRecord(settings)) {
    fail(`Invalid type. Expected: object, given: ${describeType(settings)}.`, 'tracking_settings');
    return;
  }
  for (const [name, members] of Object.entries(TRACKING_SETTINGS)) {
    const setting = settings[name];
    if (setting === undefined) continue;
    if (!isRecord(setting)) {
      fail(`Invalid type. Expected: object, given: ${describeType(setting)}.`, `tracking_settings.${name}`);
      continue;
    }
    for (const [member, type] of Object.entries(members)) {
      const value = setting[member];
      if (value !== undefined && typeof value !== type) fail(`Invalid type. Expected: ${type}, given: ${describeType(value)}.`, `tracking_settings.${name}.${member}`);
    }
  }
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (Number.isInteger(value)) return 'integer';
  return typeof value;
}

function toError(message: string, field: string | null): SendGridError {
  return { message, field, help: null };
}
