import type { SuppressedStatus } from '@herald/shared';

/** The parts of a stored event that decide its effect. */
export type ClassifiableEvent = {
  /** SendGrid's `event`. */
  type: string;
  /** The payload's `type`: on `bounce`, `bounce` | `blocked` | `expired`. */
  bounceType: string | null;
  /** The payload's `reason`: on `dropped`, why SendGrid did not send. */
  reason: string | null;
};

/**
 * "Bounced Address" and "Invalid" (SendGrid's word for an invalid address) say the address cannot
 * receive mail. "Invalid SMTPAPI header" is our own request's fault: suppressing on it would mark
 * a whole campaign's audience bounced.
 */
const undeliverableDrop = /bounced address|\binvalid\b(?!\s+smtpapi)/i;

/**
 * The status an event moves its subscriber to, or undefined when it is only recorded (`blocked`,
 * `expired`, `deferred`, `processed`, `delivered`, `open`, `click`, `group_resubscribe`, ...).
 * A resubscribe is recorded only: consent comes back through Herald's own confirmation.
 */
export function classifyEvent(event: ClassifiableEvent): SuppressedStatus | undefined {
  switch (event.type) {
    case 'bounce':
      return (event.bounceType ?? 'bounce') === 'bounce' ? 'bounced' : undefined;
    case 'dropped':
      return event.reason && undeliverableDrop.test(event.reason) ? 'bounced' : undefined;
    case 'spamreport':
      return 'complained';
    case 'unsubscribe':
    case 'group_unsubscribe':
      return 'unsubscribed';
    default:
      return undefined;
  }
}
