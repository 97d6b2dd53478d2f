import type { Request, Response } from 'express';
import type { Db } from '@herald/shared';
import type { CampaignAction } from '../campaigns/campaign-actions.js';
import type { Actor } from './actor.js';
import { actorOf } from './require-permission.js';

/** Every action the audit log records, listed once: `GET /audit?action=` accepts these. */
export const auditActions = [
  'campaign.created',
  'campaign.edited',
  'campaign.started',
  'campaign.scheduled',
  'campaign.paused',
  'campaign.resumed',
  'campaign.cancelled',
  'campaign.retried',
  'subscriber.added',
  'subscriber.edited',
  'subscriber.erased',
  'subscriber.exported',
  'subscriber.suppression_lifted',
  'subscribers.imported',
  'subscribers.exported',
  'list.created',
  'list.changed',
  'list.archived',
  'list.deleted',
  'segment.created',
  'segment.changed',
  'segment.deleted',
  'webhook_endpoint.created',
  'webhook_endpoint.changed',
  'webhook_endpoint.enabled',
  'webhook_endpoint.disabled',
  'webhook_endpoint.deleted',
  'webhook_endpoint.tested',
  'webhook_delivery.resent',
  'user.created',
  'user.invited',
  'user.joined',
  'user.role_changed',
  'user.disabled',
  'user.enabled',
  'user.removed',
  'user.password_changed',
  'token.created',
  'token.revoked',
  'login.succeeded',
  'login.failed',
] as const;
export type AuditAction = (typeof auditActions)[number];

/** How the audit page's filter names each action. */
export const auditActionLabels = {
  'campaign.created': 'Campaign created',
  'campaign.edited': 'Campaign edited',
  'campaign.started': 'Campaign started',
  'campaign.scheduled': 'Campaign scheduled',
  'campaign.paused': 'Campaign paused',
  'campaign.resumed': 'Campaign resumed',
  'campaign.cancelled': 'Campaign cancelled',
  'campaign.retried': 'Campaign failures retried',
  'subscriber.added': 'Subscriber added',
  'subscriber.edited': 'Subscriber edited',
  'subscriber.erased': 'Subscriber erased',
  'subscriber.exported': 'Subscriber’s data exported',
  'subscriber.suppression_lifted': 'Suppression lifted',
  'subscribers.imported': 'Subscribers imported',
  'subscribers.exported': 'Subscribers exported',
  'list.created': 'List created',
  'list.changed': 'List changed',
  'list.archived': 'List archived',
  'list.deleted': 'List deleted',
  'segment.created': 'Segment created',
  'segment.changed': 'Segment changed',
  'segment.deleted': 'Segment deleted',
  'webhook_endpoint.created': 'Webhook endpoint created',
  'webhook_endpoint.changed': 'Webhook endpoint changed',
  'webhook_endpoint.enabled': 'Webhook endpoint enabled',
  'webhook_endpoint.disabled': 'Webhook endpoint disabled',
  'webhook_endpoint.deleted': 'Webhook endpoint deleted',
  'webhook_endpoint.tested': 'Webhook test event sent',
  'webhook_delivery.resent': 'Webhook delivery sent again',
  'user.created': 'User created',
  'user.invited': 'User invited',
  'user.joined': 'User joined',
  'user.role_changed': 'User’s role changed',
  'user.disabled': 'User disabled',
  'user.enabled': 'User enabled',
  'user.removed': 'User removed',
  'user.password_changed': 'Password changed',
  'token.created': 'API token created',
  'token.revoked': 'API token revoked',
  'login.succeeded': 'Logged in',
  'login.failed': 'Login failed',
} as const satisfies Record<AuditAction, string>;

export type AuditTarget = {
  type: 'campaign' | 'subscriber' | 'subscribers' | 'list' | 'segment' | 'webhook_endpoint' | 'user' | 'token';
  id?: string | null;
  label?: string | null;
};

export type AuditEntryInput = {
  actor: Actor | { userId: string | null; tokenId?: null; label: string };
  action: AuditAction;
  target?: AuditTarget | undefined;
  address?: string | undefined;
  details?: Record<string, unknown> | undefined;
};

