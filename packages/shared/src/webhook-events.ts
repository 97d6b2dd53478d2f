/**
 * The events Herald reports to outbound webhook endpoints. The triggers of the outbound webhooks
 * migration write them (and the table's CHECK lists the same types); this is the list the API, the
 * admin and the docs offer.
 */
export const webhookEventTypes = [
  'subscriber.created',
  'subscriber.confirmed',
  'subscriber.unsubscribed',
  'subscriber.suppressed',
  'subscriber.erased',
  'campaign.started',
  'campaign.sent',
  'campaign.paused',
] as const;

export type WebhookEventType = (typeof webhookEventTypes)[number];

/** What each event means, for the admin's checkboxes and the API description. */
export const webhookEventDescriptions: Record<WebhookEventType, string> = {
  'subscriber.created': 'A new address signed up, was added or imported.',
  'subscriber.confirmed': 'A subscriber became active (confirmed their address, or was added as confirmed).',
  'subscriber.unsubscribed': 'A subscriber left one list (`list` names it) or everything (`list` is null).',
  'subscriber.suppressed': 'An address bounced or complained (`reason`: bounce or complaint); nothing more is sent to it.',
  'subscriber.erased': 'A subscriber was erased; the event carries only their id.',
  'campaign.started': 'A campaign began sending (now, or at its scheduled time).',
  'campaign.sent': 'A campaign finished: every recipient was sent to, skipped or failed.',
  'campaign.paused': 'A campaign was paused, by an admin or by Herald (`reason` says why).',
};

/** The version of the event body (`{id, type, version, timestamp, data}`); bumped only by a breaking change. */
export const webhookEventVersion = 1;

/** The type of the event `POST /webhook-endpoints/:id/test` sends; no endpoint subscribes to it. */
export const webhookTestEventType = 'webhook.test';
