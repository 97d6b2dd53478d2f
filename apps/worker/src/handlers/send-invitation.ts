import { createHash, randomBytes } from 'node:crypto';
import { UnrecoverableError, Worker } from 'bullmq';
import { renderInvitationEmail } from '@herald/shared';
import type { SendInvitationPayload } from '@herald/shared';
import { decideOnFailure } from '../mail/failure-policy.js';
import { holdMail, releaseMailHold } from '../mail/mail-holds.js';
import { noTracking } from '../mail/mailer.js';
import type { JobContext, WorkerDeps } from '../deps.js';
import { credentialHoldMs } from './send-confirmation.js';

/** How long an invitation link works. */
export const invitationLifetimeMs = 7 * 24 * 60 * 60 * 1000;

export type InvitationOutcome = 'sent' | 'skipped';

/**
 * Emails an invitation to join the team. A fresh 256-bit token is made for each email and only its
 * SHA-256 is stored, so the newest link is the only one that works. The token is written only while
 * the user has no password and is not disabled: someone who joined, or was disabled or removed,
 * since the invitation was asked for gets nothing.
 *
 * Delivery guarantee: at least once. A worker that dies after SendGrid accepted the message and
 * before the job completes sends it again on the retry, with a new token; the earlier link then
 * stops working, which costs the person nothing but a second email.
 */
export async function sendInvitation(payload: SendInvitationPayload, ctx: JobContext, deps: WorkerDeps): Promise<InvitationOutcome> {
  const { db, mailer, config, emailLayout } = deps;
  const token = randomBytes(32).toString('base64url');
  const tokenHash = createHash('sha256').update(token).digest('hex');
  const [user] = await db.$queryRaw<{ email: string; name: string | null; role: string }[]>`
    UPDATE users
    SET invite_token_hash = ${tokenHash}, invite_expires_at = ${new Date(Date.now() + invitationLifetimeMs)}, updated_at = now()
    WHERE id = ${payload.userId}::uuid AND invited_at IS NOT NULL AND password_hash IS NULL AND disabled_at IS NULL
    RETURNING email, name, role::text AS role`;
  if (!user) return 'skipped';

  const email = renderInvitationEmail(`${config.publicUrl}/admin/invitations/${token}`, emailLayout, config.mail.postalAddress, {
    newsletterName: config.newsletterName,
    recipientName: user.name,
    role: user.role,
    lifetime: '7 days',
  });
  try {
    await mailer.send({
      ...email,
      to: user.name ? { email: user.email, name: user.name } : { email: user.email },
      customArgs: { herald_user_id: payload.userId },
      // The link must work exactly as written (see the confirmation), and nothing counts its opens.
      tracking: noTracking,
    });
  } catch (err) {
    return handleFailure(err, payload.userId, tokenHash, ctx, deps);
  }
  await releaseMailHold(db, 'confirmations', ctx.log);
  return 'sent';
}

/** Carries out the failure policy (mail/failure-policy.ts) for an invitation that was not sent. */
async function handleFailure(err: unknown, userId: string, tokenHash: string, ctx: JobContext, { db, metrics }: WorkerDeps): Promise<never> {
  const decision = decideOnFailure(err, ctx);
  ctx.log.warn({ action: decision.action, reason: decision.reason }, 'invitation not sent');
  // A token nobody received is no invitation: clearing it marks the invitation as not yet emailed,
  // which is what the reconciler looks for should this job be lost too.
  await db.$executeRaw`
    UPDATE users SET invite_token_hash = NULL, invite_expires_at = NULL, updated_at = now()
    WHERE id = ${userId}::uuid AND invite_token_hash = ${tokenHash}`;
  switch (decision.action) {
    case 'hold-queue':
      await ctx.pauseQueue(decision.waitMs);
      throw Worker.RateLimitError();
    case 'stop':
      // Invitations share the confirmations queue, and so its hold.
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