/** What each campaign action (pause, resume, cancel, retry-failed) is recorded as. */
export const campaignActionAudit = {
  pause: 'campaign.paused',
  resume: 'campaign.resumed',
  cancel: 'campaign.cancelled',
  'retry-failed': 'campaign.retried',
} as const satisfies Record<CampaignAction, AuditAction>;

export const campaignTarget = (campaign: { id: string; subject: string }): AuditTarget => ({ type: 'campaign', id: campaign.id, label: campaign.subject });

export const subscriberTarget = (subscriber: { id: string; email: string }): AuditTarget => ({ type: 'subscriber', id: subscriber.id, label: subscriber.email });

export const listTarget = (list: { id: string; name: string }): AuditTarget => ({ type: 'list', id: list.id, label: list.name });

export const segmentTarget = (segment: { id: string; name: string }): AuditTarget => ({ type: 'segment', id: segment.id, label: segment.name });

/**
 * An endpoint is named by its URL's scheme and host alone: receivers often take a token in the
 * path or query, and the log keeps what it records for good.
 */
export const webhookEndpointTarget = (endpoint: { id: string; url: string }): AuditTarget => ({ type: 'webhook_endpoint', id: endpoint.id, label: originOf(endpoint.url) });

function originOf(url: string): string | null {
  try {
    const origin = new URL(url).origin;
    return origin === 'null' ? null : origin;
  } catch {
    return null;
  }
}

/**
 * The names of the fields whose values differ between two versions of a thing (a list before and
 * after an edit), for an entry's details: what changed, never the values themselves.
 */
export function changedFields<T extends object>(before: T, after: T, fields: readonly (keyof T & string)[]): string[] {
  return fields.filter((field) => JSON.stringify(before[field]) !== JSON.stringify(after[field]));
}

/** The numbers of a report (an import's, say), as an entry's details. */
export function countsOf(report: object): Record<string, number> {
  return Object.fromEntries(Object.entries(report).filter((entry): entry is [string, number] => typeof entry[1] === 'number'));
}

/** Appends one entry. The table refuses changes to it (see the team migration). */
export async function recordAudit(db: Pick<Db, 'auditEntry'>, { actor, action, target, address, details }: AuditEntryInput): Promise<void> {
  await db.auditEntry.create({
    data: {
      actorUserId: actor.userId,
      actorTokenId: actor.tokenId ?? null,
      actor: actor.label.slice(0, 300),
      action,
      targetType: target?.type ?? null,
      targetId: target?.id ?? null,
      targetLabel: target?.label ?? null,
      address: address ?? null,
      details: (details ?? {}) as object,
    },
  });
}

/**
 * Records what the request's actor (set by the session or bearer check) did, from the request's
 * client address. Written once the change it records has been made.
 */
export function auditRequest(db: Db, req: Request, res: Response, action: AuditAction, target?: AuditTarget, details?: Record<string, unknown>): Promise<void> {
  const actor = actorOf(res);
  if (!actor) throw new Error(`audit of ${action} without an actor`);
  return recordAudit(db, { actor, action, target, address: req.ip, details });
}

/** Who a change made inside a transaction of its own (an erasure) is recorded as. */
export function auditedBy(req: Request, res: Response): { actor: Actor; address: string | undefined } {
  const actor = actorOf(res);
  if (!actor) throw new Error('audit without an actor');
  return { actor, address: req.ip };
}

/**
 * Erasure keeps the entries about a person but not their address: the one change the table's
 * trigger allows clears the label and details of every entry whose target is them.
 */
export async function forgetAuditedSubscriber(db: Pick<Db, '$executeRaw'>, subscriberId: string): Promise<void> {
  await db.$executeRaw`
    UPDATE audit_entries SET target_label = NULL, details = '{}'::jsonb
    WHERE target_type = 'subscriber' AND target_id = ${subscriberId} AND (target_label IS NOT NULL OR details <> '{}'::jsonb)`;
}
