import { Router } from 'express';
import type { Db } from '@herald/shared';
import { fieldErrors } from '../http/field-errors.js';
import { auditActionLabels, auditActions } from '../team/audit.js';
import { auditListQuery, listAuditEntries } from '../team/audit-queries.js';
import type { AuditEntryView } from '../team/audit-queries.js';
import { actorOf } from '../team/require-permission.js';
import { roleCan } from '../team/roles.js';
import type { Permission } from '../team/roles.js';
import type { AdminContext } from './admin-context.js';

const pageSize = 50;

/** The admin page of each kind of target, and what reading it takes. */
const targetPages: Record<string, { path: string; permission: Permission }> = {
  campaign: { path: '/admin/campaigns/', permission: 'campaigns:read' },
  subscriber: { path: '/admin/subscribers/', permission: 'subscribers:read' },
  user: { path: '/admin/users/', permission: 'users:manage' },
  list: { path: '/admin/lists/', permission: 'audiences:read' },
  segment: { path: '/admin/segments/', permission: 'audiences:read' },
  webhook_endpoint: { path: '/admin/webhooks/', permission: 'webhooks:manage' },
};

/** The filter's choices: each action with its name for people. */
const actionChoices = auditActions.map((action) => ({ value: action, label: auditActionLabels[action] }));

/**
 * Which targets on this page still exist, by type: an entry outlives what it names (an erased
 * subscriber's row is gone, a removed user's too), and a link to a page that answers 404 helps no one.
 */
async function existingTargets(db: Db, entries: AuditEntryView[]): Promise<Set<string>> {
  const ids = (type: string) => [...new Set(entries.filter((e) => e.target?.type === type && e.target.id).map((e) => e.target!.id!))].filter((id) => /^[0-9a-f-]{36}$/i.test(id));
  const found = await Promise.all([
    db.campaign.findMany({ where: { id: { in: ids('campaign') } }, select: { id: true } }).then((rows) => rows.map((row) => `campaign:${row.id}`)),
    db.subscriber.findMany({ where: { id: { in: ids('subscriber') } }, select: { id: true } }).then((rows) => rows.map((row) => `subscriber:${row.id}`)),
    db.user.findMany({ where: { id: { in: ids('user') } }, select: { id: true } }).then((rows) => rows.map((row) => `user:${row.id}`)),
    db.list.findMany({ where: { id: { in: ids('list') } }, select: { id: true } }).then((rows) => rows.map((row) => `list:${row.id}`)),
    db.segment.findMany({ where: { id: { in: ids('segment') } }, select: { id: true } }).then((rows) => rows.map((row) => `segment:${row.id}`)),
    db.webhookEndpoint.findMany({ where: { id: { in: ids('webhook_endpoint') } }, select: { id: true } }).then((rows) => rows.map((row) => `webhook_endpoint:${row.id}`)),
  ]);
  return new Set(found.flat());
}

const text = (value: unknown) => (typeof value === 'string' ? value.trim() : '');

/** The audit log as a page: filters by actor, action and day, newest first, 50 at a time. */
export function auditPages({ deps, can, render }: AdminContext): Router {
  const { db } = deps;
  const router = Router();

  router.get('/admin/audit', ...can('audit:read'), async (req, res) => {
    const filters = { actor: text(req.query.actor), action: text(req.query.action), from: text(req.query.from) };
    const cursor = text(req.query.cursor);
    // An empty form field means "any": only what was filled in is a filter.
    const parsed = auditListQuery.safeParse({
      ...Object.fromEntries(Object.entries(filters).filter(([, value]) => value !== '')),
      ...(cursor && { cursor }),
      limit: pageSize,
    });
    const role = actorOf(res)!.role;
    if (!parsed.success) {
      res.status(422);
      return render(req, res, 'audit', { title: 'Audit log', filters, actions: actionChoices, errors: fieldErrors(parsed.error), entries: [], links: {}, olderHref: null, olderPage: false });
    }
    const page = await listAuditEntries(db, parsed.data);
    const existing = await existingTargets(db, page.entries);
    const links: Record<string, string> = {};
    for (const entry of page.entries) {
      const target = entry.target;
      const where = target && targetPages[target.type];
      if (target?.id && where && roleCan(role, where.permission) && existing.has(`${target.type}:${target.id}`)) links[entry.id] = `${where.path}${target.id}`;
    }
    const olderHref = (next: string) => `/admin/audit?${new URLSearchParams({ ...Object.fromEntries(Object.entries(filters).filter(([, value]) => value !== '')), cursor: next })}`;
    render(req, res, 'audit', {
      title: 'Audit log',
      filters,
      actions: actionChoices,
      errors: {},
      entries: page.entries,
      links,
      olderHref: page.nextCursor ? olderHref(page.nextCursor) : null,
      olderPage: cursor !== '',
    });
  });

  return router;
}
