export type EmailAddress = { email: string; name?: string };

export type Personalization = {
  to: EmailAddress[];
  cc?: EmailAddress[];
  bcc?: EmailAddress[];
  subject?: string;
  headers?: Record<string, string>;
  custom_args?: Record<string, string>;
  substitutions?: Record<string, string>;
  dynamic_template_data?: Record<string, unknown>;
  send_at?: number;
};

export type ContentPart = { type: string; value: string };

/** The v3 Mail Send body as far as the sink checks it; unknown members are kept as sent. */
export type MailSendRequest = {
  from: EmailAddress;
  reply_to?: EmailAddress;
  personalizations: Personalization[];
  subject?: string;
  /** Absent when a `template_id` supplies the content. */
  content?: ContentPart[];
  template_id?: string;
  headers?: Record<string, string>;
  custom_args?: Record<string, string>;
  categories?: string[];
  mail_settings?: { sandbox_mode?: { enable?: boolean } };
  tracking_settings?: {
    click_tracking?: { enable?: boolean; enable_text?: boolean };
    open_tracking?: { enable?: boolean; substitution_tag?: string };
    [setting: string]: unknown;
  };
  [member: string]: unknown;
};

/**
 * Lower-cased to/cc/bcc addresses of a body that may not have been validated yet, so that requests
 * refused before validation (429, 5xx, 401) are still counted per recipient.
 */
export function listRecipients(body: unknown): string[] {
  const personalizations = isRecord(body) && Array.isArray(body.personalizations) ? body.personalizations : [];
  const recipients = new Set<string>();
  for (const personalization of personalizations) {
    if (!isRecord(personalization)) continue;
    for (const kind of ['to', 'cc', 'bcc']) {
      const addresses = personalization[kind];
      if (!Array.isArray(addresses)) continue;
      for (const address of addresses) {
        if (isRecord(address) && typeof address.email === 'string') recipients.add(address.email.toLowerCase());
      }
    }
  }
  return [...recipients];
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
