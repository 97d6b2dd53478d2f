import { listRecipients, type MailSendRequest } from './mail-send-request.js';

/**
 * One accepted request. The convenience fields (`subject`, `text`, `html`, `customArgs`) describe the
 * first personalization, which is the whole message when one request carries one recipient (Herald's
 * case); `request` is the body exactly as received.
 */
export type ReceivedMessage = {
  id: string;
  receivedAt: string;
  recipients: string[];
  from: string;
  subject: string;
  text: string | null;
  html: string | null;
  customArgs: Record<string, string>;
  categories: string[];
  request: MailSendRequest;
};

export type Inbox = {
  add(id: string, request: MailSendRequest): ReceivedMessage;
  /** Oldest first, in arrival order. */
  list(): ReceivedMessage[];
  findByRecipient(email: string): ReceivedMessage[];
  get(id: string): ReceivedMessage | undefined;
  clear(): void;
};

export const DEFAULT_INBOX_LIMIT = 10_000;

/** Keeps the last `limit` messages so a long-running dev sink cannot grow without bound. */
export function createInbox(limit = DEFAULT_INBOX_LIMIT): Inbox {
  const messages: ReceivedMessage[] = [];
  const byId = new Map<string, ReceivedMessage>();

  return {
    add(id, request) {
      const message = toReceivedMessage(id, request);
      messages.push(message);
      byId.set(id, message);
      while (messages.length > limit) byId.delete(messages.shift()!.id);
      return message;
    },
    list: () => [...messages],
    findByRecipient(email) {
      const wanted = email.toLowerCase();
      return messages.filter((message) => message.recipients.includes(wanted));
    },
    get: (id) => byId.get(id),
    clear() {
      messages.length = 0;
      byId.clear();
    },
  };
}

function toReceivedMessage(id: string, request: MailSendRequest): ReceivedMessage {
  const first = request.personalizations[0];
  return {
    id,
    receivedAt: new Date().toISOString(),
    recipients: listRecipients(request),
    from: request.from.email,
    subject: first?.subject ?? request.subject ?? '',
    text: (request.content ?? []).find((part) => part.type === 'text/plain')?.value ?? null,
    html: (request.content ?? []).find((part) => part.type === 'text/html')?.value ?? null,
    customArgs: { ...request.custom_args, ...first?.custom_args },
    categories: request.categories ?? [],
    request,
  };
}
