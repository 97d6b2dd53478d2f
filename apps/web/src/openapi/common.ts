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

/** An error answer with the description the route gives it (e.g. `errorResponse('No such campaign.')`). */
export function errorResponse(description: string): ZodOpenApiResponseObject {
  return { description, content: { 'application/json': { schema: errorSchema } } };
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
  '429': errorResponse('Too many wrong tokens from this address; try again later.'),
};
