import type { Express } from 'express';
import type { Permission } from '../../apps/web/src/team/roles.js';

/**
 * Every route of the app as Express sees it: `GET /campaigns/:id`, and `USE /admin/queues` for a
 * handler mounted on a path (it answers everything below that path). The permission is the one
 * carried by a `requirePermission` check in front of the route's handler, or null.
 */
export type RouteEntry = { method: string; path: string; permission: Permission | null };

// The parts of Express 5's router (the `router` package) read here; it has no public types for them.
type Handle = ((...args: unknown[]) => unknown) & { permission?: Permission; stack?: Layer[] };
type Layer = {
  handle: Handle;
  rawPath?: string | string[];
  method?: string;
  route?: { path: string | string[]; methods: Record<string, boolean>; stack: Layer[] };
};

const joinPath = (prefix: string, path: string) => (path === '/' ? prefix : prefix + path);
const pathsOf = (path: string | string[] | undefined) => (Array.isArray(path) ? path : [path ?? '/']);
const isErrorHandler = (handle: Handle) => handle.length === 4;

/** Methods a route answers; `.all()` is reported as ALL. HEAD comes with GET and is not listed. */
function methodsOf(route: NonNullable<Layer['route']>): string[] {
  return Object.keys(route.methods).filter((method) => route.methods[method]).map((method) => (method === '_all' ? 'ALL' : method.toUpperCase()));
}

function walk(stack: Layer[], prefix: string, inherited: Permission | null, into: RouteEntry[]): void {
  // A check used without a path (`router.use(requirePermission(p))`) guards what follows it in the
  // same router. It is not credited to routes of sibling routers, which it guards only by accident.
  let guard = inherited;
  for (let index = 0; index < stack.length; index++) {
    const layer = stack[index]!;
    if (layer.route) {
      const route = layer.route;
      // `router.route(path).get(a).post(b)` is one route whose methods may need different permissions.
      const permissionOf = (method: string) =>
        route.stack.filter((inner) => !inner.method || inner.method === method.toLowerCase()).map((inner) => inner.handle.permission).find(Boolean) ?? guard;
      for (const path of pathsOf(route.path)) {
        for (const method of methodsOf(route)) into.push({ method, path: joinPath(prefix, path) || '/', permission: permissionOf(method) });
      }
      continue;
    }
    if (isErrorHandler(layer.handle)) continue;
    const paths = pathsOf(layer.rawPath);
    if (layer.handle.stack) {
      for (const path of paths) walk(layer.handle.stack, joinPath(prefix, path), guard, into);
      continue;
    }
    if (paths.every((path) => path === '/')) {
      if (layer.handle.permission) guard = layer.handle.permission;
      // Other pathless middleware (logging, helmet, the 404 answer) is not a route.
      continue;
    }
    // `router.use(path, a, b, c)` makes one layer per handler, all with that path: read them as one
    // mount whose permission is that of any check among them.
    let last = index;
    while (last + 1 < stack.length && sameMount(stack[last + 1]!, layer)) last++;
    const group = stack.slice(index, last + 1);
    index = last;
    const permission = group.map((inner) => inner.handle.permission).find(Boolean) ?? guard;
    const nested = group.filter((inner) => inner.handle.stack);
    for (const path of paths) {
      into.push({ method: 'USE', path: joinPath(prefix, path) || '/', permission });
      for (const inner of nested) walk(inner.handle.stack!, joinPath(prefix, path), permission, into);
    }
  }
}

function sameMount(a: Layer, b: Layer): boolean {
  return !a.route && !isErrorHandler(a.handle) && JSON.stringify(pathsOf(a.rawPath)) === JSON.stringify(pathsOf(b.rawPath));
}

export function routeTable(app: Express): RouteEntry[] {
  const router = (app as unknown as { router?: { stack: Layer[] } }).router;
  if (!router) throw new Error('not an Express 5 app: it has no app.router');
  const routes: RouteEntry[] = [];
  walk(router.stack, '', null, routes);
  return routes;
}

export const routeKey = (route: Pick<RouteEntry, 'method' | 'path'>) => `${route.method} ${route.path}`;
