import { z } from 'zod';
import type { ZodOpenApiPathsObject, ZodOpenApiResponseObject } from 'zod-openapi';
import { signupInput, signupRequest } from '../../subscribers/signup-schema.js';
import { htmlResponse, jsonResponse, errorResponse } from '../common.js';

const received = z
  .object({ status: z.literal('received'), message: z.string().meta({ description: 'What to tell the person: check their inbox, or subscribed.' }) })
  .meta({ id: 'SignupReceived' });

/** A JSON client gets the error body; a form the page again with the message beside the field. */
const formOrJson = errorResponse;

const signupErrors: Record<string, ZodOpenApiResponseObject> = {
  '400': formOrJson('Fields that do not fit (`invalid_request` with `fields`), or a JSON body that is not JSON.'),
  '413': formOrJson('The body is too large, or a form has too many fields.'),
  '415': formOrJson('Neither JSON nor a form (`unsupported_media_type`).'),
  '503': formOrJson('Postgres is unreachable for now (`unavailable`).'),
};

const formBody = z.object({
  email: z.string(),
  name: z.string().optional(),
  lists: z.union([z.string(), z.array(z.string())]).optional().meta({ description: 'One checkbox per public list (slugs).' }),
});

export const signupPaths = {
  '/': {
    get: {
      operationId: 'signupPage',
      tags: ['Pages'],
      summary: 'The signup form',
      responses: { '200': htmlResponse('The page.'), '503': formOrJson('Postgres is unreachable for now.') },
    },
  },
  '/register': {
    post: {
      operationId: 'signUp',
      tags: ['Signup'],
      summary: 'Sign up to public lists (JSON, or the form)',
      description:
        'Signing up again answers exactly like the first time, whatever the address’s state, so the answer says nothing about who is subscribed. With double opt-in the person gets a confirmation email first.',
      requestBody: {
        required: true,
        content: { 'application/json': { schema: signupRequest }, 'application/x-www-form-urlencoded': { schema: formBody } },
      },
      responses: {
        '202': jsonResponse('Received (JSON).', received),
        '200': htmlResponse('The form’s thanks page.'),
        ...signupErrors,
        '422': formOrJson('A list that is private, archived or unknown (`invalid_request`, `fields.lists`); nothing was written.'),
      },
    },
  },
  '/l/{slug}': {
    get: {
      operationId: 'listSignupPage',
      tags: ['Pages'],
      summary: 'The signup form of one public list',
      requestParams: { path: z.object({ slug: z.string() }) },
      responses: { '200': htmlResponse('The page.'), '404': htmlResponse('No public list with that slug.'), '503': formOrJson('Postgres is unreachable for now.') },
    },
    post: {
      operationId: 'signUpToList',
      tags: ['Signup'],
      summary: 'Sign up to one public list (JSON, or the form embedded on another site)',
      requestParams: { path: z.object({ slug: z.string() }) },
      requestBody: {
        required: true,
        content: {
          'application/json': { schema: signupInput },
          'application/x-www-form-urlencoded': {
            schema: signupInput.extend({ redirect: z.string().optional().meta({ description: 'Followed (303) only to an origin in SIGNUP_REDIRECT_ORIGINS.' }) }),
          },
        },
      },
      responses: {
        '202': jsonResponse('Received (JSON).', received),
        '200': htmlResponse('The form’s thanks page.'),
        '303': { description: 'To the form’s `redirect`.', headers: { Location: { schema: { type: 'string' } } } },
        '404': htmlResponse('No public list with that slug.'),
        ...signupErrors,
      },
    },
  },
} satisfies ZodOpenApiPathsObject;
