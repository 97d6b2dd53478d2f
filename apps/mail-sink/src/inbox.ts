import type { MailSendRequest } from './mail-send-request.js';
import {
  createSgMessageId,
  listPersonalizationRecipients,
  renderReceivedMessage,
  type ReceivedMessage,
  type StoredRequest,
} from './received-message.js';

export type { ReceivedMessage } from './received-message.js';

export type Inbox = {
  /** Stores an accepted request as one message per personalization, in order. */
  add(id: string, request: MailSendRequest): ReceivedMessage[];
  /** Oldest first, in arrival order. */
  list(): ReceivedMessage[];
  /** The messages whose own to, cc or bcc include the address (case-insensitive). */
  findByRecipient(email: string): ReceivedMessage[];
  /** Every message still kept of the request that got this X-Message-Id. */
  findByMessageId(id: string): ReceivedMessage[];
  /**
   * The message with this `sgMessageId`; given an X-Message-Id, the first message kept of that
   * request (its only one when the request had one personalization).
   */
  get(id: string): ReceivedMessage | undefined;
  clear(): void;
};

export const DEFAULT_INBOX_LIMIT = 10_000;

type StoredMessage = { stored: StoredRequest; index: number; sgMessageId: string; recipients: string[] };
type RequestEntry = { stored: StoredRequest; messages: StoredMessage[]; kept: number };

/**
 * Keeps the last `limit` messages so a long-running dev sink cannot grow without bound. A request's
 * body is kept once and shared by its messages, which are rendered when read: a 1,000-personalization
 * request of a 100 KB body costs one 100 KB body, not 1,000 rendered copies.
 */
export function createInbox(limit = DEFAULT_INBOX_LIMIT): Inbox {
  let messages: StoredMessage[] = [];
  const bySgMessageId = new Map<string, StoredMessage>();
  const byRequestId = new Map<string, RequestEntry>();

  const render = (message: StoredMessage) => renderReceivedMessage(message.stored, message.index, message.recipients);
  const keptOf = (entry: RequestEntry) => entry.messages.slice(entry.messages.length - entry.kept);

  return {
    add(id, request) {
      const stored: StoredRequest = { id, receivedAt: new Date().toISOString(), request };
      const added = request.personalizations.map((personalization, index) => ({
        stored,
        index,
        sgMessageId: createSgMessageId(id, index),
        recipients: listPersonalizationRecipients(personalization),
      }));
      const entry: RequestEntry = { stored, messages: added, kept: added.length };
      byRequestId.set(id, entry);
      for (const message of added) bySgMessageId.set(message.sgMessageId, message);
      messages.push(...added);
      if (messages.length > limit) {
        // Oldest first, so a request loses its first personalizations first and keeps a tail.
        const evicted = messages.slice(0, messages.length - limit);
        messages = messages.slice(evicted.length);
        for (const message of evicted) {
          bySgMessageId.delete(message.sgMessageId);
          const owner = byRequestId.get(message.stored.id)!;
          owner.kept -= 1;
          if (owner.kept === 0) byRequestId.delete(message.stored.id);
        }
      }
      return keptOf(entry).map(render);
    },
    list: () => messages.map(render),
    findByRecipient(email) {
      const wanted = email.toLowerCase();
      return messages.filter((message) => message.recipients.includes(wanted)).map(render);
    },
    findByMessageId(id) {
      const entry = byRequestId.get(id);
      return entry ? keptOf(entry).map(render) : [];
    },
    get(id) {
      const message = bySgMessageId.get(id) ?? firstKept(byRequestId.get(id));
      return message && render(message);
    },
    clear() {
      messages = [];
      bySgMessageId.clear();
      byRequestId.clear();
    },
  };
}

function firstKept(entry: RequestEntry | undefined): StoredMessage | undefined {
  return entry?.messages[entry.messages.length - entry.kept];
}
