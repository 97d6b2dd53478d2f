import { Prisma } from '../generated/prisma/client.js';
import type { SqlClient } from '../db.js';
import { SegmentRuleError, segmentRulesOrThrow } from './segment-rules.js';
import type { AttributeRule, EngagementRule, FieldRule, SegmentRule } from './segment-rules.js';

/**
 * Compiles a segment's rules to one boolean SQL expression over the subscribers row aliased `s`:
 *   SELECT … FROM subscribers s WHERE s.status = 'active' AND ${predicate}
 * Every value from the rules is a bound parameter (Prisma.sql), attribute keys included; nothing
 * a client wrote is ever part of the SQL text. Each rule's expression is true or false, never
 * NULL, so `not` means "every other subscriber".
 *
 * Which index answers what (see the audiences migration):
 * - attribute `eq` and `in` compile to containment (`s.attributes @> '{"plan":"pro"}'`), which the
 *   GIN index `subscribers_attributes_idx` (jsonb_path_ops) answers; `neq`, `contains`, `exists`,
 *   `gt` and `lt` on attributes read the rows the rest of the predicate leaves;
 * - `createdAt` / `confirmedAt` use `subscribers_created_at_idx` / `subscribers_confirmed_at_idx`;
 * - list membership is a lookup by the subscriptions primary key (subscriber, list), or a scan of
 *   `subscriptions_list_id_status_subscriber_id_idx` when the planner joins the whole list;
 * - engagement reads `email_events_subscriber_type_idx` (subscriber, type, time).
 */

export type CompileOptions = {
  /**
   * What a list reference that names no list means. `refuse` (the default, for rules a client
   * sends now) throws a SegmentRuleError; `match-nobody` (for rules saved earlier whose list has
   * since been deleted) treats it as a list nobody is on, which is what membership of it means.
   */
  unknownLists?: 'refuse' | 'match-nobody';
};

/** Validates `rules` and compiles them; throws SegmentRuleError for rules that do not fit. */
export async function segmentPredicate(db: SqlClient, rules: unknown, options: CompileOptions = {}): Promise<Prisma.Sql> {
  const tree = segmentRulesOrThrow(rules);
  const lists = await resolveLists(db, tree, options.unknownLists ?? 'refuse');
  return compileRule(tree, lists);
}

type ListIds = Map<string, string | null>;

/** Every list reference in the tree, with its path, in order. */
function listRefs(rule: SegmentRule, path: string, out: { ref: string; path: string }[] = []) {
  if ('all' in rule) rule.all.forEach((child, index) => listRefs(child, `${path}.all.${index}`, out));
  else if ('any' in rule) rule.any.forEach((child, index) => listRefs(child, `${path}.any.${index}`, out));
  else if ('not' in rule) listRefs(rule.not, `${path}.not`, out);
  else if ('list' in rule) out.push({ ref: rule.list, path: `${path}.list` });
  return out;
}

/** Resolves list references (id or slug; archived lists still count) to ids, in one query. */
async function resolveLists(db: SqlClient, tree: SegmentRule, unknownLists: 'refuse' | 'match-nobody'): Promise<ListIds> {
  const refs = listRefs(tree, 'rules');
  const ids: ListIds = new Map();
  if (refs.length === 0) return ids;
  const wanted = [...new Set(refs.map((ref) => ref.ref))];
  const rows = await db.$queryRaw<{ id: string; slug: string }[]>`
    SELECT id::text AS id, slug FROM lists WHERE slug = ANY(${wanted}::text[]) OR id::text = ANY(${wanted}::text[])`;
  for (const ref of wanted) ids.set(ref, rows.find((row) => row.id === ref || row.slug === ref)?.id ?? null);
  const unknown = refs.find((ref) => ids.get(ref.ref) === null);
  if (unknown && unknownLists === 'refuse') throw new SegmentRuleError(unknown.path, `no list with the id or slug ${JSON.stringify(unknown.ref)}`);
  return ids;
}

function compileRule(rule: SegmentRule, lists: ListIds): Prisma.Sql {
  if ('all' in rule) return Prisma.sql`(${Prisma.join(rule.all.map((child) => compileRule(child, lists)), ' AND ')})`;
  if ('any' in rule) return Prisma.sql`(${Prisma.join(rule.any.map((child) => compileRule(child, lists)), ' OR ')})`;
  if ('not' in rule) return Prisma.sql`(NOT ${compileRule(rule.not, lists)})`;
  if ('attribute' in rule) return compileAttribute(rule);
  if ('list' in rule) {
    const id = lists.get(rule.list);
    if (!id) return Prisma.sql`FALSE`;
    return Prisma.sql`EXISTS (SELECT 1 FROM subscriptions sub
      WHERE sub.subscriber_id = s.id AND sub.list_id = ${id}::uuid AND sub.status = ${rule.status ?? 'active'}::subscription_status)`;
  }
  if ('field' in rule) return compileField(rule);
  return compileEngagement(rule);
}

