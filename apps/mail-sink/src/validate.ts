import { isRecord, type MailSendRequest } from './mail-send-request.js';
import type { SendGridError } from './sendgrid-error.js';

export type ValidationResult = { ok: true; request: MailSendRequest } | { ok: false; errors: SendGridError[] };

// SendGrid's limits, so a payload Herald builds fails here exactly when it would fail in production.
const MAX_PERSONALIZATIONS = 1000;
const MAX_RECIPIENTS = 1000;
const MAX_CATEGORIES = 10;
const MAX_CATEGORY_LENGTH = 255;
const MAX_CUSTOM_ARGS_BYTES = 10_000;
const CONTENT_TYPES = ['text/plain', 'text/html'];
const RESERVED_HEADERS = new Set([
  'to', 'from', 'subject', 'reply-to', 'cc', 'bcc', 'content-type', 'content-transfer-encoding',
  'dkim-signature', 'received', 'x-sg-id', 'x-sg-eid',
]);
const EMAIL = /^[^\s@<>(),;:"]+@[^\s@<>(),;:"]+\.[^\s@<>(),;:".]+$/;

/**
 * Checks the main rules of v3 Mail Send and reports every problem at once, as SendGrid does,
 * with `field` paths in SendGrid's dotted form (`personalizations.0.to.0.email`).
 */
export function validateMailSend(body: unknown): ValidationResult {
  if (!isRecord(body)) return { ok: false, errors: [toError('The request body must be a JSON object.', null)] };
  const errors: SendGridError[] = [];
  const fail = (message: string, field: string | null) => errors.push(toError(message, field));

  if (!isRecord(body.from) || body.from.email === undefined) {
    fail('The from object must be provided for every email send. It is an object that requires the email parameter, but may also contain a name parameter.', 'from.email');
  } else {
    checkAddress(body.from, 'from', fail);
  }
  if (body.reply_to !== undefined) checkAddress(body.reply_to, 'reply_to', fail);

  const personalizations = body.personalizations;
  if (!Array.isArray(personalizations) || personalizations.length === 0) {
    fail('The personalizations field is required and must have at least one personalization.', 'personalizations');
  } else if (personalizations.length > MAX_PERSONALIZATIONS) {
    fail(`The personalizations field may have at most ${MAX_PERSONALIZATIONS} personalizations.`, 'personalizations');
  } else {
    let recipients = 0;
    personalizations.forEach((personalization: unknown, index) => {
      recipients += checkPersonalization(personalization, `personalizations.${index}`, body, fail);
    });
    if (recipients > MAX_RECIPIENTS) {
      fail(`The total number of recipients (to, cc and bcc) must be at most ${MAX_RECIPIENTS}.`, 'personalizations');
    }
  }

  const everyPersonalizationHasSubject =
    Array.isArray(personalizations) &&
    personalizations.length > 0 &&
    personalizations.every((p: unknown) => isRecord(p) && isNonEmptyString(p.subject));
  if (body.subject !== undefined && typeof body.subject !== 'string') {
    fail('The subject must be a string.', 'subject');
  } else if (!isNonEmptyString(body.subject) && !everyPersonalizationHasSubject) {
    fail('The subject is required. You can get around this requirement if you use a template with a subject defined or if every personalization has a subject defined.', 'subject');
  }

  checkContent(body.content, fail);
  checkHeaders(body.headers, 'headers', fail);
  checkCustomArgs(body.custom_args, 'custom_args', fail);
  checkCategories(body.categories, fail);

  return errors.length === 0 ? { ok: true, request: body as MailSendRequest } : { ok: false, errors };
}

type Fail = (message: string, field: string | null) => void;

function checkPersonalization(value: unknown, field: string, body: Record<string, unknown>, fail: Fail): number {
  if (!isRecord(value)) {
    fail('Each personalization must be an object.', field);
    return 0;
  }
  if (!Array.isArray(value.to) || value.to.length === 0) {
    fail('The to array is required for all personalization objects, and must have at least one email object with a valid email address.', `${field}.to`);
  }
  let recipients = 0;
  for (const kind of ['to', 'cc', 'bcc']) {
    const addresses = value[kind];
    if (addresses === undefined) continue;
    if (!Array.isArray(addresses)) {
      fail(`The ${kind} field must be an array of email objects.`, `${field}.${kind}`);
      continue;
    }
    addresses.forEach((address: unknown, index) => checkAddress(address, `${field}.${kind}.${index}`, fail));
    recipients += addresses.length;
  }
  if (value.subject !== undefined && typeof value.subject !== 'string') fail('The subject must be a string.', `${field}.subject`);
  checkHeaders(value.headers, `${field}.headers`, fail);
  checkCustomArgs(value.custom_args, `${field}.custom_args`, fail);
  // SendGrid merges message-level and personalization-level custom_args before applying the size limit.
  const merged = { ...(isRecord(body.custom_args) ? body.custom_args : {}), ...(isRecord(value.custom_args) ? value.custom_args : {}) };
  if (Buffer.byteLength(JSON.stringify(merged)) > MAX_CUSTOM_ARGS_BYTES) {
    fail(`The custom_args of a personalization, merged with the message's, must be at most ${MAX_CUSTOM_ARGS_BYTES} bytes.`, `${field}.custom_args`);
  }
  return recipients;
}

function checkAddress(value: unknown, field: string, fail: Fail): void {
  if (!isRecord(value) || typeof value.email !== 'string' || !EMAIL.test(value.email)) {
    fail('Does not contain a valid address.', `${field}.email`);
  } else if (value.name !== undefined && typeof value.name !== 'string') {
    fail('The name must be a string.', `${field}.name`);
  }
}

function checkContent(content: unknown, fail: Fail): void {
  if (!Array.isArray(content) || content.length === 0) {
    fail('Unless a valid template_id is provided, the content parameter is required. There must be at least one defined content block.', 'content');
    return;
  }
  content.forEach((part: unknown, index) => {
    if (!isRecord(part) || typeof part.type !== 'string' || !CONTENT_TYPES.includes(part.type)) {
      fail(`The content type must be one of ${CONTENT_TYPES.join(', ')}.`, `content.${index}.type`);
    }
    if (!isRecord(part) || !isNonEmptyString(part.value)) {
      fail('The content value must be a string at least one character in length.', `content.${index}.value`);
    }
  });
  const types = content.map((part: unknown) => (isRecord(part) ? part.type : undefined));
  if (types.includes('text/html') && types.indexOf('text/plain') > types.indexOf('text/html')) {
    fail('If present, text/plain must be the first content block.', 'content');
  }
}

function checkHeaders(headers: unknown, field: string, fail: Fail): void {
  if (headers === undefined) return;
  if (!isRecord(headers)) {
    fail('The headers must be an object of string values.', field);
    return;
  }
  for (const [name, value] of Object.entries(headers)) {
    if (RESERVED_HEADERS.has(name.toLowerCase())) fail(`The header ${name} is reserved and cannot be set in headers.`, `${field}.${name}`);
    else if (typeof value !== 'string') fail('Header values must be strings.', `${field}.${name}`);
  }
}

function checkCustomArgs(customArgs: unknown, field: string, fail: Fail): void {
  if (customArgs === undefined) return;
  if (!isRecord(customArgs)) {
    fail('The custom_args must be an object of string values.', field);
    return;
  }
  for (const [name, value] of Object.entries(customArgs)) {
    if (typeof value !== 'string') fail('Invalid type. Expected: string, given: ' + describeType(value) + '.', `${field}.${name}`);
  }
}

function checkCategories(categories: unknown, fail: Fail): void {
  if (categories === undefined) return;
  if (!Array.isArray(categories) || categories.length > MAX_CATEGORIES) {
    fail(`The categories must be an array of at most ${MAX_CATEGORIES} strings.`, 'categories');
    return;
  }
  categories.forEach((category: unknown, index) => {
    if (typeof category !== 'string' || category.length > MAX_CATEGORY_LENGTH) {
      fail(`A category must be a string of at most ${MAX_CATEGORY_LENGTH} characters.`, `categories.${index}`);
    }
  });
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
