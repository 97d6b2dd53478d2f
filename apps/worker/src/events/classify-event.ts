import type { SuppressedStatus } from '@herald/shared';

/** The parts of a stored event that decide its effect. */
export type ClassifiableEvent = {
  /** SendGrid's `event`. */
  type: string;
  /** The payload's `type`: on `bounce`, `bounce` | `blocked` | `expired`. */
  bounceType: string | null;
  /** The payload's `reason`: on `dropped`, why SendGrid did not send. */
  reason: string | null;
  /** The payload's `bounce_classification`, when Bounce & Block Classifications are on. */
  classification?: string | null;
};

type Qualifier = 'type' | 'reason' | 'bounce_classification';

/** One documented case: an event, optionally one value of one of its fields, and what it means for the address. */
export type EventEffect = { event: string; when?: { field: Qualifier; value: string }; status: SuppressedStatus | undefined; source: string };

const REFERENCE = 'SendGrid Event Webhook reference (for-developers/tracking-events/event)';
const DROPS = 'SendGrid glossary: Drops';
const CLASSIFICATIONS = 'SendGrid: Bounce & Block Classifications (bounce_classification on bounce events)';

/**
 * Every documented `dropped` reason, `bounce` type and bounce/block classification, and the
 * subscriber state each implies (undefined: recorded only). Matching is case-insensitive.
 *
 * - A drop means SendGrid did not even try. The reasons naming one of SendGrid's suppression lists
 *   mean it never will, so Herald stops mailing the address in the state that list stands for.
 * - `bounce` of type `bounce` (or no type) is permanent and SendGrid lists the address, so later
 *   mail would be dropped anyway: bounced, whatever its classification. `blocked` and `expired` are
 *   temporary, unless the classification says the address itself is invalid.
 */
