import { z } from 'zod';
import { attributeKeyPattern } from '../attributes.js';
import { isStorableText } from '../storable-text.js';

/**
 * A segment's rules: a JSON tree, validated here and compiled to parameterised SQL by
 * compile-segment.ts. The shape is public (clients are written against it):
 *   {"all": [rule, …]}  {"any": [rule, …]}  {"not": rule}
 *   {"attribute": KEY, "op": "eq" | "neq" | "in" | "contains" | "exists" | "gt" | "lt", "value"?}
 *   {"list": id-or-slug, "status"?: "pending" | "active" | "unsubscribed"}
 *   {"field": "createdAt" | "confirmedAt", "op": "gt" | "lt", "value": ISO date}
 *   {"engagement": "opened" | "clicked", "campaign"?: uuid, "withinDays"?: n}
 */

export type AttributeScalar = string | number | boolean;

export type AttributeRule =
  | { attribute: string; op: 'eq' | 'neq'; value: AttributeScalar }
  | { attribute: string; op: 'in'; value: AttributeScalar[] }
  | { attribute: string; op: 'contains'; value: string }
  | { attribute: string; op: 'exists' }
  | { attribute: string; op: 'gt' | 'lt'; value: number | string };
export type ListRule = { list: string; status?: 'pending' | 'active' | 'unsubscribed' };
export type FieldRule = { field: 'createdAt' | 'confirmedAt'; op: 'gt' | 'lt'; value: string };
export type EngagementRule = { engagement: 'opened' | 'clicked'; campaign?: string; withinDays?: number };
export type SegmentRule =
  | { all: SegmentRule[] }
  | { any: SegmentRule[] }
  | { not: SegmentRule }
  | AttributeRule
  | ListRule
  | FieldRule
  | EngagementRule;

/** Bounds that keep a rule tree's SQL small enough to plan quickly. */
export const segmentLimits = { depth: 8, rules: 100, inValues: 500, textLength: 500, withinDays: 3650 } as const;

/**
 * An ISO 8601 date or date-time (`2026-01-01`, `2026-01-01T09:30`, `2026-01-01T09:30:00.000Z`,
 * `…+02:00`). compile-segment.ts applies the same pattern in SQL to attribute values, so that only
 * strings Postgres can read as a timestamp are ever cast to one.
 */
export const isoDatePattern =
  /^(?!0000)\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])([T ]([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,6})?)?(Z|[+-](0\d|1[0-5])(:?[0-5]\d)?)?)?$/;

/** Whether `value` is an ISO date whose day exists (2026-02-30 does not). */
export function isIsoDate(value: string): boolean {
  if (!isoDatePattern.test(value)) return false;
  const [year, month, day] = [Number(value.slice(0, 4)), Number(value.slice(5, 7)), Number(value.slice(8, 10))];
  return day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
}

const text = (label: string) =>
  z
    .string({ error: `${label} must be text` })
    .min(1, `${label} must not be empty`)
    .max(segmentLimits.textLength, `${label} must be at most ${segmentLimits.textLength} characters`)
    .refine(isStorableText, `${label} must not contain NUL characters or invalid Unicode`);

const attributeKey = z
  .string({ error: 'attribute must be an attribute key' })
  .refine(isStorableText, 'attribute must not contain NUL characters or invalid Unicode')
  .refine((key) => attributeKeyPattern.test(key), 'attribute must be a letter or _ followed by up to 63 letters, digits or _');

const scalar = z.union(
  [
    z
      .string()
      .max(segmentLimits.textLength, `value must be at most ${segmentLimits.textLength} characters`)
      .refine(isStorableText, 'value must not contain NUL characters or invalid Unicode'),
    z.number().finite(),
    z.boolean(),
  ],
  { error: 'value must be a string, a number or a boolean' },
);

const isoDate = z
  .string({ error: 'value must be an ISO date such as 2026-01-01' })
  .refine(isIsoDate, 'value must be an ISO date such as 2026-01-01 or 2026-01-01T09:30:00Z');

const ordered = z.union([z.number().finite(), isoDate], { error: 'value must be a number or an ISO date such as 2026-01-01' });

const attributeOps = ['eq', 'neq', 'in', 'contains', 'exists', 'gt', 'lt'] as const;

const attributeRule = z.discriminatedUnion(
  'op',
  [
    z.strictObject({ attribute: attributeKey, op: z.enum(['eq', 'neq']), value: scalar }),
    z.strictObject({
      attribute: attributeKey,
      op: z.literal('in'),
      value: z
        .array(scalar, { error: 'value must be a list of values' })
        .min(1, 'value must list at least one value')
        .max(segmentLimits.inValues, `value must list at most ${segmentLimits.inValues} values`),
    }),
    z.strictObject({ attribute: attributeKey, op: z.literal('contains'), value: text('value') }),
    z.strictObject({ attribute: attributeKey, op: z.literal('exists') }),
    z.strictObject({ attribute: attributeKey, op: z.enum(['gt', 'lt']), value: ordered }),
  ],
  { error: `op must be one of ${attributeOps.join(', ')}` },
);

const listRule = z.strictObject({
  list: text('list'),
  status: z.enum(['pending', 'active', 'unsubscribed'], { error: 'status must be pending, active or unsubscribed' }).optional(),
});

