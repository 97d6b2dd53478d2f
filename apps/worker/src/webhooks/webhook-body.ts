import { webhookEventVersion } from '@herald/shared';

/** An event as stored: what every attempt's body is made from. */
export type StoredWebhookEvent = { id: string; type: string; data: unknown; createdAt: Date };

/**
 * The body every endpoint receives: `{id, type, version, timestamp, data}`. Built from the stored
 * event at each attempt, so an erasure in the meantime has already taken the address out of it.
 */
export function webhookBody(event: StoredWebhookEvent): string {
  return JSON.stringify({ id: event.id, type: event.type, version: webhookEventVersion, timestamp: event.createdAt.toISOString(), data: event.data });
}
