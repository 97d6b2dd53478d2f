import { randomUUID } from 'node:crypto';
import { routeKey } from './route-table.js';
import type { RouteEntry } from './route-table.js';

/**
 * The routes that need no role on purpose, and why. Every other route must carry a permission
 * check: the role-matrix test and the fault suite's auth sweep fail on one that does not, and on an
 * entry here that no longer matches a route (so the list cannot keep a stale exemption).
 */
type PublicRoute = { method: string; path: string; why: string; mustExist?: false };

const subscriberPages = (path: string, methods = ['GET', 'POST']) =>
  methods.map((method) => ({ method, path, why: 'a subscriber page, reached through the token in its address' }));

export const publicRoutes: PublicRoute[] = [
  { method: 'USE', path: '/static', why: 'stylesheets and scripts' },
  { method: 'GET', path: '/healthz', why: 'liveness probe' },
  { method: 'GET', path: '/readyz', why: 'readiness probe' },
  { method: 'GET', path: '/metrics', why: 'checks METRICS_TOKEN itself' },
  { method: 'GET', path: '/openapi.json', why: 'the API description' },
  { method: 'GET', path: '/', why: 'the signup form' },
  { method: 'POST', path: '/register', why: 'signup' },
  ...['GET', 'POST'].map((method) => ({ method, path: '/l/:slug', why: "a list's signup form" })),
  ...subscriberPages('/confirm/:token'),
  ...subscriberPages('/unsubscribe/:token'),
  ...subscriberPages('/unsubscribe/:token/resubscribe', ['POST']),
  ...subscriberPages('/unsubscribe/:token/c/:id'),
  ...subscriberPages('/unsubscribe/:token/l/:id'),
  ...subscriberPages('/preferences/:token'),
  ...subscriberPages('/preferences/:token/unsubscribe', ['POST']),
  ...subscriberPages('/preferences/:token/data.json', ['GET']),
  { method: 'GET', path: '/archive', why: 'the public archive' },
  { method: 'GET', path: '/archive/feed.xml', why: 'the public archive' },
  { method: 'GET', path: '/archive/:id', why: 'the public archive' },
  { method: 'POST', path: '/webhooks/sendgrid', why: 'checks the SendGrid signature itself' },
  { method: 'USE', path: '/admin', why: 'session, cookies and CSRF token for every admin page; passes every request on' },
  { method: 'GET', path: '/admin/login', why: 'logging in' },
  { method: 'POST', path: '/admin/login', why: 'logging in' },
  { method: 'POST', path: '/admin/logout', why: 'logging out (CSRF-checked)' },
  // Accepting an invitation: the invited person has no session yet, only the token in the address.
  ...['GET', 'POST'].map((method) => ({ method, path: '/admin/invitations/:token', why: 'accepting an invitation' })),
];

const publicKeys = new Set(publicRoutes.map(routeKey));

export const isPublic = (route: RouteEntry) => route.permission === null && publicKeys.has(routeKey(route));

/** What the table says is wrong with the list of public routes: unguarded routes, stale entries. */
export function publicRouteProblems(table: RouteEntry[]): string[] {
  const present = new Set(table.map(routeKey));
  return [
    ...table.filter((route) => route.permission === null && !publicKeys.has(routeKey(route))).map((route) => `${routeKey(route)} has no permission check`),
    ...publicRoutes.filter((route) => route.mustExist !== false && !present.has(routeKey(route))).map((route) => `${routeKey(route)} is listed as public but is no route`),
  ];
}

/**
 * Routes that need credentials: everything not public on purpose, each method/path once, with or
 * without a permission (one without is already a failure; sweeping it too shows what it lets in).
 */
export function nonPublicRoutes(table: RouteEntry[]): RouteEntry[] {
  const seen = new Set<string>();
  return table.filter((route) => {
    if (isPublic(route) || seen.has(routeKey(route))) return false;
    seen.add(routeKey(route));
    return true;
  });
}

/**
 * Requests that change nothing though they are not GETs: the only ones that may carry a `:read`
 * permission. A write under a read permission would be open to viewers, and reading the permission
 * from the route cannot tell that it is the wrong one.
 */
const readOnlyRequests = new Set(['POST /segments/preview']);

export function readPermissionOnWrites(table: RouteEntry[]): string[] {
  return table
    .filter((route) => !['GET', 'USE'].includes(route.method) && route.permission?.endsWith(':read') && !readOnlyRequests.has(routeKey(route)))
    .map((route) => `${routeKey(route)} changes things but needs only ${route.permission}`);
}

/** The routes a role may or may not use: all with a permission, each method/path once. */
export function guardedRoutes(table: RouteEntry[]): (RouteEntry & { permission: NonNullable<RouteEntry['permission']> })[] {
  const seen = new Set<string>();
  return table.filter((route): route is RouteEntry & { permission: NonNullable<RouteEntry['permission']> } => {
    if (route.permission === null || seen.has(routeKey(route))) return false;
    seen.add(routeKey(route));
    return true;
  });
}

/** Admin pages answer a session; everything else under a permission is the bearer-token API. */
export const isPage = (route: Pick<RouteEntry, 'path'>) => route.path === '/admin' || route.path.startsWith('/admin/');

/** Ids of seeded rows, by the path segment naming the collection (`campaigns`, `webhooks` …). */
export type SeededIds = Partial<Record<string, string>>;

/**
 * A request for a route: its method (a mount is probed with GET below its path) and a concrete
 * path. Reads get the ids of seeded rows, so more of the route runs. A request that should pass the
 * check and could change data gets random ids (a 404 once past the check), so the fixtures stay as
 * they are; one that should be refused gets the seeded ids too (`seededForWrites`), so a check that
 * lets it through would change a real row, which the sweeps' snapshots notice.
 */
export function requestFor(route: RouteEntry, ids: SeededIds, { seededForWrites = false } = {}): { method: string; path: string } {
  const method = route.method === 'USE' || route.method === 'ALL' ? 'GET' : route.method;
  const segments = route.path.split('/');
  const filled = segments.map((segment, index) => {
    if (segment.startsWith('*')) return 'matrix-probe';
    if (!segment.startsWith(':')) return segment;
    const name = segment.slice(1);
    if (name === 'action') return 'pause';
    const collection = name === 'id' ? segments[index - 1]! : `${name.replace(/Id$/, '')}s`;
    return ((method === 'GET' || seededForWrites) && ids[collection]) || randomUUID();
  });
  const path = filled.join('/');
  return { method, path: route.method === 'USE' ? `${path}/matrix-probe` : path };
}
