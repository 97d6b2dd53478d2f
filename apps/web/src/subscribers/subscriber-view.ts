import { Prisma } from '@herald/shared';
import type { Attributes, SubscriberStatus } from '@herald/shared';

export const subscriberStatuses = ['pending', 'active', 'unsubscribed', 'bounced', 'complained'] as const satisfies SubscriberStatus[];

/** A subscriber as the admin API shows it: never the confirmation token hash or unsubscribe token. */
export type SubscriberView = {
  id: string;
  email: string;
  name: string | null;
  status: SubscriberStatus;
  consentAt: Date | null;
  consentSource: string | null;
  confirmedAt: Date | null;
  unsubscribedAt: Date | null;
  attributes: Attributes;
  createdAt: Date;
  updatedAt: Date;
};

/** The SELECT list producing a SubscriberView from `subscribers`. */
export const subscriberViewColumns = Prisma.sql`
  id, email, name, status::text AS status, consent_at AS "consentAt", consent_source AS "consentSource",
  confirmed_at AS "confirmedAt", unsubscribed_at AS "unsubscribedAt", attributes, created_at AS "createdAt", updated_at AS "updatedAt"`;
