import express, { Router } from 'express';
import type { NextFunction, Request, Response } from 'express';
import type { WebDeps } from '../deps.js';
import { jsonBody } from '../http/json-body.js';
import { HttpError, errorBody } from '../http/http-error.js';
import { fieldErrors } from '../http/field-errors.js';
import { signupRequest } from '../subscribers/signup-schema.js';
import { createSignupIntake } from '../subscribers/signup-intake.js';
import { createListDirectory, resolveSignupLists } from '../subscribers/signup-lists.js';
import type { OfferedList } from '../subscribers/signup-lists.js';
import type { SignupList } from '../subscribers/register-subscriber.js';

const bodyLimit = '100kb';
const acceptedTypes = ['application/json', 'application/x-www-form-urlencoded'];
const listSlugShape = /^[a-z0-9]+(-[a-z0-9]+)*$/;

const confirmFirst = 'Thanks! Check your inbox for an email to confirm your subscription.';
const subscribedNow = 'Thanks! You are subscribed.';

type FormValues = { email?: string; name?: string; lists?: string[]; redirect?: string };

/**
 * The public signup forms: `GET /` and `POST /register` (form or JSON) for the public lists, and
 * `GET/POST /l/:slug` for one list, which an operator links to or embeds on their own site (a plain
 * form that posts here, its `redirect` field honoured only for SIGNUP_REDIRECT_ORIGINS).
 *
 * Like every public form here they take no CSRF token: a signup needs none (it proves nothing
 * about the person posting, and only the emailed confirmation makes a double opt-in subscription
 * count), and that is what lets a form on another site post to them.
 */
