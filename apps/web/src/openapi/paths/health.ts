import { z } from 'zod';
import type { ZodOpenApiPathsObject } from 'zod-openapi';
import { errorResponse, jsonResponse } from '../common.js';

const check = z.enum(['ok', 'down']);
const readiness = z
  .union([
    z.object({ status: z.literal('ok'), checks: z.object({ database: z.literal('ok'), redis: z.literal('ok') }) }),
    z.object({ status: z.literal('unavailable'), checks: z.object({ database: check, redis: check }) }),
    z.object({ status: z.literal('warming-up') }),
  ])
  .meta({ id: 'Readiness' });

/** The top of an OpenAPI document; what each part holds is the OpenAPI 3.1 specification's. */
const openApiDocument = z
  .object({
    openapi: z.string(),
    info: z.record(z.string(), z.unknown()),
    servers: z.array(z.record(z.string(), z.unknown())),
    tags: z.array(z.record(z.string(), z.unknown())),
    paths: z.record(z.string(), z.unknown()),
    components: z.record(z.string(), z.unknown()),
  })
  .meta({ description: 'An OpenAPI 3.1 document: this one.' });

export const healthPaths = {
  '/healthz': {
    get: {
      operationId: 'liveness',
      tags: ['Operations'],
      summary: 'Liveness: the process answers',
      responses: { '200': jsonResponse('Alive.', z.object({ status: z.literal('ok') })) },
    },
  },
  '/readyz': {
    get: {
      operationId: 'readiness',
      tags: ['Operations'],
      summary: 'Readiness: warmed up, and Postgres and Redis reachable',
      responses: {
        '200': jsonResponse('Ready.', readiness),
        '503': jsonResponse('Not ready: warming up, or Postgres or Redis down (`checks` says which).', readiness),
      },
    },
  },
  '/metrics': {
    get: {
      operationId: 'metrics',
      tags: ['Operations'],
      summary: 'Prometheus metrics (`Authorization: Bearer $METRICS_TOKEN`)',
      responses: {
        '200': { description: 'The Prometheus text format.', content: { 'text/plain': { schema: z.string() } } },
        '401': errorResponse('No valid metrics token (`unauthorized`).'),
        '403': errorResponse('METRICS_TOKEN is not set, so metrics are off (`metrics_disabled`).'),
      },
    },
  },
  '/openapi.json': {
    get: {
      operationId: 'openApiDocument',
      tags: ['Operations'],
      summary: 'This description of the API',
      responses: {
        '200': {
          ...jsonResponse('The OpenAPI 3.1 document, built once at start.', openApiDocument),
          headers: { 'Cache-Control': { description: '`public, max-age=300`', schema: { type: 'string' } } },
        },
      },
    },
  },
} satisfies ZodOpenApiPathsObject;
