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
  'user.invited',
  'user.joined',
  'user.role_changed',
  'user.disabled',
  'user.enabled',
  'user.removed',
  'token.created',
  'token.revoked',
  'login.succeeded',
  'login.failed',
] as const;
export type AuditAction = (typeof auditActions)[number];

export type AuditTarget = { type: 'campaign' | 'subscriber' | 'subscribers' | 'user' | 'token'; id?: string | null; label?: string | null };

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
