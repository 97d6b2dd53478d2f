import { Router } from 'express';
import type { WebDeps } from '../deps.js';
import { buildOpenApiDocument } from '../openapi/document.js';

/**
 * `GET /openapi.json`: the description of the API, public (it holds no secret; the API is the
 * same in every installation) and built once, when the app is, so a schema that cannot be
 * described stops the process at start rather than failing a request.
 */
export function openApiRoutes({ config }: Pick<WebDeps, 'config'>): Router {
  const router = Router();
  const body = JSON.stringify(buildOpenApiDocument(config.publicUrl));
  router.get('/openapi.json', (_req, res) => {
    res.set('Cache-Control', 'public, max-age=300').type('application/json').send(body);
  });
  return router;
}
