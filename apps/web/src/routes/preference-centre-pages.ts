import express from 'express';
import type { Response, Router } from 'express';
import { z } from 'zod';
import { enqueueWelcomeEmails, unsubscribeFromEverything } from '@herald/shared';
import type { Db, Queues } from '@herald/shared';
import type { WebConfig } from '../config.js';
import { fieldErrors } from '../http/field-errors.js';
import { enqueueOrDefer } from '../jobs/enqueue-or-defer.js';
import { exportSubscriberData } from '../subscribers/export-subscriber-data.js';
import { findByUnsubscribeToken as findSubscriberByUnsubscribeToken } from '../subscribers/find-by-unsubscribe-token.js';
import { mayJoin, preferenceLists, savePreferences } from '../subscribers/preference-centre.js';
import { signupInput } from '../subscribers/signup-schema.js';

const maxListsOnPage = 500;
const listIds = z
  .union([z.string(), z.array(z.string())])
  .optional()
  .transform((value) => (value === undefined ? [] : Array.isArray(value) ? value : [value]))
  .pipe(z.array(z.uuid({ error: 'lists are list ids' })).max(maxListsOnPage, 'too many lists'));
const preferencesForm = z.object({ name: signupInput.shape.name, shown: listIds, lists: listIds });

type Notice = { kind: 'saved' | 'problem'; text: string };

/**
 * The preference centre, `/preferences/:token`: the unsubscribe token is the capability, as on the
 * unsubscribe page. A GET only shows (link scanners follow GETs); a POST changes, needs no session
 * and no CSRF token, like the one-click unsubscribe: a cross-site post would have to carry the
 * person's unguessable token, which is what proves the request comes from their mailbox.
 */
export function preferenceCentreRoutes(router: Router, { db, queues, config }: { db: Db; queues: Queues; config: WebConfig }): void {
  const form = express.urlencoded({ limit: '32kb', extended: false, parameterLimit: maxListsOnPage * 2 + 10 });
  const name = config.newsletterName;

  const render = async (res: Response, token: string, subscriberId: string, status: number, notice?: Notice, errors: Record<string, string> = {}) => {
    // Re-read after any change, so the page shows what is stored.
    const person = await db.subscriber.findUnique({ where: { id: subscriberId }, select: { email: true, name: true, status: true } });
    if (!person) return notFound(res);
    const lists = await preferenceLists(db, subscriberId);
    res.set('Cache-Control', 'no-store');
    res.status(status).render('preferences', {
      title: 'Your subscriptions',
      person,
      lists,
      mayJoin: mayJoin(person.status),
      everything: person.status === 'unsubscribed',
      action: `/preferences/${token}`,
      unsubscribeAction: `/preferences/${token}/unsubscribe`,
      exportUrl: `/preferences/${token}/data.json`,
      notice,
      errors,
    });
  };
  const notFound = (res: Response) =>
    res.status(404).render('link-problem', { title: 'This link is not valid', message: 'We could not find a subscription for this link.' });

  router.get('/preferences/:token', async (req, res) => {
    const subscriber = await findSubscriberByUnsubscribeToken(db, req.params.token);
    if (!subscriber) return notFound(res);
    await render(res, req.params.token, subscriber.id, 200);
  });

  router.post('/preferences/:token', form, async (req, res) => {
    const subscriber = await findSubscriberByUnsubscribeToken(db, req.params.token);
    if (!subscriber) return notFound(res);
    const parsed = preferencesForm.safeParse(req.body ?? {});
    if (!parsed.success) {
      return render(res, req.params.token, subscriber.id, 422, { kind: 'problem', text: 'Nothing was changed: some fields need attention.' }, fieldErrors(parsed.error));
    }
    // A form posted without the name field (a script, an older page) leaves the name as it is.
    const chosenName = typeof req.body === 'object' && req.body !== null && 'name' in req.body ? parsed.data.name : undefined;
    const saved = await savePreferences(db, subscriber.id, { name: chosenName, shown: parsed.data.shown, ticked: parsed.data.lists });
    if (saved.outcome === 'unknown') return notFound(res);
    if (saved.outcome === 'suppressed') {
      return render(res, req.params.token, subscriber.id, 409, { kind: 'problem', text: suppressedText(subscriber.email, name) });
    }
    if (saved.welcomeEmailIds.length > 0) {
      await enqueueOrDefer('welcome email', () => enqueueWelcomeEmails(queues, saved.welcomeEmailIds), req.log);
    }
    await render(res, req.params.token, subscriber.id, 200, { kind: 'saved', text: 'Your choices are saved.' });
  });

  router.post('/preferences/:token/unsubscribe', form, async (req, res) => {
    const subscriber = await findSubscriberByUnsubscribeToken(db, req.params.token);
    if (!subscriber) return notFound(res);
    await unsubscribeFromEverything(db, subscriber.id);
    await render(res, req.params.token, subscriber.id, 200, { kind: 'saved', text: `You are unsubscribed from everything: ${subscriber.email} receives no more emails from ${name}.` });
  });

  // The person's own data (a GDPR access request), as a download. Reading it changes nothing.
  router.get('/preferences/:token/data.json', async (req, res) => {
    const subscriber = await findSubscriberByUnsubscribeToken(db, req.params.token);
    if (!subscriber) return notFound(res);
    const data = await exportSubscriberData(db, subscriber.id);
    if (!data) return notFound(res);
    res.set('Cache-Control', 'no-store');
    res.attachment('my-subscription-data.json');
    res.type('application/json').send(`${JSON.stringify(data, null, 2)}\n`);
  });
}

function suppressedText(email: string, newsletterName: string): string {
  return `Nothing was changed: ${email} cannot join lists again here. Earlier emails to it could not be delivered or were reported as unwanted, so ${newsletterName} sends it nothing until the address is cleared by the newsletter's team.`;
}