export const eventEffects: EventEffect[] = [
  { event: 'bounce', when: { field: 'type', value: 'bounce' }, status: 'bounced', source: `${REFERENCE}: Bounce, "could not or would not accept mail to this recipient permanently"; type=bounce (also assumed when absent) is a hard bounce` },
  { event: 'bounce', when: { field: 'type', value: 'blocked' }, status: undefined, source: `${REFERENCE}: Blocked, "would not accept the message temporarily"` },
  { event: 'bounce', when: { field: 'type', value: 'expired' }, status: undefined, source: 'SendGrid: expired, delivery attempts ran out; nothing about the address' },
  { event: 'bounce', when: { field: 'bounce_classification', value: 'Invalid Address' }, status: 'bounced', source: `${CLASSIFICATIONS}: the address does not exist or is malformed` },
  { event: 'bounce', when: { field: 'bounce_classification', value: 'Mailbox Unavailable' }, status: undefined, source: `${CLASSIFICATIONS}: full, disabled or unavailable for now` },
  { event: 'bounce', when: { field: 'bounce_classification', value: 'Technical' }, status: undefined, source: `${CLASSIFICATIONS}: a technical fault` },
  { event: 'bounce', when: { field: 'bounce_classification', value: 'Content' }, status: undefined, source: `${CLASSIFICATIONS}: the receiver objected to the content` },
  { event: 'bounce', when: { field: 'bounce_classification', value: 'Reputation' }, status: undefined, source: `${CLASSIFICATIONS}: the sender's reputation` },
  { event: 'bounce', when: { field: 'bounce_classification', value: 'Frequency or Volume' }, status: undefined, source: `${CLASSIFICATIONS}: too much mail too fast` },
  { event: 'bounce', when: { field: 'bounce_classification', value: 'Unclassified' }, status: undefined, source: `${CLASSIFICATIONS}: no classification; the type decides` },
  { event: 'dropped', when: { field: 'reason', value: 'Bounced Address' }, status: 'bounced', source: `${REFERENCE}, dropped reasons; ${DROPS}: the address is on the bounce list` },
  { event: 'dropped', when: { field: 'reason', value: 'Invalid' }, status: 'bounced', source: `${REFERENCE}, dropped reasons; ${DROPS}: "if on the Invalid Emails list, it will say Invalid"` },
  { event: 'dropped', when: { field: 'reason', value: 'Unsubscribed Address' }, status: 'unsubscribed', source: `${REFERENCE}, dropped reasons; ${DROPS}: the address is on the Unsubscribe list` },
  { event: 'dropped', when: { field: 'reason', value: 'Spam Reporting Address' }, status: 'complained', source: `${REFERENCE}, dropped reasons; ${DROPS}: the address is on the Spam report list` },
  // Our own request was malformed: suppressing on it would mark a whole audience bounced.
  { event: 'dropped', when: { field: 'reason', value: 'Invalid SMTPAPI header' }, status: undefined, source: `${REFERENCE}, dropped reasons; ${DROPS}: "The SMTPAPI header is built incorrectly"` },
  { event: 'dropped', when: { field: 'reason', value: 'Spam Content' }, status: undefined, source: `${REFERENCE}, dropped reasons; ${DROPS}: the Spam Checker filter judged the content` },
  { event: 'dropped', when: { field: 'reason', value: 'Recipient List over Package Quota' }, status: undefined, source: `${REFERENCE}, dropped reasons: the account's plan, not the address` },
  { event: 'dropped', when: { field: 'reason', value: 'Duplicate message' }, status: undefined, source: `${DROPS}: Marketing Campaigns duplicates` },
  { event: 'dropped', status: undefined, source: 'An undocumented reason is recorded only: guessing could suppress a whole audience' },
  { event: 'spamreport', status: 'complained', source: `${REFERENCE}: Spam Report, "Recipient marked message as spam"` },
  { event: 'unsubscribe', status: 'unsubscribed', source: `${REFERENCE}: Unsubscribe, "Opt Out of All Emails"` },
  { event: 'group_unsubscribe', status: 'unsubscribed', source: `${REFERENCE}: Group Unsubscribe` },
  // Consent comes back through Herald's own confirmation, never through a provider event.
  { event: 'group_resubscribe', status: undefined, source: `${REFERENCE}: Group Resubscribe` },
  { event: 'processed', status: undefined, source: `${REFERENCE}: delivery events` },
  { event: 'deferred', status: undefined, source: `${REFERENCE}: Deferred, "temporarily rejected"` },
  { event: 'delivered', status: undefined, source: `${REFERENCE}: delivery events` },
  { event: 'open', status: undefined, source: `${REFERENCE}: engagement events` },
  { event: 'click', status: undefined, source: `${REFERENCE}: engagement events` },
];

/** Which field decides, in order: a classification that condemns the address beats a temporary type. */
const qualifierOrder: Qualifier[] = ['reason', 'bounce_classification', 'type'];

/**
 * The status an event moves its subscriber to, or undefined when it is only recorded: the first
 * table row for its kind whose qualifier matches, else the row without a qualifier.
 */
export function classifyEvent(event: ClassifiableEvent): SuppressedStatus | undefined {
  const values: Record<Qualifier, string | null | undefined> = {
    // SendGrid's older events carry no type; a bounce without one is a hard bounce.
    type: event.type === 'bounce' ? (event.bounceType ?? 'bounce') : event.bounceType,
    reason: event.reason,
    bounce_classification: event.classification,
  };
  const rows = eventEffects.filter((row) => row.event === event.type);
  const matching = (row: EventEffect) => {
    const value = row.when ? values[row.when.field] : undefined;
    return row.when !== undefined && typeof value === 'string' && value.trim().toLowerCase() === row.when.value.toLowerCase();
  };
  const qualified = rows.filter(matching);
  // Any qualifier saying "suppress" wins: a hard bounce stays hard whatever its classification.
  const suppressing = qualifierOrder.flatMap((field) => qualified.filter((row) => row.when?.field === field && row.status !== undefined));
  if (suppressing[0]) return suppressing[0].status;
  if (qualified.length > 0) return undefined;
  return rows.find((row) => row.when === undefined)?.status;
}
