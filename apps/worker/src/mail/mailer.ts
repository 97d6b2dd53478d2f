/** The port the handlers send through; `sendgrid.ts` is the one implementation. */
export type OutgoingEmail = {
  to: { email: string; name?: string };
  subject: string;
  html: string;
  text: string;
  headers: Record<string, string>;
  /** Opaque ids only (SendGrid keeps them long-term); they come back on webhook events. */
  customArgs: Record<string, string>;
};

export type Mailer = {
  /** Resolves with the provider's message id once the provider has accepted the message. */
  send(email: OutgoingEmail): Promise<{ messageId: string | null }>;
};
