import { Validator } from '@seriousme/openapi-schema-validator';
import express from 'express';
import type { Express } from 'express';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { createApp } from '../src/app.js';
import { buildOpenApiDocument } from '../src/openapi/document.js';
import { answerChecker, checkAnswers, createAnswerChecker } from '../../../test/support/api-description.js';
import { adminToken, useWebHarness } from '../../../test/support/web.js';

const web = useWebHarness();
const auth = { Authorization: `Bearer ${adminToken}` };

type Layer = { route?: { path: string | string[]; methods: Record<string, boolean> }; handle?: { stack?: Layer[] } };

/** Every route the app's routers declare, as `METHOD /openapi/{style}` (admin pages left out). */
function declaredRoutes(app: Express): string[] {
  const routes: string[] = [];
  const walk = (stack: Layer[]) => {
    for (const layer of stack) {
      if (layer.route) {
        for (const path of [layer.route.path].flat()) {
          for (const method of Object.keys(layer.route.methods)) routes.push(`${method.toUpperCase()} ${path.replace(/:(\w+)/g, '{$1}')}`);
        }
      } else if (layer.handle?.stack) {
        walk(layer.handle.stack);
      }
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack);
  return routes.filter((route) => !/ \/admin(\/|$)/.test(route));
}

describe('the API description', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    const validator = new Validator();
    const result = await validator.validate(buildOpenApiDocument('https://news.example.com') as unknown as Record<string, unknown>);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  it('is served at /openapi.json, public and cacheable, naming PUBLIC_URL as its server', async () => {
    const res = await request(web.app).get('/openapi.json').expect(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['cache-control']).toBe('public, max-age=300');
    expect(res.body.openapi).toBe('3.1.0');
    expect(res.body.servers).toEqual([{ url: 'http://herald.test' }]);
    expect(res.body).toEqual(JSON.parse(JSON.stringify(buildOpenApiDocument('http://herald.test'))));
    expect(res.body.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  it('describes every route the app declares outside the admin, and nothing it does not', () => {
    const document = buildOpenApiDocument('http://herald.test');
    const described = Object.entries(document.paths ?? {}).flatMap(([path, item]) =>
      Object.keys(item as object)
        .filter((key) => ['get', 'put', 'post', 'patch', 'delete'].includes(key))
        .map((method) => `${method.toUpperCase()} ${path}`),
    );
    // The bare app: the harness's web.app is the app behind the answer check.
    const declared = declaredRoutes(createApp(web));
    expect([...new Set(declared)].sort()).toEqual([...new Set(described)].sort());
  });

  it('gives every bearer route its security and 401, and every error answer the error shape', () => {
    const document = buildOpenApiDocument('http://herald.test') as unknown as {
      paths: Record<string, Record<string, { security?: unknown[]; responses: Record<string, { content?: Record<string, { schema: unknown }> }> }>>;
    };
    for (const [path, item] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        if (operation.security) expect(operation.responses['401'], `${method} ${path}`).toBeDefined();
        for (const [status, response] of Object.entries(operation.responses)) {
          const json = response.content?.['application/json'];
          if (Number(status) >= 400 && json && path !== '/readyz') expect(json.schema, `${method} ${path} ${status}`).toEqual({ $ref: '#/components/schemas/Error' });
        }
      }
    }
  });
});

describe('the check of every answer against the description', () => {
  /** A stand-in app answering on described paths as told, behind the same check the harness uses. */
  function fakeApp(handler: express.RequestHandler, path = '/healthz') {
    const problems: string[] = [];
    const app = express();
    app.get(path, handler);
    app.use((_req, res) => {
      res.status(404).json({ error: { code: 'not_found', message: 'Nothing here.' } });
    });
    return { app: checkAnswers(app, answerChecker(), (problem) => problems.push(problem)), problems };
  }

  it('passes an answer the description has', async () => {
    const { app, problems } = fakeApp((_req, res) => void res.json({ status: 'ok' }));
    await request(app).get('/healthz').expect(200);
    expect(problems).toEqual([]);
  });

  it('catches an undocumented field', async () => {
    const { app, problems } = fakeApp((_req, res) => void res.json({ status: 'ok', uptime: 12 }));
    await request(app).get('/healthz').expect(200);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain('GET /healthz → 200: the body does not match the description');
    expect(problems[0]).toContain('uptime');
  });

  it('catches a field of the wrong type or a missing one', async () => {
    const { app, problems } = fakeApp((_req, res) => void res.json({ campaigns: [{ id: 'not-a-uuid' }] }), '/campaigns');
    await request(app).get('/campaigns').expect(200);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/nextCursor|must match format "uuid"/);
  });

  it('catches an undocumented status', async () => {
    const { app, problems } = fakeApp((_req, res) => void res.status(418).json({ error: { code: 'internal', message: 'teapot' } }));
    await request(app).get('/healthz').expect(418);
    expect(problems).toEqual([expect.stringContaining('GET /healthz → 418: status 418 is not among the answers described')]);
  });

  it('catches an undocumented content type', async () => {
    const { app, problems } = fakeApp((_req, res) => void res.type('text/plain').send('ok'));
    await request(app).get('/healthz').expect(200);
    expect(problems).toEqual([expect.stringContaining('answered text/plain, described: application/json')]);
  });

  it('catches an undocumented route, but not the 404 for an address no route answers', async () => {
    const { app, problems } = fakeApp((_req, res) => void res.json({ status: 'ok' }), '/healthz/deep');
    await request(app).get('/healthz/deep').expect(200);
    await request(app).get('/no/such/address').expect(404);
    expect(problems).toEqual([expect.stringContaining('GET /healthz/deep → 200: no such operation in the API description')]);
  });

  it('reads a path template for what it is, preferring literal segments', () => {
    const checker = createAnswerChecker(buildOpenApiDocument('http://herald.test') as never);
    const answer = { method: 'GET', status: 200, contentType: 'application/json', routeMatched: true };
    // /subscribers/export answers CSV; were it taken for /subscribers/{id} the CSV would not be described.
    expect(checker.check({ ...answer, path: '/subscribers/export', contentType: 'text/csv; charset=utf-8', body: Buffer.from('email\n') })).toBeUndefined();
    expect(checker.check({ ...answer, path: '/subscribers/export', body: Buffer.from('{}') })).toContain('answered application/json');
  });

  it('checks the real app: an answer of the admin API validates', async () => {
    await request(web.app).get('/campaigns').set(auth).expect(200);
    await request(web.app).get('/campaigns/0b7f3c8e-2d5a-4f1e-9c3b-7a6d5e4f3a2b').set(auth).expect(404);
  });
});
