import type { SegmentRule } from '@herald/shared';

/**
 * The admin's rule builder: plain form rows, one per rule, combined with all or any. A row is
 * four text fields; this module turns rows into a rule tree and a flat tree back into rows. Trees
 * the rows cannot show (nested groups) are edited as JSON.
 */

export const rowKinds = ['attribute', 'list', 'createdAt', 'confirmedAt', 'opened', 'clicked', 'notOpened', 'notClicked'] as const;
export type RowKind = (typeof rowKinds)[number];
export type RuleRow = { kind: RowKind | ''; name: string; op: string; value: string };
export type RuleRows = { match: 'all' | 'any'; rows: RuleRow[] };

export const blankRow: RuleRow = { kind: '', name: '', op: '', value: '' };

/** A typed value from a text box: numbers and true/false as such, anything else as text. */
function typed(text: string): string | number | boolean {
  const trimmed = text.trim();
  if (/^-?\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed);
  if (trimmed === 'true' || trimmed === 'false') return trimmed === 'true';
  return text;
}

function ruleOf(row: RuleRow): unknown {
  const name = row.name.trim();
  const value = row.value.trim();
  switch (row.kind) {
    case 'attribute':
      if (row.op === 'exists') return { attribute: name, op: row.op };
      if (row.op === 'in') return { attribute: name, op: row.op, value: value === '' ? [] : value.split(',').map((part) => typed(part.trim())) };
      if (row.op === 'contains') return { attribute: name, op: row.op, value: row.value };
      return { attribute: name, op: row.op, value: typed(row.value) };
    case 'list':
      return value === '' ? { list: name } : { list: name, status: value };
    case 'createdAt':
    case 'confirmedAt':
      return { field: row.kind, op: row.op, value };
    default: {
      const opened = row.kind === 'opened' || row.kind === 'notOpened';
      const rule = {
        engagement: opened ? 'opened' : 'clicked',
        ...(name === '' ? {} : { campaign: name }),
        ...(value === '' ? {} : { withinDays: typed(value) }),
      };
      return row.kind === 'notOpened' || row.kind === 'notClicked' ? { not: rule } : rule;
    }
  }
}

/** The rule tree the rows describe; rows with no kind are left out. Validation is the schema's. */
export function rulesFromRows({ match, rows }: RuleRows): unknown {
  const used = rows.filter((row) => row.kind !== '');
  return { [match]: used.map(ruleOf) };
}

/** Which row a rule-tree path (`rules.all.2.value`) points at, for rules built from rows. */
export function rowOfPath(path: string): number | undefined {
  const match = /^rules\.(?:all|any)\.(\d+)/.exec(path);
  return match ? Number(match[1]) : undefined;
}

function rowOf(rule: SegmentRule): RuleRow | undefined {
  if ('attribute' in rule) {
    const value = 'value' in rule ? (Array.isArray(rule.value) ? rule.value.join(', ') : String(rule.value)) : '';
    return { kind: 'attribute', name: rule.attribute, op: rule.op, value };
  }
  if ('list' in rule) return { kind: 'list', name: rule.list, op: '', value: rule.status ?? '' };
  if ('field' in rule) return { kind: rule.field, name: '', op: rule.op, value: rule.value };
  const engagement = 'not' in rule ? rule.not : rule;
  if (!('engagement' in engagement)) return undefined;
  const negated = 'not' in rule;
  const kind: RowKind = engagement.engagement === 'opened' ? (negated ? 'notOpened' : 'opened') : negated ? 'notClicked' : 'clicked';
  return { kind, name: engagement.campaign ?? '', op: '', value: engagement.withinDays === undefined ? '' : String(engagement.withinDays) };
}

/**
 * Rows for a tree of one group of simple rules (or one rule), or undefined for a tree the rows
 * cannot show as it is. A string that reads as a number would come back as a number, so a tree
 * with one is JSON too.
 */
export function rowsFromRules(rules: SegmentRule): RuleRows | undefined {
  const group = 'all' in rules ? { match: 'all' as const, rules: rules.all } : 'any' in rules ? { match: 'any' as const, rules: rules.any } : { match: 'all' as const, rules: [rules] };
  const rows: RuleRow[] = [];
  for (const rule of group.rules) {
    const row = rowOf(rule);
    if (!row) return undefined;
    rows.push(row);
  }
  const back = canonical(rulesFromRows({ match: group.match, rows }));
  const given = canonical('all' in rules || 'any' in rules ? rules : { all: [rules] });
  return back === given ? { match: group.match, rows } : undefined;
}

/** JSON with keys sorted: Postgres keeps jsonb keys in an order of its own. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    return `{${Object.keys(value).sort().map((key) => `${JSON.stringify(key)}:${canonical((value as Record<string, unknown>)[key])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
