import { SegmentRuleError, campaignSegmentPredicate, parseSegmentRules, segmentPredicate, subscribe } from '@herald/shared';
import type { Db } from '@herald/shared';
import { beforeEach, describe, expect, it } from 'vitest';
import { useWebHarness } from '../../../test/support/web.js';

const web = useWebHarness();

type Seed = { email: string; status?: 'active' | 'pending' | 'unsubscribed' | 'bounced'; attributes?: object; createdAt?: string; confirmedAt?: string | null };

const people: Seed[] = [
  { email: 'ada@example.com', attributes: { plan: 'pro', country: 'FR', seats: 12, renews: '2026-03-01', nick: "O'Brien", beta: true }, createdAt: '2025-06-01T00:00:00Z', confirmedAt: '2025-06-02T00:00:00Z' },
  { email: 'grace@example.com', attributes: { plan: 'free', country: 'US', seats: 3, renews: '2025-12-01T10:00:00Z', note: '100% fun_stuff' }, createdAt: '2026-02-01T00:00:00Z', confirmedAt: null },
  { email: 'linus@example.com', attributes: { plan: 'pro', country: 'FI', seats: 'many', renews: '2026-02-30', beta: false }, createdAt: '2026-03-01T00:00:00Z', confirmedAt: '2026-03-02T00:00:00Z' },
  { email: 'margaret@example.com', attributes: { plan: 'Pro Team', seats: 12.5, renews: 'next week', note: 'fun stuff' }, createdAt: '2026-04-01T00:00:00Z', confirmedAt: '2026-04-01T00:00:00Z' },
  { email: 'plain@example.com', attributes: {}, createdAt: '2026-05-01T00:00:00Z', confirmedAt: '2026-05-01T00:00:00Z' },
  // Never counted: not active as a person.
  { email: 'pending@example.com', status: 'pending', attributes: { plan: 'pro', country: 'FR' }, confirmedAt: null },
  { email: 'bounced@example.com', status: 'bounced', attributes: { plan: 'pro', country: 'FR' } },
];

const ids: Record<string, string> = {};
let weekly = '';
let campaignId = '';

async function seed(db: Db): Promise<void> {
  await db.$executeRaw`DELETE FROM segments`;
  await db.$executeRaw`DELETE FROM lists WHERE NOT is_default`;
  for (const person of people) {
    const [row] = await db.$queryRaw<{ id: string }[]>`
      INSERT INTO subscribers (email, name, status, attributes, created_at, confirmed_at)
      VALUES (${person.email}, ${person.email.split('@')[0]}, ${person.status ?? 'active'}::subscriber_status, ${JSON.stringify(person.attributes ?? {})}::jsonb,
              ${person.createdAt ?? '2026-01-01T00:00:00Z'}::timestamptz AT TIME ZONE 'UTC',
              ${person.confirmedAt === undefined ? '2026-01-01T00:00:00Z' : person.confirmedAt}::timestamptz AT TIME ZONE 'UTC')
      RETURNING id`;
    ids[person.email.split('@')[0]!] = row!.id;
  }
  const [list] = await db.$queryRaw<{ id: string }[]>`INSERT INTO lists (name, slug) VALUES ('Weekly', 'weekly') RETURNING id`;
  weekly = list!.id;
  await subscribe(db, [ids.ada!, ids.grace!], [weekly], { status: 'active', source: 'admin' });
  await subscribe(db, [ids.linus!], [weekly], { status: 'pending', source: 'form' });
  const campaign = await db.campaign.create({ data: { subject: 'Issue 1', html: '<p>1</p>', status: 'sent' } });
  campaignId = campaign.id;
  const other = await db.campaign.create({ data: { subject: 'Issue 2', html: '<p>2</p>', status: 'sent' } });
  const deliveries = await db.$queryRaw<{ id: string; subscriber_id: string; campaign_id: string }[]>`
    INSERT INTO deliveries (campaign_id, subscriber_id, status, sent_at)
    SELECT c, s, 'sent', now() FROM unnest(${[campaign.id, campaign.id, other.id]}::uuid[], ${[ids.ada!, ids.grace!, ids.linus!]}::uuid[]) AS t(c, s)
    RETURNING id, subscriber_id, campaign_id`;
  const deliveryOf = (who: string) => deliveries.find((row) => row.subscriber_id === ids[who])!.id;
  const events: [string, string, string, number][] = [
    // [who, type, delivery, days ago]
    ['ada', 'open', deliveryOf('ada'), 2],
    ['ada', 'click', deliveryOf('ada'), 2],
    ['grace', 'open', deliveryOf('grace'), 40],
    ['linus', 'open', deliveryOf('linus'), 1],
  ];
  for (const [who, type, deliveryId, daysAgo] of events) {
    await db.$executeRaw`
      INSERT INTO email_events (dedupe_key, type, occurred_at, delivery_id, subscriber_id, payload)
      VALUES (${`${who}-${type}`}, ${type}, (now() AT TIME ZONE 'UTC') - make_interval(days => ${daysAgo}::int), ${deliveryId}::uuid, ${ids[who]}::uuid, '{}'::jsonb)`;
  }
}

