import { z } from 'zod';
import { SegmentRuleError, parseSegmentRules, storableText } from '@herald/shared';
import type { SegmentRule } from '@herald/shared';
import { fieldErrors } from '../http/field-errors.js';

const name = storableText('name', 'name must be text')
  .trim()
  .min(1, 'name must not be empty')
  .max(200, 'name must be at most 200 characters');

// `rules` is checked by parseSegmentRules, whose errors name the rule's path; the API description
// extends these with the rules' shape.
export const createBody = z.strictObject({ name, rules: z.unknown() });
export const updateBody = z.strictObject({ name: name.optional(), rules: z.unknown().optional() });
export const previewBody = z.strictObject({ rules: z.unknown() });

/** Input that does not fit, per field (`rules.all.0.op`): answered as 422. */
export class SegmentInputError extends Error {
  override name = 'SegmentInputError';
  constructor(readonly fields: Record<string, string>) {
    super('Some fields need attention.');
  }
}

function rulesOf(value: unknown): SegmentRule {
  const parsed = parseSegmentRules(value, 'rules');
  if (!parsed.success) throw new SegmentInputError({ [parsed.error.field]: parsed.error.message });
  return parsed.rules;
}

function bodyOf<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const parsed = schema.safeParse(body ?? {});
  if (!parsed.success) throw new SegmentInputError(fieldErrors(parsed.error));
  return parsed.data;
}

/** `{name, rules}` of POST /segments. */
export function parseCreateSegment(body: unknown): { name: string; rules: SegmentRule } {
  const input = bodyOf(createBody, body);
  return { name: input.name, rules: rulesOf(input.rules) };
}

/** `{name?, rules?}` of PATCH /segments/:id; at least one of them. */
export function parseUpdateSegment(body: unknown): { name?: string; rules?: SegmentRule } {
  const input = bodyOf(updateBody, body);
  if (input.name === undefined && input.rules === undefined) throw new SegmentInputError({ body: 'send name, rules or both' });
  return { name: input.name, rules: input.rules === undefined ? undefined : rulesOf(input.rules) };
}

/** `{rules}` of POST /segments/preview. */
export function parsePreviewSegment(body: unknown): SegmentRule {
  return rulesOf(bodyOf(previewBody, body).rules);
}

/** A SegmentRuleError from compiling (an unknown list) as the same per-field error. */
export function asInputError(err: unknown): unknown {
  return err instanceof SegmentRuleError ? new SegmentInputError({ [err.field]: err.message }) : err;
}
