import express, { Router } from 'express';
import type { RequestHandler } from 'express';
import { describe, expect, it } from 'vitest';
import { requirePermission } from '../apps/web/src/team/require-permission.js';
import { routeTable } from './support/route-table.js';

const handler: RequestHandler = (_req, res) => {
  res.end();
};

describe('routeTable', () => {
  it('reads every shape of route Express 5 takes, with the permission of its check', () => {
    const nested = Router();
    nested.get('/campaigns', requirePermission('campaigns:read'), handler);
    nested.route('/lists/:id').get(requirePermission('audiences:read'), handler).patch(requirePermission('audiences:write'), handler);
    nested.post(['/a', '/b'], handler);
    nested.all('/anything', requirePermission('queues:manage'), handler);

    const guardedAfter = Router();
    guardedAfter.get('/open-before', handler);
    guardedAfter.use(requirePermission('audit:read'));
    guardedAfter.get('/audit', handler);

    const app = express();
    app.use(express.json());
    app.use('/static', handler);
    app.use(nested);
    app.use('/admin/queues', requirePermission('queues:manage'), handler);
    app.use('/api', guardedAfter);
    // A pathless check in one router guards only that router's routes, not the next router's.
    const next = Router();
    next.get('/after', handler);
    app.use(next);
    app.use((_err: unknown, _req: unknown, _res: unknown, _next: unknown) => undefined);

    expect(routeTable(app)).toEqual([
      { method: 'USE', path: '/static', permission: null },
      { method: 'GET', path: '/campaigns', permission: 'campaigns:read' },
      { method: 'GET', path: '/lists/:id', permission: 'audiences:read' },
      { method: 'PATCH', path: '/lists/:id', permission: 'audiences:write' },
      { method: 'POST', path: '/a', permission: null },
      { method: 'POST', path: '/b', permission: null },
      { method: 'ALL', path: '/anything', permission: 'queues:manage' },
      { method: 'USE', path: '/admin/queues', permission: 'queues:manage' },
      { method: 'GET', path: '/api/open-before', permission: null },
      { method: 'GET', path: '/api/audit', permission: 'audit:read' },
      { method: 'GET', path: '/after', permission: null },
    ]);
  });
});
