import { z } from 'zod';
import type { ZodOpenApiResponseObject } from 'zod-openapi';
import { errorCodes } from '../http/http-error.js';

/**
 * What every part of the API description shares. Each area of the API describes its routes in
 * `paths/<area>.ts`, as a zod-openapi paths object built from the same zod schemas that validate its
 * requests; `document.ts` puts the areas together and `/openapi.json` serves the result.
 */

/** Every error answer: `{error: {code, message, fields?}}`, `fields` naming each invalid field. */
export const errorSchema = z
  .object({
    error: z.object({
      code: z.enum(errorCodes),
      message: z.string(),
      fields: z.record(z.string(), z.string()).optional(),
    }),
  })
  .meta({ id: 'Error' });

/**
 * An error answer with the description the route gives it (e.g. `errorResponse('No such campaign.')`).
 * The error middleware answers a client whose Accept header prefers `text/html` (a browser) with the
 * same error as a page; every other client gets the JSON body.
 */
export function errorResponse(description: string): ZodOpenApiResponseObject {
  return { description, content: { 'application/json': { schema: errorSchema }, 'text/html': { schema: z.string() } } };
}

/** A JSON answer of the given schema. */
export function jsonResponse(description: string, schema: z.ZodType): ZodOpenApiResponseObject {
  return { description, content: { 'application/json': { schema } } };
}

/** The name of the bearer scheme in `components.securitySchemes`; routes say `security: bearer`. */
export const bearerSchemeName = 'bearer';
export const bearer = [{ [bearerSchemeName]: [] }];

/** The answers every bearer-protected route can give besides its own. */
export const bearerErrors: Record<string, ZodOpenApiResponseObject> = {
  '401': errorResponse('No valid bearer token.'),
  '403': errorResponse('The token’s role may not use this route (`forbidden`).'),
  '429': errorResponse('Too many wrong tokens from this address; try again later.'),
};

/** What any route that reads Postgres (or Redis) answers while one of them is unreachable. */
export const unavailable: Record<string, ZodOpenApiResponseObject> = {
  '503': errorResponse('Postgres or Redis is unreachable for now (`unavailable`); send it again shortly.'),
};

/** The answers of a route that reads a JSON body, besides its own: it is parsed before the route runs. */
export const jsonBodyErrors: Record<string, ZodOpenApiResponseObject> = {
  '400': errorResponse('The body is not valid JSON or UTF-8 (`invalid_json`, `invalid_encoding`), or its fields do not fit (`invalid_request`, with `fields`).'),
  '413': errorResponse('The body is larger than the route takes (`payload_too_large`).'),
  '415': errorResponse('The body is not `application/json` (`unsupported_media_type`), or in an unsupported charset or encoding.'),
};

/** The answer of a route whose path names something that does not exist. */
export function notFound(what: string): Record<string, ZodOpenApiResponseObject> {
  return { '404': errorResponse(`No ${what} with that id (a malformed id included).`) };
}

/** A query parameter that does not fit: 400, naming it. */
export const invalidQuery: Record<string, ZodOpenApiResponseObject> = {
  '400': errorResponse('A query parameter does not fit (`invalid_request`; the message, or `fields`, names it).'),
};

/** A page of a public HTML page: the browser's answer, described for completeness, not for clients. */
export function htmlResponse(description: string): ZodOpenApiResponseObject {
  return { description, content: { 'text/html': { schema: z.string() } } };
}

/** A CSV download (UTF-8, with a header row), streamed. */
export function csvResponse(description: string): ZodOpenApiResponseObject {
  return {
    description,
    headers: { 'Content-Disposition': { description: 'attachment; filename="…-YYYY-MM-DD.csv"', schema: { type: 'string' } } },
    content: { 'text/csv': { schema: z.string() } },
  };
}

/** Where a later page starts: pass it as `cursor`; null on the last page. */
export const nextCursor = z.uuid().nullable().meta({ description: 'The `cursor` of the next page; null on the last page.' });

/** A time as the API writes it: ISO 8601 in UTC with milliseconds. */
export const timestamp = z.iso.datetime();

/** The answer of any route with a path parameter to an address with a malformed percent-encoding. */
export const malformedUrl = 'The address contains a malformed percent-encoding (`malformed_url`).';
