import { createHash, randomBytes } from 'node:crypto';
import { UnrecoverableError } from 'bullmq';
import { confirmationWindowMs } from '@herald/shared';
import type { SendConfirmationPayload } from '@herald/shared';
import { renderConfirmationEmail } from '@herald/shared';
import { classifySendError } from '../mail/sendgrid.js';
import type { JobContext, WorkerDeps } from '../deps.js';

const tokenLifetimeMs = 7 * 24 * 60 * 60 * 1000;

export type ConfirmationOutcome = 'sent' | 'skipped';

/**
 * Sends a double opt-in email to a pending subscriber, at most once per ten minutes. A fresh
 * 256-bit token is made for each email; only its SHA-256 is stored, so the newest link is the one
 * that works.
 */
export async function sendConfirmation(
  payload: SendConfirmationPayload,
  ctx: JobContext,
  { db, mailer, config, emailLayout }: WorkerDeps,
): Promise<ConfirmationOutcome> {
  const token = randomBytes(32).toString('base64url');
  const now = new Date();
  const [subscriber] = await db.$queryRaw<{ email: string; name: string | null; previous: Date | null }[]>`
    UPDATE subscribers s
    SET confirm_token_hash = ${createHash('sha256').update(token).digest('hex')},
        confirm_token_expires_at = ${new Date(now.getTime() + tokenLifetimeMs)},
        confirmation_sent_at = ${now}, updated_at = now()
    FROM (SELECT id, confirmation_sent_at FROM subscribers WHERE id = ${payload.subscriberId}::uuid FOR UPDATE) old
    WHERE s.id = old.id AND s.status = 'pending'
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
    });
  } catch (err) {
    const failure = classifySendError(err);
    ctx.log.warn({ kind: failure.kind, reason: failure.reason }, 'confirmation not sent');
    // Hand the ten-minute window back, so the retry (or the next signup) may send.
    await db.subscriber.updateMany({
      where: { id: payload.subscriberId, confirmationSentAt: now },
      data: { confirmationSentAt: subscriber.previous },
    });
    if (failure.kind === 'rejected' || failure.kind === 'unauthorized') throw new UnrecoverableError(failure.reason);
    throw new Error(failure.reason, { cause: err });
  }
  return 'sent';
}