beforeEach(async () => {
  await seed(web.db);
});

/** The active subscribers the rules select, by local part. */
async function matching(rules: unknown): Promise<string[]> {
  const predicate = await segmentPredicate(web.db, rules);
  const rows = await web.db.$queryRaw<{ email: string }[]>`SELECT s.email FROM subscribers s WHERE s.status = 'active' AND ${predicate}`;
  return rows.map((row) => row.email.split('@')[0]!).sort();
}

describe('attribute rules', () => {
  it('eq matches the value exactly, with its type', async () => {
    expect(await matching({ attribute: 'plan', op: 'eq', value: 'pro' })).toEqual(['ada', 'linus']);
    expect(await matching({ attribute: 'seats', op: 'eq', value: 12 })).toEqual(['ada']);
    expect(await matching({ attribute: 'seats', op: 'eq', value: '12' })).toEqual([]);
    expect(await matching({ attribute: 'beta', op: 'eq', value: false })).toEqual(['linus']);
    expect(await matching({ attribute: 'nick', op: 'eq', value: "O'Brien" })).toEqual(['ada']);
  });

  it('eq compiles to containment, answered by the GIN index', async () => {
    const predicate = await segmentPredicate(web.db, { attribute: 'plan', op: 'eq', value: 'pro' });
    expect(predicate.text).toContain('s.attributes @> $1::jsonb');
    expect(predicate.values).toEqual(['{"plan":"pro"}']);
    // Seven rows are read fastest without an index; with sequential scans off the plan shows which index answers.
    const plan = await web.db.$transaction(async (tx) => {
      await tx.$executeRaw`SET LOCAL enable_seqscan = off`;
      return tx.$queryRaw<{ 'QUERY PLAN': string }[]>`EXPLAIN SELECT count(*) FROM subscribers s WHERE ${predicate}`;
    });
    expect(plan.map((row) => row['QUERY PLAN']).join('\n')).toContain('subscribers_attributes_idx');
  });

  it('neq matches everyone else, those without the attribute included', async () => {
    expect(await matching({ attribute: 'plan', op: 'neq', value: 'pro' })).toEqual(['grace', 'margaret', 'plain']);
  });

  it('in matches any of the values', async () => {
    expect(await matching({ attribute: 'country', op: 'in', value: ['FR', 'FI'] })).toEqual(['ada', 'linus']);
    expect(await matching({ attribute: 'seats', op: 'in', value: [3, 'many'] })).toEqual(['grace', 'linus']);
  });

  it('contains is a case-insensitive substring of a string, LIKE characters taken literally', async () => {
    expect(await matching({ attribute: 'plan', op: 'contains', value: 'PRO' })).toEqual(['ada', 'linus', 'margaret']);
    expect(await matching({ attribute: 'note', op: 'contains', value: '100%' })).toEqual(['grace']);
    expect(await matching({ attribute: 'note', op: 'contains', value: 'fun_stuff' })).toEqual(['grace']);
    expect(await matching({ attribute: 'note', op: 'contains', value: '%' })).toEqual(['grace']);
    // Numbers are not strings.
    expect(await matching({ attribute: 'seats', op: 'contains', value: '1' })).toEqual([]);
  });

  it('exists matches a present key, whatever its value', async () => {
    expect(await matching({ attribute: 'beta', op: 'exists' })).toEqual(['ada', 'linus']);
    expect(await matching({ attribute: 'missing', op: 'exists' })).toEqual([]);
  });

  it('gt and lt compare numbers as numbers, leaving other types out', async () => {
    expect(await matching({ attribute: 'seats', op: 'gt', value: 5 })).toEqual(['ada', 'margaret']);
    expect(await matching({ attribute: 'seats', op: 'lt', value: 12.25 })).toEqual(['ada', 'grace']);
    expect(await matching({ attribute: 'seats', op: 'gt', value: -1e300 })).toEqual(['ada', 'grace', 'margaret']);
  });

  it('gt and lt compare ISO dates as timestamps, leaving values that are not dates out', async () => {
    expect(await matching({ attribute: 'renews', op: 'gt', value: '2026-01-01' })).toEqual(['ada']);
    expect(await matching({ attribute: 'renews', op: 'lt', value: '2026-01-01' })).toEqual(['grace']);
    expect(await matching({ attribute: 'renews', op: 'lt', value: '2025-12-01T10:00:01Z' })).toEqual(['grace']);
    expect(await matching({ attribute: 'renews', op: 'lt', value: '2025-12-01T11:00:00+02:00' })).toEqual([]);
  });
});

