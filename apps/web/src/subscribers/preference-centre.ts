import { finishCampaigns, queueWelcomeEmails, subscribe, unsubscribeFromLists } from '@herald/shared';
import type { Db, SqlClient, SubscriberStatus, SubscriptionStatus } from '@herald/shared';

/** A list as the preference centre shows it to one person. */
export type PreferenceList = {
  id: string;
  slug: string;
  name: string;
  description: string | null;
  visibility: 'public' | 'private';
  /** The person's subscription, or null if they never had one. */
  status: SubscriptionStatus | null;
};

export type PreferencePerson = { id: string; email: string; name: string | null; status: SubscriberStatus };

export type PreferenceChoice = {
  /** The name as written (null: cleared); undefined when the form had no name field, which keeps it. */
  name: string | null | undefined;
  /** The lists the page showed, as ids: only these are changed. */
  shown: string[];
  /** The ones left ticked. */
  ticked: string[];
};

export type SaveOutcome =
  | { outcome: 'saved'; joined: number; left: number; welcomeEmailIds: string[] }
  /** Bounced or complained: suppression is global, so no list can be joined here. Nothing changed. */
  | { outcome: 'suppressed' }
  | { outcome: 'unknown' };

/** Whether a person in this state may join lists from the preference centre. */
export function mayJoin(status: SubscriberStatus): boolean {
  return status !== 'bounced' && status !== 'complained';
}

/**
 * The lists a person sees: every public list (with their state, if any) and any private one they
 * are subscribed to or asked for, which they may leave but not join. Archived lists send nothing
 * and are not shown.
 */
export function preferenceLists(db: SqlClient, subscriberId: string): Promise<PreferenceList[]> {
  return db.$queryRaw<PreferenceList[]>`
    SELECT l.id, l.slug, l.name, l.description, l.visibility::text AS visibility, sub.status::text AS status
    FROM lists l
    LEFT JOIN subscriptions sub ON sub.list_id = l.id AND sub.subscriber_id = ${subscriberId}::uuid
    WHERE l.archived_at IS NULL AND (l.visibility = 'public' OR sub.status IN ('active', 'pending'))
    ORDER BY l.is_default DESC, l.created_at, l.id`;
}

/**
 * Applies what the person ticked on the page, in one transaction: a public list ticked is joined
 * and active at once (the link's token proves the address; consent source `preferences`) with its
 * welcome email recorded; a shown list left unticked is left (which also skips queued deliveries
 * that no longer reach them). Joining a list brings someone who was unconfirmed or unsubscribed
 * from everything back to `active`. A private list is never joined here, only kept or left.
 *
 * The person's row is locked first and their subscriptions after, the order a signup, a
 * confirmation and "unsubscribe from everything" keep, so a save racing any of them waits for it
 * and then applies to the state it left: the outcome is one or the other order, never a mix.
 */
export async function savePreferences(db: Db, subscriberId: string, choice: PreferenceChoice): Promise<SaveOutcome> {
  const saved = await db.$transaction(async (tx): Promise<SaveOutcome & { touchedCampaigns?: string[] }> => {
    const [person] = await tx.$queryRaw<{ status: SubscriberStatus }[]>`
      SELECT status::text AS status FROM subscribers WHERE id = ${subscriberId}::uuid FOR UPDATE`;
    if (!person) return { outcome: 'unknown' };
    const lists = await preferenceLists(tx, subscriberId);
    const shown = new Set(choice.shown);
    const ticked = new Set(choice.ticked);
    const onPage = lists.filter((list) => shown.has(list.id));
    const join = onPage
      .filter((list) => ticked.has(list.id) && list.visibility === 'public' && list.status !== 'active')
      .map((list) => list.id);
    const leave = onPage
      .filter((list) => !ticked.has(list.id) && (list.status === 'active' || list.status === 'pending'))
      .map((list) => list.id);
    if (join.length > 0 && !mayJoin(person.status)) return { outcome: 'suppressed' };

    if (choice.name !== undefined) {
      await tx.$executeRaw`
        UPDATE subscribers SET name = ${choice.name}, updated_at = now()
        WHERE id = ${subscriberId}::uuid AND name IS DISTINCT FROM ${choice.name}`;
    }
    if (join.length > 0 && (person.status === 'pending' || person.status === 'unsubscribed')) {
      await tx.$executeRaw`
        UPDATE subscribers
        SET status = 'active', confirmed_at = coalesce(confirmed_at, now()), consent_at = now(), consent_source = 'preferences', updated_at = now()
        WHERE id = ${subscriberId}::uuid`;
    }
    const activated = await subscribe(tx, [subscriberId], join, { status: 'active', source: 'preferences' });
    const left = await unsubscribeFromLists(tx, subscriberId, leave);
    const welcomeEmailIds = await queueWelcomeEmails(tx, activated);
    return { outcome: 'saved', joined: activated.length, left: left.changed, welcomeEmailIds, touchedCampaigns: left.touchedCampaigns };
  });
  const { touchedCampaigns = [], ...outcome } = saved;
  await finishCampaigns(db, touchedCampaigns);
  return outcome;
}
