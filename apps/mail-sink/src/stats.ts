/**
 * What reached `POST /v3/mail/send`, refused requests included, so tests can count retries; and
 * what was accepted, counted per email as well as per request, since one request may carry up to
 * 1,000 personalizations.
 */
export type MailSendStats = {
  requests: number;
  /** Keyed by HTTP status as a string ("202", "429", ...); one count per request. */
  byStatus: Record<string, number>;
  /** Keyed by lower-cased to/cc/bcc address; a request naming an address counts once for it. */
  byRecipient: Record<string, number>;
  /** Emails accepted into the inbox: one per personalization of every request answered 202. */
  messages: number;
  /** The to, cc and bcc addresses of those emails, one count per address per email. */
  recipients: number;
};

export type Stats = {
  recordRequest(recipients: string[]): void;
  recordStatus(status: number): void;
  /** One accepted request: how many emails it made and how many addresses they went to. */
  recordAccepted(messages: number, recipients: number): void;
  get(): MailSendStats;
  reset(): void;
};

export function createStats(): Stats {
  let stats = emptyStats();
  return {
    recordRequest(recipients) {
      stats.requests += 1;
      for (const recipient of recipients) stats.byRecipient[recipient] = (stats.byRecipient[recipient] ?? 0) + 1;
    },
    recordStatus(status) {
      stats.byStatus[status] = (stats.byStatus[status] ?? 0) + 1;
    },
    recordAccepted(messages, recipients) {
      stats.messages += messages;
      stats.recipients += recipients;
    },
    get: () => structuredClone(stats),
    reset() {
      stats = emptyStats();
    },
  };
}

function emptyStats(): MailSendStats {
  return { requests: 0, byStatus: {}, byRecipient: {}, messages: 0, recipients: 0 };
}
