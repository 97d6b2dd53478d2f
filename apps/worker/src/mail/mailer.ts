/**
 * SendGrid's open tracking (a pixel in the HTML) and click tracking (every link rewritten through
 * SendGrid), per message. Required on every email so each sender decides rather than inheriting
 * the account's settings.
 */
export type EmailTracking = { opens: boolean; clicks: boolean };

/** Both off: for emails whose opens and clicks no report counts, and whose links must work as written. */
export const noTracking: EmailTracking = { opens: false, clicks: false };

/** The port the handlers send through; `sendgrid.ts` is the one implementation. */
export type OutgoingEmail = {
  to: { email: string; name?: string };
  subject: string;
  html: string;
  text: string;
  headers: Record<string, string>;
  /** Opaque ids only (SendGrid keeps them long-term); they come back on webhook events. */
  customArgs: Record<string, string>;
  tracking: EmailTracking;
};

/**
 * One message to many recipients in one provider request: the shared subject and content carry
 * substitution keys, and each personalization its recipient, headers, ids and values for the keys.
 */
export type OutgoingBatch = {
  subject: string;
  html: string;
  text: string;
  /** Per message, so one setting for every recipient of the batch. */
  tracking: EmailTracking;
  personalizations: {
    to: { email: string; name?: string };
    headers: Record<string, string>;
    customArgs: Record<string, string>;
    substitutions: Record<string, string>;
  }[];
};

export type Mailer = {
  /** Resolves with the provider's message id once the provider has accepted the message. */
  send(email: OutgoingEmail): Promise<{ messageId: string | null }>;
  /** The same for a batch: accepted or refused as a whole, under one message id. */
  sendBatch(batch: OutgoingBatch): Promise<{ messageId: string | null }>;
};
