import { Router } from 'express';
import type { WebDeps } from '../deps.js';
import { accountPages } from '../admin/account-pages.js';
import { createAdminContext } from '../admin/admin-context.js';
import { createAdminSecurity } from '../admin/admin-security.js';
import { auditPages } from '../admin/audit-pages.js';
import { campaignPages } from '../admin/campaign-pages.js';
import { composePages } from '../admin/compose-pages.js';
import { invitationPages } from '../admin/invitation-pages.js';
import { listPages } from '../admin/list-pages.js';
import { loginPages } from '../admin/login-pages.js';
import { queueDashboard } from '../admin/queue-dashboard.js';
import { reportPages } from '../admin/report-pages.js';
import { segmentPages } from '../admin/segment-pages.js';
import { subscriberPages } from '../admin/subscriber-pages.js';
import { userPages } from '../admin/user-pages.js';
import { webhookPages } from '../admin/webhook-pages.js';
import { adminViewHelpers } from '../admin/view-helpers.js';
import { HttpError } from '../http/http-error.js';

/**
 * The admin pages: log in with ADMIN_PASSWORD, write, preview, test and send campaigns, follow
 * them, manage subscribers, and look at the queues. Every page needs the session; every form
 * carries a CSRF token; every error under /admin, the queue dashboard's included, is shown inside
 * the admin layout with the way back.
 */
export function adminRoutes(deps: WebDeps): Router {
  const security = createAdminSecurity(deps.config, deps.redis, deps.db);
  const context = createAdminContext(deps, security);
  const router = Router();

  router.use('/admin', ...security.middleware, (req, res, next) => {
    res.locals.errorView = 'admin/error';
    res.locals.view = adminViewHelpers;
    // Read by the layout's logout form when a page renders; JSON answers never create one.
    let token: string | undefined;
    Object.defineProperty(res.locals, 'csrfToken', { enumerable: true, get: () => (token ??= security.csrfToken(req, res)) });
    next();
  });

  router.use(loginPages(context));
  router.use(invitationPages(context));
  router.use('/admin/queues', ...context.can('queues:manage'), queueDashboard(deps.queues, '/admin/queues'));
  // Before the campaign pages, whose `/admin/campaigns/:id` would otherwise take `/new`.
  router.use(composePages(context));
  router.use(reportPages(context));
  router.use(campaignPages(context));
  router.use(subscriberPages(context));
  router.use(listPages(context));
  router.use(segmentPages(context));
  router.use(webhookPages(context));
  router.use(userPages(context));
  router.use(accountPages(context));
  router.use(auditPages(context));

  // Unknown admin addresses: the login page without a session, an admin 404 with one.
  router.use('/admin', ...context.can('campaigns:read'), () => {
    throw new HttpError(404, 'not_found', 'There is no admin page at this address.');
  });

  return router;
}
