import express, { Router } from 'express';
import type { Response } from 'express';
import { finishCampaigns, unsubscribeFromEverything, unsubscribeFromLists } from '@herald/shared';
import type { WebDeps } from '../deps.js';

const unsubscribeTokenShape = /^[0-9a-f]{64}$/;
const uuidShape = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type ScopeList = { id: string; name: string; subscribed: boolean };

/** Which lists an unsubscribe link leaves: a campaign's (`c`) or one list's, for its welcome email (`l`). */
type Scope = 'c' | 'l';

/**
 * A campaign email's own unsubscribe link, `/unsubscribe/:token/c/:campaignId`, which is also its
 * RFC 8058 one-click target: it leaves the lists that campaign went to, and nothing else; a list's
 * welcome email has `/unsubscribe/:token/l/:listId`, which leaves that list. GET shows the lists
 * with a button (link scanners only GET), "unsubscribe from everything" (the person-level page) and
 * the preference centre; POST unsubscribes, with no session or CSRF token (the unguessable token is
 * the credential), idempotent, 200 every time for a known token. A person still queued in a running
 * campaign none of whose lists has them any more is skipped (unsubscribeFromLists), so at most what
 * was already in flight reaches them.
 */
export function campaignUnsubscribeRoutes({ db }: WebDeps): Router {
  const router = Router();
  const smallForm = express.urlencoded({ limit: '2kb', extended: false, parameterLimit: 5 });

  const invalidLink = (res: Response) =>
    res.status(404).render('link-problem', { title: 'This link is not valid', message: 'We could not find a subscription for this link.' });

  async function findSubscriber(token: string) {
    if (!unsubscribeTokenShape.test(token)) return null;
    return db.subscriber.findUnique({ where: { unsubscribeToken: token }, select: { id: true, email: true, status: true } });
  }

  /** The link's lists, in the campaign's order, with whether the person is on each now; empty for an unknown campaign or list. */
  function scopeLists(scope: Scope, id: string, subscriberId: string): Promise<ScopeList[]> {
    if (!uuidShape.test(id)) return Promise.resolve([]);
    if (scope === 'l') {
      return db.$queryRaw<ScopeList[]>`
        SELECT l.id, l.name, COALESCE(sub.status = 'active', false) AS subscribed
        FROM lists l LEFT JOIN subscriptions sub ON sub.list_id = l.id AND sub.subscriber_id = ${subscriberId}::uuid
        WHERE l.id = ${id}::uuid`;
    }
    return db.$queryRaw<ScopeList[]>`
      SELECT l.id, l.name, COALESCE(sub.status = 'active', false) AS subscribed
      FROM campaign_lists cl JOIN lists l ON l.id = cl.list_id
      LEFT JOIN subscriptions sub ON sub.list_id = l.id AND sub.subscriber_id = ${subscriberId}::uuid
      WHERE cl.campaign_id = ${id}::uuid ORDER BY cl.position, l.id`;
  }

  const page = (res: Response, token: string, action: string, view: { title: string; email: string; lists: ScopeList[]; state: 'ask' | 'done' | 'already' }) =>
    res.render('unsubscribe-lists', {
      ...view,
      action,
      everythingAction: `/unsubscribe/${token}`,
      preferencesUrl: `/preferences/${token}`,
    });

  for (const scope of ['c', 'l'] as const) {
    const path = `/unsubscribe/:token/${scope}/:id`;

    router.get(path, async (req, res) => {
      const { token, id } = req.params as { token: string; id: string };
      const subscriber = await findSubscriber(token);
      if (!subscriber) return invalidLink(res);
      const lists = await scopeLists(scope, id, subscriber.id);
      // A campaign that names no list (or is gone): the person-level page says what can be done.
      if (lists.length === 0 || (subscriber.status !== 'active' && subscriber.status !== 'pending')) return res.redirect(303, `/unsubscribe/${token}`);
      const subscribed = lists.some((list) => list.subscribed);
      page(res, token, `/unsubscribe/${token}/${scope}/${id}`, { title: subscribed ? 'Unsubscribe' : 'You are already unsubscribed', email: subscriber.email, lists, state: subscribed ? 'ask' : 'already' });
    });

    router.post(path, smallForm, async (req, res) => {
      const { token, id } = req.params as { token: string; id: string };
      const subscriber = await findSubscriber(token);
      if (!subscriber) return invalidLink(res);
      const lists = await scopeLists(scope, id, subscriber.id);
      // No list to leave (an unknown campaign or list): the one-click POST still unsubscribes, from
      // everything, as the plain link does; the person-level page then says where they stand.
      if (lists.length === 0) {
        await unsubscribeFromEverything(db, subscriber.id);
        return res.redirect(303, `/unsubscribe/${token}`);
      }
      const { touchedCampaigns } = await db.$transaction((tx) => unsubscribeFromLists(tx, subscriber.id, lists.map((list) => list.id)));
      await finishCampaigns(db, touchedCampaigns);
      page(res, token, `/unsubscribe/${token}/${scope}/${id}`, {
        title: 'You are unsubscribed',
        email: subscriber.email,
        lists: lists.map((list) => ({ ...list, subscribed: false })),
        state: 'done',
      });
    });
  }

  return router;
}