describe('list rules', () => {
  it('matches active members by slug or id, or another status when named', async () => {
    expect(await matching({ list: 'weekly' })).toEqual(['ada', 'grace']);
    expect(await matching({ list: weekly, status: 'active' })).toEqual(['ada', 'grace']);
    expect(await matching({ list: 'weekly', status: 'pending' })).toEqual(['linus']);
    expect(await matching({ list: 'weekly', status: 'unsubscribed' })).toEqual([]);
  });

  it('refuses an unknown list, naming the field', async () => {
    const error = await segmentPredicate(web.db, { all: [{ attribute: 'plan', op: 'exists' }, { list: 'monthly' }] }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(SegmentRuleError);
    expect((error as SegmentRuleError).field).toBe('rules.all.1.list');
  });

  it('reads an unknown list as a list nobody is on when asked to', async () => {
    const predicate = await segmentPredicate(web.db, { not: { list: 'monthly' } }, { unknownLists: 'match-nobody' });
    const rows = await web.db.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM subscribers s WHERE s.status = 'active' AND ${predicate}`;
    expect(rows[0]!.n).toBe(5);
  });
});

describe('date fields', () => {
  it('compares the signup date', async () => {
    expect(await matching({ field: 'createdAt', op: 'lt', value: '2026-01-01' })).toEqual(['ada']);
    expect(await matching({ field: 'createdAt', op: 'gt', value: '2026-03-01T00:00:00Z' })).toEqual(['margaret', 'plain']);
  });

  it('compares the confirmation date, leaving unconfirmed subscribers out of both sides', async () => {
    expect(await matching({ field: 'confirmedAt', op: 'gt', value: '2026-01-01' })).toEqual(['linus', 'margaret', 'plain']);
    expect(await matching({ field: 'confirmedAt', op: 'lt', value: '2026-01-01' })).toEqual(['ada']);
    expect(await matching({ not: { field: 'confirmedAt', op: 'lt', value: '2026-01-01' } })).toEqual(['grace', 'linus', 'margaret', 'plain']);
  });
});

describe('engagement rules', () => {
  it('matches who opened or clicked anything', async () => {
    expect(await matching({ engagement: 'opened' })).toEqual(['ada', 'grace', 'linus']);
    expect(await matching({ engagement: 'clicked' })).toEqual(['ada']);
  });

  it('matches who opened one campaign, and who did not', async () => {
    expect(await matching({ engagement: 'opened', campaign: campaignId })).toEqual(['ada', 'grace']);
    expect(await matching({ not: { engagement: 'opened', campaign: campaignId } })).toEqual(['linus', 'margaret', 'plain']);
  });

  it('matches who opened within the last days', async () => {
    expect(await matching({ engagement: 'opened', withinDays: 30 })).toEqual(['ada', 'linus']);
    expect(await matching({ engagement: 'opened', withinDays: 30, campaign: campaignId })).toEqual(['ada']);
  });
});

describe('combining rules', () => {
  it('all, any and not nest', async () => {
    expect(await matching({ all: [{ attribute: 'plan', op: 'eq', value: 'pro' }, { list: 'weekly' }] })).toEqual(['ada']);
    expect(await matching({ any: [{ attribute: 'country', op: 'eq', value: 'US' }, { attribute: 'beta', op: 'eq', value: false }] })).toEqual(['grace', 'linus']);
    expect(
      await matching({
        all: [
          { any: [{ attribute: 'plan', op: 'contains', value: 'pro' }, { list: 'weekly' }] },
          { not: { any: [{ engagement: 'clicked' }, { attribute: 'country', op: 'eq', value: 'FI' }] } },
        ],
      }),
    ).toEqual(['grace', 'margaret']);
  });

  it('not of a rule on an absent attribute is everyone else, never NULL', async () => {
    expect(await matching({ not: { attribute: 'note', op: 'contains', value: 'fun' } })).toEqual(['ada', 'linus', 'plain']);
    expect(await matching({ not: { attribute: 'seats', op: 'gt', value: 5 } })).toEqual(['grace', 'linus', 'plain']);
    expect(await matching({ not: { attribute: 'renews', op: 'gt', value: '2020-01-01' } })).toEqual(['linus', 'margaret', 'plain']);
  });
});

describe('values are parameters', () => {
  it('keeps quotes, backslashes and SQL in values and keys out of the statement text', async () => {
    const hostile = "x'); DROP TABLE subscribers; --\\";
    const predicate = await segmentPredicate(web.db, {
      any: [
        { attribute: 'plan', op: 'eq', value: hostile },
        { attribute: 'plan', op: 'contains', value: hostile },
        { attribute: 'plan', op: 'in', value: [hostile, '"quoted"'] },
      ],
    });
    expect(predicate.sql).not.toContain('DROP');
    expect(predicate.values.join(' ')).toContain('DROP');
    expect(await matching({ attribute: 'plan', op: 'contains', value: hostile })).toEqual([]);
    expect(await web.db.subscriber.count()).toBe(people.length);
  });
});

describe('campaignSegmentPredicate', () => {
  it('is TRUE without a segment, the inline rules, or the saved segment as stored now', async () => {
    expect((await campaignSegmentPredicate(web.db, {})).sql).toBe('TRUE');
    const inline = await campaignSegmentPredicate(web.db, { segmentRules: { attribute: 'plan', op: 'eq', value: 'free' } });
    expect(inline.values).toEqual(['{"plan":"free"}']);
    const segment = await web.db.segment.create({ data: { name: 'Pro', rules: { attribute: 'plan', op: 'eq', value: 'pro' } } });
    await web.db.segment.update({ where: { id: segment.id }, data: { rules: { attribute: 'country', op: 'eq', value: 'FR' } } });
    const saved = await campaignSegmentPredicate(web.db, { segmentId: segment.id });
    const rows = await web.db.$queryRaw<{ email: string }[]>`SELECT email FROM subscribers s WHERE s.status = 'active' AND ${saved}`;
    expect(rows.map((row) => row.email)).toEqual(['ada@example.com']);
  });

  it('refuses an unknown list in inline rules but not in a saved segment', async () => {
    await expect(campaignSegmentPredicate(web.db, { segmentRules: { list: 'gone' } })).rejects.toBeInstanceOf(SegmentRuleError);
    const segment = await web.db.segment.create({ data: { name: 'Gone', rules: { list: 'gone' } } });
    expect((await campaignSegmentPredicate(web.db, { segmentId: segment.id })).sql).toBe('FALSE');
  });
});

describe('parseSegmentRules', () => {
  const fieldOf = (rules: unknown) => {
    const parsed = parseSegmentRules(rules);
    return parsed.success ? null : { field: parsed.error.field, message: parsed.error.message };
  };
  const nested = (depth: number): unknown => (depth === 0 ? { attribute: 'plan', op: 'exists' } : { not: nested(depth - 1) });

  it.each([
    ['an unknown op', { attribute: 'plan', op: 'like', value: 'x' }, 'rules.op'],
    ['an unknown rule kind', { all: [{ sql: 'SELECT 1' }] }, 'rules.all.0'],
    ['two kinds in one rule', { list: 'weekly', attribute: 'plan', op: 'exists' }, 'rules'],
    ['an extra field', { list: 'weekly', extra: 1 }, 'rules.extra'],
    ['a value on exists', { attribute: 'plan', op: 'exists', value: 'x' }, 'rules.value'],
    ['no value on eq', { attribute: 'plan', op: 'eq' }, 'rules.value'],
    ['an object as value', { attribute: 'plan', op: 'eq', value: { $ne: 1 } }, 'rules.value'],
    ['a string for in', { attribute: 'plan', op: 'in', value: 'pro' }, 'rules.value'],
    ['an empty in', { attribute: 'plan', op: 'in', value: [] }, 'rules.value'],
    ['501 values for in', { attribute: 'plan', op: 'in', value: Array.from({ length: 501 }, (_, n) => `v${n}`) }, 'rules.value'],
    ['a boolean for gt', { attribute: 'seats', op: 'gt', value: true }, 'rules.value'],
    ['a date that does not exist', { attribute: 'renews', op: 'gt', value: '2026-02-30' }, 'rules.value'],
    ['a word for a date', { field: 'createdAt', op: 'gt', value: 'now' }, 'rules.value'],
    ['eq on a date field', { field: 'createdAt', op: 'eq', value: '2026-01-01' }, 'rules.op'],
    ['a key with a quote', { attribute: "plan'--", op: 'exists' }, 'rules.attribute'],
    ['a key with a dot', { attribute: 'a.b', op: 'exists' }, 'rules.attribute'],
    ['a key of 65 characters', { attribute: 'k'.repeat(65), op: 'exists' }, 'rules.attribute'],
    ['NUL in a value', { any: [{ attribute: 'plan', op: 'eq', value: 'a\u0000b' }] }, 'rules.any.0.value'],
    ['a lone surrogate in a value', { attribute: 'plan', op: 'contains', value: 'a\ud800' }, 'rules.value'],
    ['NUL in a key', { attribute: 'plan\u0000', op: 'exists' }, 'rules.attribute'],
    ['a value of 501 characters', { attribute: 'plan', op: 'eq', value: 'x'.repeat(501) }, 'rules.value'],
    ['a list ref of 501 characters', { list: 'x'.repeat(501) }, 'rules.list'],
    ['an unknown list status', { list: 'weekly', status: 'bounced' }, 'rules.status'],
    ['a malformed campaign id', { engagement: 'opened', campaign: "1' OR '1'='1" }, 'rules.campaign'],
    ['zero days', { engagement: 'opened', withinDays: 0 }, 'rules.withinDays'],
    ['fractional days', { engagement: 'opened', withinDays: 1.5 }, 'rules.withinDays'],
    ['an empty all', { all: [] }, 'rules.all'],
    ['all that is not a list', { all: { list: 'weekly' } }, 'rules.all'],
    ['a list at the root', [{ list: 'weekly' }], 'rules'],
    ['a string at the root', 'plan = pro', 'rules'],
    ['null', null, 'rules'],
    ['nesting nine deep', nested(8), 'rules.not.not.not.not.not.not.not.not'],
    ['nesting ten thousand deep', nested(10_000), 'rules.not.not.not.not.not.not.not.not'],
    ['101 rules', { any: Array.from({ length: 100 }, () => ({ list: 'weekly' })) }, 'rules'],
  ])('refuses %s, naming the field', (_name, rules, field) => {
    expect(fieldOf(rules)?.field).toBe(field);
  });

  it('takes eight levels and a hundred rules', () => {
    expect(fieldOf(nested(7))).toBeNull();
    expect(fieldOf({ any: Array.from({ length: 99 }, () => ({ list: 'weekly' })) })).toBeNull();
    expect(fieldOf({ attribute: 'plan', op: 'in', value: Array.from({ length: 500 }, (_, n) => n) })).toBeNull();
  });

  it('says what is wrong', () => {
    expect(fieldOf({ attribute: 'plan', op: 'like', value: 'x' })?.message).toContain('op must be one of eq, neq, in, contains, exists, gt, lt');
    expect(fieldOf(nested(8))?.message).toContain('at most 8 deep');
  });
});
