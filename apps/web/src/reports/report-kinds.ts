/**
 * What a report counts, as the aggregates name it (herald_report_kind() in the report aggregates
 * migration maps SendGrid's event types to these).
 */
export const reportKinds = ['delivered', 'opened', 'clicked', 'bounced', 'blocked', 'dropped', 'complained', 'unsubscribed'] as const;
export type ReportKind = (typeof reportKinds)[number];

/** The deliveries' own states a report can list people by. */
export const deliveryEvents = ['sent', 'failed', 'skipped'] as const;
export type DeliveryEvent = (typeof deliveryEvents)[number];

/** Every figure of a report that has people behind it. */
export const recipientEvents = [...deliveryEvents, ...reportKinds] as const;
export type RecipientEvent = (typeof recipientEvents)[number];

export function isReportKind(event: RecipientEvent): event is ReportKind {
  return (reportKinds as readonly string[]).includes(event);
}
