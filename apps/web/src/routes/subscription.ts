import express, { Router } from 'express';
import type { Response } from 'express';
import { suppressSubscribers } from '@herald/shared';
import type { WebDeps } from '../deps.js';
import { confirmSubscription, inspectConfirmToken } from '../subscribers/confirm-subscription.js';

const unsubscribeTokenShape = /^[0-9a-f]{64}$/;

function invalidLink(res: Response, status: 404 | 410, title: string, message: string): void {
  res.status(status).render('link-problem', { title, message });
}

/**
 * The public pages behind links in emails. A GET only ever shows a page with a button: link scanners
 * follow GETs, so only the POST confirms or unsubscribes.
 */
export function subscriptionRoutes({ db }: WebDeps): Router {
  const router = Router();
  // Mail clients' one-click POST carries `List-Unsubscribe=One-Click`; the page's form posts nothing else.
  const smallForm = express.urlencoded({ limit: '2kb', extended: false, parameterLimit: 5 });

  router.get('/confirm/:token', async (req, res) => {
    const state = await inspectConfirmToken(db, req.params.token);
    if (state === 'valid') {
      res.render('confirm', { title: 'Confirm your subscription', action: req.originalUrl });
    } else if (state === 'expired') {
      invalidLink(res, 410, 'This link has expired', 'Confirmation links work for 7 days. Sign up again and we will send a fresh one.');
    } else {
      invalidLink(res, 404, 'This link is not valid', 'It may have been used already. If you are not subscribed yet, sign up again.');
    }
  });

  router.post('/confirm/:token', smallForm, async (req, res) => {
    const outcome = await confirmSubscription(db, req.params.token);
    if (outcome === 'confirmed') {
      res.render('message', { title: 'You are subscribed', message: 'Thanks for confirming. The next issue will come to your inbox.' });
    } else if (outcome === 'expired') {
      invalidLink(res, 410, 'This link has expired', 'Confirmation links work for 7 days. Sign up again and we will send a fresh one.');
    } else {
      invalidLink(res, 404, 'This link is not valid', 'It may have been used already. If you are not subscribed yet, sign up again.');
    }
  });

  router.get('/unsubscribe/:token', async (req, res) => {
    const subscriber = await findByUnsubscribeToken(req.params.token);
    if (!subscriber) {
      invalidLink(res, 404, 'This link is not valid', 'We could not find a subscription for this link.');
      return;
    }
    res.render('unsubscribe', { title: 'Unsubscribe', email: subscriber.email, action: req.originalUrl });
  });

  // RFC 8058 one-click target: no session, no CSRF token (the unguessable token is the credential),
  // idempotent, 200 every time for a known token.
  router.post('/unsubscribe/:token', smallForm, async (req, res) => {
    const subscriber = await findByUnsubscribeToken(req.params.token);
    if (!subscriber) {
      invalidLink(res, 404, 'This link is not valid', 'We could not find a subscription for this link.');
      return;
    }
    await suppressSubscribers(db, [subscriber.id], 'unsubscribed');
    res.render('message', { title: 'You are unsubscribed', message: `${subscriber.email} will receive no more newsletters.` });
  });

  function findByUnsubscribeToken(token: string) {
    if (!unsubscribeTokenShape.test(token)) return null;
    return db.subscriber.findUnique({ where: { unsubscribeToken: token }, select: { id: true, email: true } });
  }

  return router;
}
