import { UnrecoverableError, Worker } from 'bullmq';
import type { Logger, RenderedEmail, SendWelcomePayload } from '@herald/shared';
import { listIdHeader, listUnsubscribeUrl, preferencesUrl, renderWelcomeEmail } from '@herald/shared';
import { decideOnFailure } from '../mail/failure-policy.js';
import { holdMail, releaseMailHold } from '../mail/mail-holds.js';
import { noTracking } from '../mail/mailer.js';
import type { JobContext, WorkerDeps } from '../deps.js';
import { claimWelcomeEmail, failWelcomeEmail, markWelcomeSent, releaseWelcomeEmail } from '../welcome-emails/welcome-email-statements.js';
import type { ClaimedWelcome } from '../welcome-emails/welcome-email-statements.js';
import { credentialHoldMs } from './send-confirmation.js';

export type WelcomeOutcome = 'sent' | 'skipped';

/**
 * Sends a list's welcome email to a person whose subscription to it became active.
 *
 * Delivery guarantee. One `welcome_emails` row per (subscriber, list), unique, so a double
 * confirmation or a repeated request cannot owe two. The conditional claim (`queued -> sending`) is
 * the lock: of any number of jobs for the row, one gets it, and a row that is `sent`, `skipped` or
 * `failed` is never claimed again. The only window for a duplicate is a worker dying after SendGrid
 * accepted the message and before the `sent` mark, one HTTP call wide: the row stays `sending`, and
 * the reconciler sends it again after STUCK_SENDING_AFTER_SECONDS, as it does for deliveries. The
 * claim re-reads the person, the subscription and the list, so an unsubscribe (or a bounce) that
 * lands before it skips the email; one that lands after the claim finds it in flight.
 */
export async function sendWelcome(payload: SendWelcomePayload, ctx: JobContext, deps: WorkerDeps): Promise<WelcomeOutcome> {
  const { db, mailer, config, emailLayout, metrics } = deps;
  const row = await claimWelcomeEmail(db, payload.welcomeEmailId);
  if (!row) {
    metrics.welcomeEmails.inc({ outcome: 'not_claimed' });
    return 'skipped';
  }
  if (row.status === 'skipped') {
    metrics.welcomeEmails.inc({ outcome: 'skipped' });
    ctx.log.info({ reason: row.last_error }, 'welcome email skipped');
    return 'skipped';
  }

  const recipient = { email: row.email, name: row.name, attributes: row.attributes };
  let email: RenderedEmail;
  try {
    email = renderWelcomeEmail(
      { subject: row.welcome_subject!, body: row.welcome_body!, format: row.welcome_format },
      recipient,
      emailLayout,
      {
        // The welcome email is the list's own: its unsubscribe leaves that list, not everything.
        unsubscribeUrl: listUnsubscribeUrl(config.publicUrl, row.unsubscribe_token, row.list_id),
        preferencesUrl: preferencesUrl(config.publicUrl, row.unsubscribe_token),
        postalAddress: config.mail.postalAddress,
      },
    );
  } catch (err) {
    // The same text renders the same way every time: a retry, or the reconciler, would fail again.
    const reason = `welcome email could not be rendered: ${(err as Error).message}`;
    await failWelcomeEmail(db, row.id, reason);
    metrics.welcomeEmails.inc({ outcome: 'failed' });
    throw new UnrecoverableError(reason);
  }
  let messageId: string | null;
  try {
    ({ messageId } = await mailer.send({
      ...email,
      headers: { ...email.headers, 'List-Id': listIdHeader({ name: row.list_name, slug: row.list_slug }, config.publicUrl) },
      to: row.name ? { email: row.email, name: row.name } : { email: row.email },
      // The subscriber id makes a bounce or complaint on this email suppress the address, as on a confirmation.
      customArgs: { herald_subscriber_id: row.subscriber_id, herald_welcome_email_id: row.id },
      // No report counts a welcome email's opens or clicks (they belong to no campaign), so
      // tracking would only rewrite its links and add a pixel for nothing.
      tracking: noTracking,
    }));
  } catch (err) {
    return handleFailure(err, row, ctx, deps);
  }
  await persistently(ctx.log, () => markWelcomeSent(db, row.id, messageId));
  metrics.welcomeEmails.inc({ outcome: 'sent' });
  await releaseMailHold(db, 'confirmations', ctx.log);
  return 'sent';
}

/**
 * Carries out the failure policy (mail/failure-policy.ts) for a welcome email that was not sent,
 * as a confirmation does: welcome emails share the confirmations queue, and so its holds.
 */
async function handleFailure(err: unknown, row: ClaimedWelcome, ctx: JobContext, { db, metrics }: WorkerDeps): Promise<never> {
  const decision = decideOnFailure(err, ctx);
  ctx.log.warn({ action: decision.action, reason: decision.reason }, 'welcome email not sent');
  switch (decision.action) {
    case 'hold-queue':
      // A 429 is SendGrid asking everyone to wait: the queue waits; no attempt is used.
      await releaseWelcomeEmail(db, row.id, decision.reason, -1);
      metrics.welcomeEmails.inc({ outcome: 'rate_limited' });
      await ctx.pauseQueue(decision.waitMs);
      throw Worker.RateLimitError();
    case 'stop':
      // Every email of the queue would be refused the same way: hold it, as for confirmations. The
      // row waits `queued`, its job in the queue.
      await releaseWelcomeEmail(db, row.id, decision.reason, -1);
      await holdMail(db, 'confirmations', decision.reason);
      metrics.welcomeEmails.inc({ outcome: 'held' });
      ctx.log.error({ reason: decision.reason, retryInMs: credentialHoldMs }, 'welcome emails held: SendGrid refused the credentials');
      await ctx.pauseQueue(credentialHoldMs);
      throw Worker.RateLimitError();
    case 'give-up':
      await failWelcomeEmail(db, row.id, decision.reason);
      metrics.welcomeEmails.inc({ outcome: 'failed' });
      throw new UnrecoverableError(decision.reason);
    case 'retry':
      await releaseWelcomeEmail(db, row.id, decision.reason);
      metrics.welcomeEmails.inc({ outcome: 'retrying' });
      throw new Error(decision.reason, { cause: err });
  }
}

const markRetryForMs = 60_000;

/**
 * SendGrid has the message: a lost `sent` mark would leave the row `sending`, and the reconciler
 * would send it again, so the mark is retried through a short database outage.
 */
async function persistently(log: Logger, write: () => Promise<void>): Promise<void> {
  const deadline = Date.now() + markRetryForMs;
  for (let wait = 100; ; wait = Math.min(wait * 2, 1_000)) {
    try {
      return await write();
    } catch (err) {
      if (Date.now() + wait > deadline) throw err;
      log.warn({ err: (err as Error).message, retryInMs: wait }, 'could not record the welcome email as sent; retrying');
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}
