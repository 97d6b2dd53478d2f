import type { Request, Response } from 'express';
import type { Db } from '@herald/shared';
import { auditRequest } from './audit.js';
import type { UserChange } from './users.js';

/** The audit entries of a change to a user, pages and API alike: one per thing that changed. */
export async function auditUserChange(db: Db, req: Request, res: Response, { before, after }: UserChange): Promise<void> {
  const target = { type: 'user' as const, id: after.id, label: after.email };
  if (before.role !== after.role) await auditRequest(db, req, res, 'user.role_changed', target, { from: before.role, to: after.role });
  if (before.status === 'disabled' && after.status !== 'disabled') await auditRequest(db, req, res, 'user.enabled', target);
  if (before.status !== 'disabled' && after.status === 'disabled') await auditRequest(db, req, res, 'user.disabled', target);
}