export function signupRoutes({ db, queues, config, logger }: WebDeps): Router {
  const router = Router();
  const recordSignup = createSignupIntake({ db, queues, logger });
  const directory = createListDirectory(db, { doubleOptIn: config.doubleOptIn });
  const thanks = (lists: SignupList[]) => (lists.some((list) => list.doubleOptIn) ? confirmFirst : subscribedNow);

  const renderForm = (res: Response, status: number, offered: OfferedList[], values: FormValues, errors: Record<string, string>, list?: OfferedList) => {
    res.status(status).render('signup', {
      title: list ? `Subscribe to ${list.name}` : 'Subscribe',
      action: list ? `/l/${list.slug}` : '/register',
      // One list: no checkbox, as it always was.
      lists: list || offered.length < 2 ? [] : offered,
      list,
      checked: new Set(values.lists && values.lists.length > 0 ? values.lists : offered.filter((entry) => entry.isDefault).map((entry) => entry.slug)),
      values,
      errors,
    });
  };

  const onlyFormsAndJson = (req: Request, _res: Response, next: NextFunction) => {
    if (!req.is(acceptedTypes)) {
      throw new HttpError(415, 'unsupported_media_type', 'Send the form, or JSON with Content-Type: application/json.');
    }
    next();
  };
  const bodies = [onlyFormsAndJson, jsonBody(bodyLimit), // Email, name, redirect and a checkbox per public list: a form with more fields than that is refused (413).
    express.urlencoded({ limit: bodyLimit, extended: false, parameterLimit: 40 }),];

  router.get('/', async (_req, res) => {
    renderForm(res, 200, await directory.joinable(), {}, {});
  });

  router.post('/register', ...bodies, async (req: Request, res: Response) => {
    const asJson = Boolean(req.is('json'));
    const body = asJson ? req.body : formBody(req.body);
    const parsed = signupRequest.safeParse(body ?? {});
    const offered = await directory.joinable();
    if (!parsed.success) {
      const fields = fieldErrors(parsed.error);
      if (asJson) res.status(400).json(errorBody('invalid_request', 'Some fields need attention.', fields));
      else renderForm(res, 400, offered, formValues(req.body), fields);
      return;
    }
    // A JSON client is told which list it cannot join; the form ignores a list it was not offered.
    const refs = asJson ? parsed.data.lists : parsed.data.lists.filter((ref) => offered.some((list) => list.slug === ref || list.id === ref));
    const resolved = resolveSignupLists(offered, refs);
    if (!resolved.ok) {
      const message = resolved.refused.length > 0 ? `No public list to join: ${resolved.refused.join(', ')}.` : 'Choose a list to join.';
      if (asJson) res.status(422).json(errorBody('invalid_request', 'Some fields need attention.', { lists: message }));
      else renderForm(res, 422, offered, formValues(req.body), { lists: message });
      return;
    }

    await recordSignup({ input: parsed.data, lists: resolved.lists, source: asJson ? 'api' : 'form', publicOnly: true });

    if (asJson) res.status(202).json({ status: 'received', message: thanks(resolved.lists) });
    else res.render('message', { title: 'Almost there', message: thanks(resolved.lists), backToSignup: true });
  });

  /** A public list by slug, or the 404 page (private, archived and unknown lists alike). */
  const publicList = async (slug: string): Promise<OfferedList | undefined> => {
    if (!listSlugShape.test(slug) || slug.length > 64) return undefined;
    return (await directory.joinable()).find((list) => list.slug === slug);
  };
  const noSuchList = (res: Response) =>
    res.status(404).render('link-problem', { title: 'There is no such list', message: 'This signup form does not exist, or no longer takes signups.' });

  router.get('/l/:slug', async (req, res) => {
    const list = await publicList(req.params.slug);
    if (!list) return noSuchList(res);
    renderForm(res, 200, [list], {}, {}, list);
  });

  router.post('/l/:slug', ...bodies, async (req: Request, res: Response) => {
    const list = await publicList(String(req.params.slug));
    if (!list) return noSuchList(res);
    const asJson = Boolean(req.is('json'));
    const raw = (typeof req.body === 'object' && req.body !== null ? req.body : {}) as Record<string, unknown>;
    const parsed = signupRequest.safeParse({ email: raw.email, name: raw.name });
    if (!parsed.success) {
      const fields = fieldErrors(parsed.error);
      if (asJson) res.status(400).json(errorBody('invalid_request', 'Some fields need attention.', fields));
      else renderForm(res, 400, [list], formValues(req.body), fields, list);
      return;
    }
    const lists = [{ id: list.id, doubleOptIn: list.doubleOptIn }];
    await recordSignup({ input: parsed.data, lists, source: asJson ? 'api' : 'form', publicOnly: true });

    if (asJson) return res.status(202).json({ status: 'received', message: thanks(lists) });
    const target = allowedRedirect(raw.redirect, config.signupRedirectOrigins);
    if (target) return res.redirect(303, target);
    res.render('message', { title: 'Almost there', message: thanks(lists), backToSignup: true });
  });

  return router;
}

/**
 * The `redirect` of an embedded form, when its origin is one the operator allowed; otherwise null
 * (the person gets Herald's own page: an open redirect would lend Herald's name to phishing).
 */
export function allowedRedirect(value: unknown, origins: readonly string[]): string | null {
  if (typeof value !== 'string' || value.length === 0 || value.length > 2_000) return null;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return null;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return null;
  if (url.username || url.password) return null;
  return origins.includes(url.origin) ? url.href : null;
}

/** The form's fields as the schema takes them: `lists` is one value or many checkboxes. */
function formBody(body: unknown): Record<string, unknown> {
  const source = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const lists = source.lists === undefined ? undefined : Array.isArray(source.lists) ? source.lists : [source.lists];
  return { email: source.email, name: source.name, lists };
}

/** What the person typed, echoed back into the re-rendered form (EJS escapes it). */
function formValues(body: unknown): FormValues {
  const source = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const text = (value: unknown) => (typeof value === 'string' ? value.slice(0, 300) : undefined);
  const lists = (Array.isArray(source.lists) ? source.lists : [source.lists]).map(text).filter((value): value is string => Boolean(value));
  return { email: text(source.email), name: text(source.name), lists, redirect: text(source.redirect) };
}
