/** What reached `POST /v3/mail/send`, refused requests included, so tests can count retries. */
export type MailSendStats = {
  requests: number;
  /** Keyed by HTTP status as a string ("202", "429", ...). */
  byStatus: Record<string, number>;
  /** Keyed by lower-cased to/cc/bcc address; a request naming an address counts once for it. */
  byRecipient: Record<string, number>;
};

export type Stats = {
  recordRequest(recipients: string[]): void;
  recordStatus(status: number): void;
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
    get: () => structuredClone(stats),
    reset() {
      stats = emptyStats();
    },
  };
}

function emptyStats(): MailSendStats {
  return { requests: 0, byStatus: {}, byRecipient: {} };
}
