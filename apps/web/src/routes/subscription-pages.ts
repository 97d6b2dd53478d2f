import express, { Router } from 'express';
import type { Response } from 'express';
import { enqueueJob, enqueueWelcomeEmails, jobs, unsubscribeFromEverything } from '@herald/shared';
import type { SubscriberStatus } from '@herald/shared';
import type { WebDeps } from '../deps.js';
import { enqueueOrDefer } from '../jobs/enqueue-or-defer.js';
import { confirmSubscription, inspectConfirmToken } from '../subscribers/confirm-subscription.js';
import { findByUnsubscribeToken as findSubscriberByUnsubscribeToken } from '../subscribers/find-by-unsubscribe-token.js';
import { resubscribe } from '../subscribers/resubscribe.js';
import { preferenceCentreRoutes } from './preference-centre-pages.js';

function invalidLink(res: Response, status: 404 | 409 | 410, title: string, message: string): void {
  res.status(status).render('link-problem', { title, message });
}

const expiredLink = 'Confirmation links work for 7 days. Sign up again and we will send a fresh one.';
const unknownConfirmLink = 'It may have been used already. If you are not subscribed yet, sign up again.';
const unknownUnsubscribeLink = 'We could not find a subscription for this link.';

/**
 * The public pages behind links in emails. A GET only ever shows a page with a button: link scanners
 * follow GETs, so only a POST confirms, unsubscribes or subscribes again.
 *
 * Each page tells the holder of the link where their own subscription stands (already confirmed,
 * already unsubscribed); the links carry unguessable tokens, so no page says anything about an
 * address someone merely typed.
 */
export function subscriptionPageRoutes({ db, queues, config }: WebDeps): Router {
  const router = Router();
  const name = config.newsletterName;
  // Mail clients' one-click POST carries `List-Unsubscribe=One-Click`; the pages' forms post nothing else.
  const smallForm = express.urlencoded({ limit: '2kb', extended: false, parameterLimit: 5 });

  const alreadyConfirmed = (res: Response) =>
    res.render('message', {
      title: 'You are already subscribed',
      message: `This link has already confirmed your subscription to ${name}. There is nothing more to do.`,
    });

  router.get('/confirm/:token', async (req, res) => {
    const state = await inspectConfirmToken(db, req.params.token);
    if (state === 'valid') {
      res.render('confirm', { title: 'Confirm your subscription', action: req.originalUrl });
    } else if (state === 'already-confirmed') {
      alreadyConfirmed(res);
    } else if (state === 'expired') {
      invalidLink(res, 410, 'This link has expired', expiredLink);
    } else {
      invalidLink(res, 404, 'This link is not valid', unknownConfirmLink);
    }
  });

  router.post('/confirm/:token', smallForm, async (req, res) => {
    const { outcome, welcomeEmailIds } = await confirmSubscription(db, req.params.token);
    if (welcomeEmailIds.length > 0) await enqueueOrDefer('welcome email', () => enqueueWelcomeEmails(queues, welcomeEmailIds), req.log);
    if (outcome === 'confirmed') {
      res.render('message', { title: 'You are subscribed', message: `Thanks for confirming. The next issue of ${name} will come to your inbox.` });
    } else if (outcome === 'already-confirmed') {
      alreadyConfirmed(res);
    } else if (outcome === 'expired') {
      invalidLink(res, 410, 'This link has expired', expiredLink);
    } else {
      invalidLink(res, 404, 'This link is not valid', unknownConfirmLink);
    }
  });

  /** The page for someone who receives nothing any more, with "subscribe again" where allowed. */
  const stopped = (res: Response, token: string, subscriber: { email: string; status: SubscriberStatus }, justNow: boolean) => {
    if (subscriber.status === 'bounced' || subscriber.status === 'complained') {
      res.render('message', {
        title: 'This address receives no more emails',
        message: `${subscriber.email} receives nothing more from ${name}: earlier emails to it could not be delivered or were reported as unwanted, so it cannot be subscribed again from a link.`,
      });
      return;
    }
    res.render('unsubscribed', {
      title: justNow ? 'You are unsubscribed' : 'You are already unsubscribed',
      email: subscriber.email,
      resubscribeAction: `/unsubscribe/${token}/resubscribe`,
      preferencesUrl: `/preferences/${token}`,
    });
  };

  router.get('/unsubscribe/:token', async (req, res) => {
    const subscriber = await findByUnsubscribeToken(req.params.token);
    if (!subscriber) return invalidLink(res, 404, 'This link is not valid', unknownUnsubscribeLink);
    if (subscriber.status !== 'active' && subscriber.status !== 'pending') return stopped(res, req.params.token, subscriber, false);
    res.render('unsubscribe', { title: 'Unsubscribe', email: subscriber.email, action: req.originalUrl, preferencesUrl: `/preferences/${req.params.token}` });
  });

  // RFC 8058 one-click target: no session, no CSRF token (the unguessable token is the credential),
  // idempotent, 200 every time for a known token. Without a campaign in the link (a confirmation
  // email's footer, older campaign emails) it means "unsubscribe from everything".
  router.post('/unsubscribe/:token', smallForm, async (req, res) => {
    const subscriber = await findByUnsubscribeToken(req.params.token);
    if (!subscriber) return invalidLink(res, 404, 'This link is not valid', unknownUnsubscribeLink);
    const suppressed = subscriber.status === 'bounced' || subscriber.status === 'complained';
    const changed = await unsubscribeFromEverything(db, subscriber.id);
    const justNow = changed && subscriber.status !== 'unsubscribed';
    stopped(res, req.params.token, justNow && !suppressed ? { ...subscriber, status: 'unsubscribed' } : subscriber, justNow);
  });

  // "Subscribe again" goes through confirmation, as a new signup would.
  router.post('/unsubscribe/:token/resubscribe', smallForm, async (req, res) => {
    const subscriber = await findByUnsubscribeToken(req.params.token);
    if (!subscriber) return invalidLink(res, 404, 'This link is not valid', unknownUnsubscribeLink);
    const outcome = await resubscribe(db, subscriber.id);
    switch (outcome) {
      case 'confirmation-needed':
      case 'pending':
        await enqueueOrDefer('confirmation email', () => enqueueJob(queues, jobs.sendConfirmation, { subscriberId: subscriber.id }, new Date()), req.log);
        return res.render('message', {
          title: 'Check your inbox',
          message: `We sent an email to ${subscriber.email}. Confirm with the link in it and ${name} will come to your inbox again.`,
        });
      case 'already-subscribed':
        return res.render('message', { title: 'You are already subscribed', message: `${subscriber.email} receives ${name}.` });
      case 'not-allowed':
        return invalidLink(res, 409, 'This address cannot be subscribed again here', `Earlier emails to ${subscriber.email} could not be delivered or were reported as unwanted.`);
      case 'unknown':
        return invalidLink(res, 409, 'Please try again', 'Your subscription changed while we were answering. Open the link from your email again.');
    }
  });

  function findByUnsubscribeToken(token: string) {
    return findSubscriberByUnsubscribeToken(db, token);
  }

  preferenceCentreRoutes(router, { db, queues, config });
  return router;
}
