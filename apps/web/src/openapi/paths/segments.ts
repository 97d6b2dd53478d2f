import { z } from 'zod';
import type { ZodOpenApiPathsObject } from 'zod-openapi';
import { segmentLimits } from '@herald/shared';
import type { SegmentRule } from '@herald/shared';
import { segmentListQuery } from '../../routes/segments.js';
import { createBody, previewBody, updateBody } from '../../segments/segment-input.js';
import { bearer, bearerErrors, errorResponse, invalidQuery, jsonBodyErrors, jsonResponse, nextCursor, notFound, timestamp, unavailable } from '../common.js';
import { attributes } from './subscribers.js';

/**
 * The shape of a segment's rules, for the description only: parseSegmentRules (packages/shared
 * segment-rules.ts) validates them, rule by rule, so that its messages name the rule's path. Saved
 * rules come back in every segment answer, which the test suite validates against this shape.
 */
const scalar = z.union([z.string().max(segmentLimits.textLength), z.number(), z.boolean()]);
const isoDate = z.string().meta({ description: 'An ISO date or date-time: `2026-01-01`, `2026-01-01T09:30:00Z`.' });
const attributeKey = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/);

export const segmentRuleSchema: z.ZodType<SegmentRule> = z
  .lazy(() =>
    z.union([
      z.strictObject({ all: z.array(segmentRuleSchema).min(1).max(segmentLimits.rules) }),
      z.strictObject({ any: z.array(segmentRuleSchema).min(1).max(segmentLimits.rules) }),
      z.strictObject({ not: segmentRuleSchema }),
      z.strictObject({ attribute: attributeKey, op: z.enum(['eq', 'neq']), value: scalar }),
      z.strictObject({ attribute: attributeKey, op: z.literal('in'), value: z.array(scalar).min(1).max(segmentLimits.inValues) }),
      z.strictObject({ attribute: attributeKey, op: z.literal('contains'), value: z.string().min(1).max(segmentLimits.textLength) }),
      z.strictObject({ attribute: attributeKey, op: z.literal('exists') }),
      z.strictObject({ attribute: attributeKey, op: z.enum(['gt', 'lt']), value: z.union([z.number(), isoDate]) }),
      z.strictObject({ list: z.string().min(1).max(segmentLimits.textLength), status: z.enum(['pending', 'active', 'unsubscribed']).optional() }),
      z.strictObject({ field: z.enum(['createdAt', 'confirmedAt']), op: z.enum(['gt', 'lt']), value: isoDate }),
      z.strictObject({
        engagement: z.enum(['opened', 'clicked']),
        campaign: z.uuid().optional(),
        withinDays: z.int().min(1).max(segmentLimits.withinDays).optional(),
      }),
    ]),
  )
  .meta({
    id: 'SegmentRule',
    description: `One rule: \`all\`/\`any\` of rules, \`not\` a rule, an attribute test, a list's subscription, a date field, or engagement. At most ${segmentLimits.rules} rules in all, ${segmentLimits.depth} deep.`,
  }) as z.ZodType<SegmentRule>;

const segment = z
  .object({ id: z.uuid(), name: z.string(), rules: segmentRuleSchema, createdAt: timestamp, updatedAt: timestamp })
  .meta({ id: 'Segment' });
const sampleSubscriber = z.object({ id: z.uuid(), email: z.string(), name: z.string().nullable(), attributes });
const id = z.object({ id: z.uuid() });
const invalidRules = errorResponse('A name or rule that does not fit, or a name already used (`invalid_request`; `fields` names it, e.g. `rules.all.1.value`).');

export const segmentPaths = {
  '/segments': {
    get: {
      operationId: 'listSegments',
      tags: ['Segments'],
      summary: 'Saved segments, in id order',
      security: bearer,
      requestParams: { query: segmentListQuery },
      responses: {
        '200': jsonResponse('A page of segments.', z.object({ segments: z.array(segment), nextCursor })),
        ...invalidQuery,
        ...bearerErrors,
        ...unavailable,
      },
    },
    post: {
      operationId: 'createSegment',
      tags: ['Segments'],
      summary: 'Save a segment',
      security: bearer,
      requestBody: { required: true, content: { 'application/json': { schema: createBody.extend({ rules: segmentRuleSchema }) } } },
      responses: { '201': jsonResponse('The segment saved.', segment), ...jsonBodyErrors, '422': invalidRules, ...bearerErrors, ...unavailable },
    },
  },
  '/segments/preview': {
    post: {
      operationId: 'previewSegment',
      tags: ['Segments'],
      summary: 'Count rules not saved, with a sample of the people they select',
      security: bearer,
      requestBody: { required: true, content: { 'application/json': { schema: previewBody.extend({ rules: segmentRuleSchema }) } } },
      responses: {
        '200': jsonResponse('Active subscribers the rules select, and up to ten of them.', z.object({ count: z.int(), sample: z.array(sampleSubscriber).max(10) })),
        ...jsonBodyErrors,
        '422': invalidRules,
        ...bearerErrors,
        ...unavailable,
      },
    },
  },
  '/segments/{id}': {
    get: {
      operationId: 'getSegment',
      tags: ['Segments'],
      summary: 'One segment',
      security: bearer,
      requestParams: { path: id },
      responses: { '200': jsonResponse('The segment.', segment), ...notFound('segment'), ...bearerErrors, ...unavailable },
    },
    patch: {
      operationId: 'editSegment',
      tags: ['Segments'],
      summary: 'Rename a segment or change its rules',
      security: bearer,
      requestParams: { path: id },
      requestBody: { required: true, content: { 'application/json': { schema: updateBody.extend({ rules: segmentRuleSchema.optional() }) } } },
      responses: {
        '200': jsonResponse('The segment as changed.', segment),
        ...jsonBodyErrors,
        ...notFound('segment'),
        '422': invalidRules,
        ...bearerErrors,
        ...unavailable,
      },
    },
    delete: {
      operationId: 'deleteSegment',
      tags: ['Segments'],
      summary: 'Delete a segment no campaign was sent to',
      security: bearer,
      requestParams: { path: id },
      responses: {
        '204': { description: 'Deleted.' },
        ...notFound('segment'),
        '409': errorResponse('A campaign was sent to this segment (`invalid_state`).'),
        ...bearerErrors,
        ...unavailable,
      },
    },
  },
  '/segments/{id}/count': {
    get: {
      operationId: 'countSegment',
      tags: ['Segments'],
      summary: 'How many active subscribers the saved rules select now',
      security: bearer,
      requestParams: { path: id },
      responses: { '200': jsonResponse('The count.', z.object({ count: z.int() })), ...notFound('segment'), ...bearerErrors, ...unavailable },
    },
  },
} satisfies ZodOpenApiPathsObject;
