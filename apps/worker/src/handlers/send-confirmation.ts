import { createHash, randomBytes } from 'node:crypto';
import { UnrecoverableError, Worker } from 'bullmq';
import { confirmationWindowMs } from '@herald/shared';
import type { SendConfirmationPayload } from '@herald/shared';
import { renderConfirmationEmail } from '@herald/shared';
import { decideOnFailure } from '../mail/failure-policy.js';
import { holdMail, releaseMailHold } from '../mail/mail-holds.js';
import { noTracking } from '../mail/mailer.js';
import type { JobContext, WorkerDeps } from '../deps.js';

const tokenLifetimeMs = 7 * 24 * 60 * 60 * 1000;

/**
 * After SendGrid refused the credentials, how long the confirmation queue waits before one more
 * try: a fixed key (or sender) is noticed within this, with no one to resume anything by hand.
 */
export const credentialHoldMs = 5 * 60 * 1000;

export type ConfirmationOutcome = 'sent' | 'skipped';

/**
 * Sends a double opt-in email to a pending subscriber, or to a confirmed one who has asked for a
 * double opt-in list since (a pending subscription), at most once per ten minutes. A fresh
 * 256-bit token is made for each email; only its SHA-256 is stored, so the newest link is the one
 * that works.
 */
export async function sendConfirmation(
  payload: SendConfirmationPayload,
  ctx: JobContext,
  deps: WorkerDeps,
): Promise<ConfirmationOutcome> {
  const { db, mailer, config, emailLayout } = deps;
  const token = randomBytes(32).toString('base64url');
  const now = new Date();
  // The row is found by its primary key on both sides of the join. With `s.id = old.id` alone, a
  // planner whose statistics lag behind a burst of signups walked every pending subscriber per email.
  const [subscriber] = await db.$queryRaw<{ email: string; name: string | null; previous: Date | null }[]>`
    UPDATE subscribers s
    SET confirm_token_hash = ${createHash('sha256').update(token).digest('hex')},
        confirm_token_expires_at = ${new Date(now.getTime() + tokenLifetimeMs)},
        confirmation_sent_at = ${now}, updated_at = now()
    FROM (SELECT id, confirmation_sent_at FROM subscribers WHERE id = ${payload.subscriberId}::uuid FOR UPDATE) old
    WHERE s.id = ${payload.subscriberId}::uuid AND s.id = old.id
      AND (s.status = 'pending'
           OR (s.status = 'active' AND EXISTS (
                SELECT 1 FROM subscriptions sub WHERE sub.subscriber_id = s.id AND sub.status = 'pending')))
      AND (s.confirmation_sent_at IS NULL OR s.confirmation_sent_at < ${new Date(now.getTime() - confirmationWindowMs)})
    RETURNING s.email, s.name, old.confirmation_sent_at AS previous`;
  if (!subscriber) return 'skipped';

  const email = renderConfirmationEmail(`${config.publicUrl}/confirm/${token}`, emailLayout, config.mail.postalAddress, {
    newsletterName: config.newsletterName,
    recipientName: subscriber.name,
  });
  try {
    await mailer.send({
      ...email,
      to: subscriber.name ? { email: subscriber.email, name: subscriber.name } : { email: subscriber.email },
      customArgs: { herald_subscriber_id: payload.subscriberId },
      // Click tracking would rewrite the confirm link through SendGrid's redirect, which link
      // scanners and privacy proxies fetch, and which breaks the link if the tracking domain is
      // blocked or misconfigured: the one link that must work as written. No report counts a
      // confirmation's opens either.
      tracking: noTracking,
    });
  } catch (err) {
    return handleFailure(err, payload.subscriberId, { claimedAt: now, previous: subscriber.previous }, ctx, deps);
  }
  await releaseMailHold(db, 'confirmations', ctx.log);
  return 'sent';
}

/** Carries out the failure policy (mail/failure-policy.ts) for a confirmation that was not sent. */
async function handleFailure(
  err: unknown,
  subscriberId: string,
  window: { claimedAt: Date; previous: Date | null },
  ctx: JobContext,
  { db, metrics }: WorkerDeps,
): Promise<never> {
  const decision = decideOnFailure(err, ctx);
  ctx.log.warn({ action: decision.action, reason: decision.reason }, 'confirmation not sent');
  // Hand the ten-minute window back, so the retry (or the next signup) may send.
  await db.$executeRaw`
    UPDATE subscribers SET confirmation_sent_at = ${window.previous}, updated_at = now()
    WHERE id = ${subscriberId}::uuid AND confirmation_sent_at = ${window.claimedAt}`;
  switch (decision.action) {
    case 'hold-queue':
      // A 429 is SendGrid asking everyone to wait: hold every confirmation; no attempt is used.
      await ctx.pauseQueue(decision.waitMs);
      throw Worker.RateLimitError();
    case 'stop':
      // Every confirmation would be refused the same way. None is lost: each waits in the queue
      // (no attempt used) while the hold is recorded for the admin, logged and counted.
      await holdMail(db, 'confirmations', decision.reason);
      metrics.confirmationsHeld.inc();
      ctx.log.error({ reason: decision.reason, retryInMs: credentialHoldMs }, 'confirmations held: SendGrid refused the credentials');
      await ctx.pauseQueue(credentialHoldMs);
      throw Worker.RateLimitError();
    case 'give-up':
      throw new UnrecoverableError(decision.reason);
    case 'retry':
      throw new Error(decision.reason, { cause: err });
  }
}
