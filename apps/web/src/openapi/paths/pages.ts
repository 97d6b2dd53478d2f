import { z } from 'zod';
import type { ZodOpenApiPathsObject, ZodOpenApiResponseObject } from 'zod-openapi';
import { htmlResponse, jsonResponse, errorResponse } from '../common.js';
import { subscriberData } from './subscribers.js';

/**
 * The public pages behind the links in emails and the archive. They answer HTML for people; they
 * are described so that every answer outside the admin is, and so a client knows what a link does.
 */
const token = z.object({ token: z.string().meta({ description: 'The token from the email’s link.' }) });
const tokenAndId = token.extend({ id: z.string().meta({ description: 'The campaign’s (`c`) or list’s (`l`) id.' }) });
const unavailable = { '503': errorResponse('Postgres is unreachable for now.') };
const formErrors = { '413': errorResponse('The form is too large.'), ...unavailable };
const badLink = (description: string) => ({ '404': htmlResponse(description) });
const redirect = (description: string): ZodOpenApiResponseObject => ({ description, headers: { Location: { schema: { type: 'string' } } } });
const smallForm = { content: { 'application/x-www-form-urlencoded': { schema: z.object({ 'List-Unsubscribe': z.literal('One-Click').optional() }) } } };

const unsubscribeLists = (scope: 'campaign' | 'list') => ({
  get: {
    operationId: `${scope}UnsubscribePage`,
    tags: ['Pages'],
    summary: `The unsubscribe page of a ${scope} email: the lists it leaves, with a button`,
    requestParams: { path: tokenAndId },
    responses: {
      '200': htmlResponse('The page.'),
      '303': redirect('To the person-level unsubscribe page (no list to leave, or nothing to receive any more).'),
      ...badLink('Unknown token.'),
      ...unavailable,
    },
  },
  post: {
    operationId: `${scope}Unsubscribe`,
    tags: ['Pages'],
    summary: `Leave the lists of a ${scope} email (the RFC 8058 one-click target)`,
    requestParams: { path: tokenAndId },
    requestBody: smallForm,
    responses: {
      '200': htmlResponse('Unsubscribed.'),
      '303': redirect('No list to leave: unsubscribed from everything, to the person-level page.'),
      ...badLink('Unknown token.'),
      ...formErrors,
    },
  },
});

export const pagePaths = {
  '/confirm/{token}': {
    get: {
      operationId: 'confirmPage',
      tags: ['Pages'],
      summary: 'The confirmation link: a page with a Confirm button (link scanners follow GETs)',
      requestParams: { path: token },
      responses: { '200': htmlResponse('The page.'), ...badLink('Unknown or used link.'), '410': htmlResponse('The link expired (after 7 days).'), ...unavailable },
    },
    post: {
      operationId: 'confirm',
      tags: ['Pages'],
      summary: 'Confirm the subscription',
      requestParams: { path: token },
      requestBody: smallForm,
      responses: {
        '200': htmlResponse('Confirmed (or confirmed already).'),
        ...badLink('Unknown or used link.'),
        '410': htmlResponse('The link expired.'),
        ...formErrors,
      },
    },
  },
  '/unsubscribe/{token}': {
    get: {
      operationId: 'unsubscribePage',
      tags: ['Pages'],
      summary: 'The unsubscribe link: a page with a button',
      requestParams: { path: token },
      responses: { '200': htmlResponse('The page.'), ...badLink('Unknown token.'), ...unavailable },
    },
    post: {
      operationId: 'unsubscribe',
      tags: ['Pages'],
      summary: 'Unsubscribe from everything (the RFC 8058 one-click target; idempotent)',
      requestParams: { path: token },
      requestBody: smallForm,
      responses: { '200': htmlResponse('Unsubscribed.'), ...badLink('Unknown token.'), ...formErrors },
    },
  },
  '/unsubscribe/{token}/resubscribe': {
    post: {
      operationId: 'resubscribe',
      tags: ['Pages'],
      summary: '“Subscribe again”: back to pending, with a new confirmation email',
      requestParams: { path: token },
      requestBody: smallForm,
      responses: {
        '200': htmlResponse('Check your inbox (or subscribed already).'),
        ...badLink('Unknown token.'),
        '409': htmlResponse('A bounced or complained address, never resubscribed from a link.'),
        ...formErrors,
      },
    },
  },
  '/unsubscribe/{token}/c/{id}': unsubscribeLists('campaign'),
  '/unsubscribe/{token}/l/{id}': unsubscribeLists('list'),
  '/preferences/{token}': {
    get: {
      operationId: 'preferencesPage',
      tags: ['Pages'],
      summary: 'The preference centre',
      requestParams: { path: token },
      responses: { '200': htmlResponse('The page.'), ...badLink('Unknown token.'), ...unavailable },
    },
    post: {
      operationId: 'savePreferences',
      tags: ['Pages'],
      summary: 'Save the lists and name chosen',
      requestParams: { path: token },
      requestBody: {
        content: {
          'application/x-www-form-urlencoded': {
            schema: z.object({
              name: z.string().optional(),
              shown: z.union([z.string(), z.array(z.string())]).optional().meta({ description: 'The list ids the page showed.' }),
              lists: z.union([z.string(), z.array(z.string())]).optional().meta({ description: 'The list ids ticked.' }),
            }),
          },
        },
      },
      responses: {
        '200': htmlResponse('Saved.'),
        ...badLink('Unknown token.'),
        '409': htmlResponse('A suppressed address cannot join lists here; nothing changed.'),
        '422': htmlResponse('Fields that do not fit; nothing changed.'),
        ...formErrors,
      },
    },
  },
  '/preferences/{token}/unsubscribe': {
    post: {
      operationId: 'preferencesUnsubscribe',
      tags: ['Pages'],
      summary: 'Unsubscribe from everything, from the preference centre',
      requestParams: { path: token },
      responses: { '200': htmlResponse('Unsubscribed.'), ...badLink('Unknown token.'), ...formErrors },
    },
  },
  '/preferences/{token}/data.json': {
    get: {
      operationId: 'myData',
      tags: ['Pages'],
      summary: 'The person’s own data, as a download',
      requestParams: { path: token },
      responses: { '200': jsonResponse('Everything held about them.', subscriberData), ...badLink('Unknown token.'), ...unavailable },
    },
  },
  '/archive': {
    get: {
      operationId: 'archivePage',
      tags: ['Pages'],
      summary: 'Past issues, newest first, 20 a page',
      requestParams: { query: z.object({ page: z.int().min(1).max(10_000).optional() }) },
      responses: { '200': htmlResponse('The page.'), '400': errorResponse('A `page` that does not fit.'), ...unavailable },
    },
  },
  '/archive/feed.xml': {
    get: {
      operationId: 'archiveFeed',
      tags: ['Pages'],
      summary: 'The archive as an Atom feed (newest 20, full content)',
      responses: { '200': { description: 'The feed.', content: { 'application/atom+xml': { schema: z.string() } } }, ...unavailable },
    },
  },
  '/archive/{id}': {
    get: {
      operationId: 'issuePage',
      tags: ['Pages'],
      summary: 'One issue’s public page, the “view in browser” link',
      requestParams: { path: z.object({ id: z.uuid() }) },
      responses: { '200': htmlResponse('The issue.'), '404': errorResponse('No issue at this address.'), ...unavailable },
    },
  },
} satisfies ZodOpenApiPathsObject;
