import type { EmailAddress, MailSendRequest, Personalization } from './mail-send-request.js';
import { createSubstitute } from './substitutions.js';
import { trackingOf } from './tracking-settings.js';
import type { MessageTracking } from './tracking-settings.js';

/**
 * One email as its recipients receive it: one personalization of an accepted request, with the
 * message-level fields it inherits and its substitutions applied. A request with N personalizations
 * is N of these, all carrying the request's X-Message-Id.
 */
export type ReceivedMessage = {
  /** The request's X-Message-Id, shared by every message of that request. */
  id: string;
  /**
   * This message's own id, shaped like the `sg_message_id` of SendGrid's events: the X-Message-Id,
   * a dot, and a suffix naming the personalization.
   */
  sgMessageId: string;
  /** Its personalization's position in the request. */
  personalizationIndex: number;
  receivedAt: string;
  /** Lower-cased to, cc and bcc addresses of this personalization. */
  recipients: string[];
  to: EmailAddress[];
  cc: EmailAddress[];
  bcc: EmailAddress[];
  from: string;
  /** `reply_to` with substitutions applied; null when the request has none. */
  replyTo: EmailAddress | null;
  /** The personalization's subject, else the request's; substitutions applied. */
  subject: string;
  /** The first text/plain block, substitutions applied. */
  text: string | null;
  /** The first text/html block, substitutions applied. */
  html: string | null;
  /** The request's headers overridden by the personalization's (names compared case-insensitively). */
  headers: Record<string, string>;
  /** The request's custom_args overridden by the personalization's; SendGrid never substitutes them. */
  customArgs: Record<string, string>;
  categories: string[];
  /** The request's `tracking_settings` as they apply: a setting left out is on (the account default). */
  tracking: MessageTracking;
  /** The body as received, its `personalizations` narrowed to this message's one. */
  request: MailSendRequest;
};

/** What the inbox keeps for one accepted request: the body once, however many messages it makes. */
export type StoredRequest = { id: string; receivedAt: string; request: MailSendRequest };

export function listPersonalizationRecipients(personalization: Personalization): string[] {
  return [...personalization.to, ...(personalization.cc ?? []), ...(personalization.bcc ?? [])].map((address) => address.email.toLowerCase());
}

export function createSgMessageId(requestId: string, index: number): string {
  return `${requestId}.filter-sink-${index}`;
}

/**
 * Renders one personalization of a stored request. Substituting a large body for every message of
 * a request is the costly part, so every derived field is computed on first read: listing an inbox
 * of thousands of messages, or counting them, renders no body.
 */
export function renderReceivedMessage(stored: StoredRequest, index: number, recipients: string[]): ReceivedMessage {
  const { request } = stored;
  const personalization = request.personalizations[index]!;
  const substitute = once(() => createSubstitute(personalization.substitutions));
  const findContent = (type: string) => request.content?.find((part) => part.type.toLowerCase() === type)?.value;
  const subject = once(() => substitute()(personalization.subject ?? request.subject ?? ''));
  const text = once(() => mapNullable(findContent('text/plain'), substitute()));
  const html = once(() => mapNullable(findContent('text/html'), substitute()));
  const replyTo = once(() => (request.reply_to ? substituteAddress(request.reply_to, substitute()) : null));
  const headers = once(() => mergeHeaders(request.headers, personalization.headers));
  // Object.fromEntries defines keys as data, so a key such as `__proto__` stays an ordinary key.
  const customArgs = once(() => Object.fromEntries([...Object.entries(request.custom_args ?? {}), ...Object.entries(personalization.custom_args ?? {})]));
  const narrowed = once((): MailSendRequest => ({ ...request, personalizations: [personalization] }));

  return {
    id: stored.id,
    sgMessageId: createSgMessageId(stored.id, index),
    personalizationIndex: index,
    receivedAt: stored.receivedAt,
    recipients,
    to: personalization.to,
    cc: personalization.cc ?? [],
    bcc: personalization.bcc ?? [],
    from: request.from.email,
    get replyTo() {
      return replyTo();
    },
    get subject() {
      return subject();
    },
    get text() {
      return text();
    },
    get html() {
      return html();
    },
    get headers() {
      return headers();
    },
    get customArgs() {
      return customArgs();
    },
    categories: request.categories ?? [],
    tracking: trackingOf(request.tracking_settings),
    get request() {
      return narrowed();
    },
  };
}

function mergeHeaders(base: Record<string, string> | undefined, override: Record<string, string> | undefined): Record<string, string> {
  const merged = new Map<string, [string, string]>();
  for (const [name, value] of [...Object.entries(base ?? {}), ...Object.entries(override ?? {})]) {
    merged.set(name.toLowerCase(), [name, value]);
  }
  return Object.fromEntries(merged.values());
}

function substituteAddress(address: EmailAddress, substitute: (text: string) => string): EmailAddress {
  return address.name === undefined ? { email: substitute(address.email) } : { email: substitute(address.email), name: substitute(address.name) };
}

function mapNullable(value: string | undefined, map: (value: string) => string): string | null {
  return value === undefined ? null : map(value);
}

function once<T>(compute: () => T): () => T {
  let computed: { value: T } | null = null;
  return () => (computed ??= { value: compute() }).value;
}