const fieldRule = z.strictObject({
  field: z.enum(['createdAt', 'confirmedAt'], { error: 'field must be createdAt or confirmedAt' }),
  op: z.enum(['gt', 'lt'], { error: 'op must be gt or lt' }),
  value: isoDate,
});

const engagementRule = z.strictObject({
  engagement: z.enum(['opened', 'clicked'], { error: 'engagement must be opened or clicked' }),
  campaign: z.uuid({ error: 'campaign must be a campaign id' }).optional(),
  withinDays: z
    .number({ error: 'withinDays must be a whole number of days' })
    .int('withinDays must be a whole number of days')
    .min(1, 'withinDays must be at least 1')
    .max(segmentLimits.withinDays, `withinDays must be at most ${segmentLimits.withinDays}`)
    .optional(),
});

const ruleKinds = ['all', 'any', 'not', 'attribute', 'list', 'field', 'engagement'] as const;

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * One rule of any kind. The kind is told by which of its keys is present, so each kind's schema
 * reports its own problems with their paths (a union of all seven would only say "no match").
 */
export const segmentRule: z.ZodType<SegmentRule, unknown> = z.lazy(() =>
  z.unknown().transform((value, ctx): SegmentRule => {
    const kinds = isObject(value) ? ruleKinds.filter((kind) => kind in value) : [];
    if (kinds.length !== 1) {
      ctx.addIssue({ code: 'custom', message: `must be an object with exactly one of ${ruleKinds.join(', ')}` });
      return z.NEVER;
    }
    const parsed = schemaOf(kinds[0]!).safeParse(value);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) ctx.addIssue({ ...issue, path: issue.path } as Parameters<typeof ctx.addIssue>[0]);
      return z.NEVER;
    }
    return parsed.data as SegmentRule;
  }),
);

const ruleList = (kind: 'all' | 'any') =>
  z
    .array(segmentRule, { error: `${kind} must be a list of rules` })
    .min(1, `${kind} must list at least one rule`)
    .max(segmentLimits.rules, `${kind} must list at most ${segmentLimits.rules} rules`);

function schemaOf(kind: (typeof ruleKinds)[number]): z.ZodType {
  switch (kind) {
    case 'all':
      return z.strictObject({ all: ruleList('all') });
    case 'any':
      return z.strictObject({ any: ruleList('any') });
    case 'not':
      return z.strictObject({ not: segmentRule });
    case 'attribute':
      return attributeRule;
    case 'list':
      return listRule;
    case 'field':
      return fieldRule;
    case 'engagement':
      return engagementRule;
  }
}

/** A rule tree that does not fit the schema: `field` is its path (`rules.all.2.value`). */
export class SegmentRuleError extends Error {
  override name = 'SegmentRuleError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Checks the size of a tree before the schema walks it: depth and rule count are counted without
 * recursion, so a tree nested ten thousand deep is refused without a deep stack.
 */
function checkSize(value: unknown, root: string): SegmentRuleError | undefined {
  const stack: { node: unknown; depth: number; path: string }[] = [{ node: value, depth: 1, path: root }];
  let rules = 0;
  while (stack.length > 0) {
    const { node, depth, path } = stack.pop()!;
    if (!isObject(node)) continue;
    if (++rules > segmentLimits.rules) return new SegmentRuleError(root, `rules may hold at most ${segmentLimits.rules} rules in all`);
    if (depth > segmentLimits.depth) return new SegmentRuleError(path, `rules may nest at most ${segmentLimits.depth} deep`);
    for (const kind of ['all', 'any'] as const) {
      const children = node[kind];
      if (!Array.isArray(children)) continue;
      if (children.length > segmentLimits.rules) return new SegmentRuleError(`${path}.${kind}`, `${kind} must list at most ${segmentLimits.rules} rules`);
      children.forEach((child, index) => stack.push({ node: child, depth: depth + 1, path: `${path}.${kind}.${index}` }));
    }
    if ('not' in node) stack.push({ node: node.not, depth: depth + 1, path: `${path}.not` });
  }
  return undefined;
}

/**
 * Validates a rule tree. `root` names it in error paths (`rules` for a request's `rules` field).
 * Returns the tree or the first problem, with the path of the field it is in.
 */
export function parseSegmentRules(value: unknown, root = 'rules'): { success: true; rules: SegmentRule } | { success: false; error: SegmentRuleError } {
  const tooBig = checkSize(value, root);
  if (tooBig) return { success: false, error: tooBig };
  const parsed = segmentRule.safeParse(value);
  if (parsed.success) return { success: true, rules: parsed.data };
  const issue = parsed.error.issues[0]!;
  const path = [root, ...issue.path.map(String)];
  if (issue.code === 'unrecognized_keys') path.push(issue.keys[0] ?? '');
  const field = path.join('.');
  const message = issue.code === 'unrecognized_keys' ? 'is not a known field of this rule' : issue.message;
  return { success: false, error: new SegmentRuleError(field, message) };
}

/** parseSegmentRules that throws its SegmentRuleError. */
export function segmentRulesOrThrow(value: unknown, root = 'rules'): SegmentRule {
  const parsed = parseSegmentRules(value, root);
  if (!parsed.success) throw parsed.error;
  return parsed.rules;
}