/** `2026-01-01` and `2026-01-01T09:30` are UTC; a value with an offset keeps it. */
function utcInstant(value: string): string {
  return new Date(/(Z|[+-]\d\d(:?\d\d)?)$/.test(value) && value.length > 10 ? value : `${value.length === 10 ? `${value}T00:00` : value}Z`).toISOString();
}

/**
 * The ISO date pattern of segment-rules.ts in Postgres's regex dialect, and the check that the day
 * exists in its month: together they admit only strings the timestamp cast below accepts, so a
 * subscriber's odd attribute value never makes the statement fail.
 */
const sqlIsoDate = String.raw`^(?!0000)\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])([T ]([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,6})?)?(Z|[+-](0\d|1[0-5])(:?[0-5]\d)?)?)?$`;

function attributeDate(key: string): Prisma.Sql {
  const text = Prisma.sql`(s.attributes ->> ${key}::text)`;
  return Prisma.sql`(CASE WHEN jsonb_typeof(s.attributes -> ${key}::text) = 'string' AND ${text} ~ ${sqlIsoDate}::text
      AND substr(${text}, 9, 2)::int <= extract(day FROM make_date(substr(${text}, 1, 4)::int, substr(${text}, 6, 2)::int, 1) + interval '1 month' - interval '1 day')
    THEN (CASE WHEN length(${text}) > 10 AND ${text} ~ '(Z|[+-]\d\d(:?\d\d)?)$' THEN ${text}::timestamptz ELSE ${text}::timestamp AT TIME ZONE 'UTC' END)
    END)`;
}

function compileAttribute(rule: AttributeRule): Prisma.Sql {
  const key = rule.attribute;
  const contains = (value: unknown) => Prisma.sql`s.attributes @> ${JSON.stringify({ [key]: value })}::jsonb`;
  switch (rule.op) {
    case 'eq':
      return Prisma.sql`(${contains(rule.value)})`;
    case 'neq':
      // Everyone whose value is not this one, those without the attribute included: `not` of `eq`.
      return Prisma.sql`(NOT ${contains(rule.value)})`;
    case 'in':
      // One containment per value: a BitmapOr of GIN index scans.
      return Prisma.sql`(${Prisma.join(rule.value.map(contains), ' OR ')})`;
    case 'exists':
      return Prisma.sql`((s.attributes -> ${key}::text) IS NOT NULL)`;
    case 'contains': {
      const pattern = `%${rule.value.replace(/[\\%_]/g, (char) => `\\${char}`)}%`;
      return Prisma.sql`(jsonb_typeof(s.attributes -> ${key}::text) IS NOT DISTINCT FROM 'string' AND (s.attributes ->> ${key}::text) ILIKE ${pattern}::text)`;
    }
    case 'gt':
    case 'lt': {
      const op = Prisma.raw(rule.op === 'gt' ? '>' : '<');
      if (typeof rule.value === 'number') {
        return Prisma.sql`(CASE WHEN jsonb_typeof(s.attributes -> ${key}::text) = 'number'
          THEN (s.attributes ->> ${key}::text)::numeric ${op} ${String(rule.value)}::numeric ELSE FALSE END)`;
      }
      return Prisma.sql`COALESCE(${attributeDate(key)} ${op} ${utcInstant(rule.value)}::timestamptz, FALSE)`;
    }
  }
}

function compileField(rule: FieldRule): Prisma.Sql {
  const column = Prisma.raw(rule.field === 'createdAt' ? 's.created_at' : 's.confirmed_at');
  const op = Prisma.raw(rule.op === 'gt' ? '>' : '<');
  // The columns hold UTC without a zone: compared with a UTC timestamp, bare (no COALESCE), their
  // index answers the rule. IS NOT NULL keeps an unconfirmed subscriber's row false, not NULL.
  return Prisma.sql`(${column} IS NOT NULL AND ${column} ${op} (${utcInstant(rule.value)}::timestamptz AT TIME ZONE 'UTC'))`;
}

function compileEngagement(rule: EngagementRule): Prisma.Sql {
  const type = rule.engagement === 'opened' ? 'open' : 'click';
  const within = rule.withinDays === undefined ? Prisma.empty : Prisma.sql`AND e.occurred_at > (now() AT TIME ZONE 'UTC') - make_interval(days => ${rule.withinDays}::int)`;
  const campaign =
    rule.campaign === undefined
      ? Prisma.empty
      : Prisma.sql`AND EXISTS (SELECT 1 FROM deliveries d WHERE d.id = e.delivery_id AND d.campaign_id = ${rule.campaign}::uuid)`;
  return Prisma.sql`EXISTS (SELECT 1 FROM email_events e WHERE e.subscriber_id = s.id AND e.type = ${type}::text ${within} ${campaign})`;
}
