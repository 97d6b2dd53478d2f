import type { Db, Logger } from '@herald/shared';

/** Kinds of mail that can be held; campaigns are paused on the campaign row instead. */
export type MailHoldKind = 'confirmations';

/** Records (or keeps) a hold on `kind` with SendGrid's latest reason, counting each email held back. */
export async function holdMail(db: Db, kind: MailHoldKind, reason: string): Promise<void> {
  await db.$executeRaw`
    INSERT INTO mail_holds (kind, reason) VALUES (${kind}, ${reason})
    ON CONFLICT (kind) DO UPDATE SET reason = excluded.reason, held_count = mail_holds.held_count + 1, updated_at = now()`;
}

/** Lifts a hold once SendGrid accepts an email of that kind again. A no-op when none is held. */
export async function releaseMailHold(db: Db, kind: MailHoldKind, log: Logger): Promise<void> {
  const released = await db.$executeRaw`DELETE FROM mail_holds WHERE kind = ${kind}`;
  if (released > 0) log.info({ kind }, 'mail hold released: SendGrid accepts again');
}
