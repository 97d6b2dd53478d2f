import { createHash } from 'node:crypto';
import { Prisma } from '@herald/shared';
import type { Campaign, Db } from '@herald/shared';
import { DomainError } from '../domain-error.js';
import type { SendInput } from './campaign-schema.js';
import { snapshotAudienceTaskIds } from './campaign-queries.js';
import { recordAudience, resolveAudience } from './campaign-audience-input.js';
import type { CampaignTracking } from './campaign-tracking.js';
import { trackingColumns } from './campaign-tracking.js';

/**
 * `taskIds`: the new campaign's task ids as snapshotAudienceTaskIds gives them; absent when the
 * campaign existed already (an idempotent repeat), whose ids are read from the database instead.
 */
export type CreatedCampaign = { campaign: Campaign; created: boolean; taskIds?: string };

function requestHash(input: SendInput): string {
  const fields: unknown[] = [input.subject, input.body, input.text ?? null, input.sendAt?.toISOString() ?? null];
  // Appended only when not the default, so keys stored before these fields existed still match.
  if (input.format !== 'html' || !input.inArchive) fields.push(input.format, input.inArchive);
  if (input.preheader !== undefined) fields.push({ preheader: input.preheader });
  if (input.lists !== undefined || input.segment !== undefined) fields.push({ lists: input.lists ?? null, segment: input.segment ?? null });
  // As given, not as resolved: a repeat must match even after TRACK_OPENS / TRACK_CLICKS change.
  if (input.tracking !== undefined) fields.push({ tracking: { opens: input.tracking.opens ?? null, clicks: input.tracking.clicks ?? null } });
  const canonical = JSON.stringify(fields);
  return createHash('sha256').update(canonical).digest('hex');
}

/**
 * Creates a campaign. One to send now takes its audience in the same transaction (snapshotAudienceTaskIds);
 * a scheduled one takes it when it starts, so whoever confirms in between receives it.
 *
 * With an idempotency key, a repeat of the same request returns the first campaign and creates
 * nothing; the same key with a different request is refused. The unique index on the key settles
 * concurrent repeats. The audience (lists, segment) is resolved before anything is written: an
 * unknown list or segment throws AudienceInputError and creates nothing; the campaign's lists are
 * recorded in the transaction that creates it. `trackingDefaults` fills the tracking settings the
 * request leaves out (TRACK_OPENS, TRACK_CLICKS).
 */
export async function createCampaign(db: Db, input: SendInput, key: string | undefined, trackingDefaults: CampaignTracking): Promise<CreatedCampaign> {
  const hash = requestHash(input);
  if (key) {
    const existing = await findByKey(db, key, hash);
    if (existing) return { campaign: existing, created: false };
  }
  const audience = await resolveAudience(db, input);
  const now = new Date();
  try {
    return await db.$transaction(
      async (tx) => {
        const created = await tx.campaign.create({
          data: {
            subject: input.subject,
            html: input.body,
            format: input.format,
            inArchive: input.inArchive,
            ...trackingColumns(input.tracking, trackingDefaults),
            text: input.text ?? null,
            preheader: input.preheader?.trim() || null,
            status: input.sendAt ? 'scheduled' : 'sending',
            sendAt: input.sendAt ?? null,
            startedAt: input.sendAt ? null : now,
            idempotencyKey: key ?? null,
            requestHash: hash,
          },
        });
        await recordAudience(tx, created.id, audience);
        // A scheduled campaign takes its audience when it starts (startScheduledCampaign).
        if (input.sendAt) return { campaign: created, created: true, taskIds: '' };
        const { recipients, taskIds } = await snapshotAudienceTaskIds(tx, created.id);
        // An empty audience is a campaign that has nothing left to do.
        const campaign = await tx.campaign.update({
          where: { id: created.id },
          data: recipients === 0 ? { recipientCount: 0, status: 'sent', finishedAt: now } : { recipientCount: recipients },
        });
        return { campaign, created: true, taskIds };
      },
      { timeout: 120_000, maxWait: 10_000 },
    );
  } catch (err) {
    if (key && err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002') {
      const existing = await findByKey(db, key, hash);
      if (existing) return { campaign: existing, created: false };
    }
    throw err;
  }
}

async function findByKey(db: Db, key: string, hash: string): Promise<Campaign | null> {
  const existing = await db.campaign.findUnique({ where: { idempotencyKey: key } });
  if (existing && existing.requestHash !== hash) {
    throw new DomainError('idempotency_key_reused', 'This Idempotency-Key was already used with a different request.');
  }
  return existing;
}
