import express, { Router } from 'express';
import type { Request, Response } from 'express';
import type { WebDeps } from '../deps.js';
import { jsonBody } from '../http/json-body.js';
import { HttpError, errorBody } from '../http/http-error.js';
import { fieldErrors } from '../http/field-errors.js';
import { signupInput } from '../subscribers/signup-schema.js';
import { createSignupIntake } from '../subscribers/signup-intake.js';

const bodyLimit = '100kb';
const acceptedTypes = ['application/json', 'application/x-www-form-urlencoded'];

/** The public signup form: `GET /` and `POST /register` (form or JSON). */
export function signupRoutes({ db, queues, config, logger }: WebDeps): Router {
  const router = Router();
  const recordSignup = createSignupIntake({ db, queues, logger });
  const thanks = config.doubleOptIn
    ? 'Thanks! Check your inbox for an email to confirm your subscription.'
    : 'Thanks! You are subscribed.';

  router.get('/', (_req, res) => {
    res.render('signup', { title: 'Subscribe', values: {}, errors: {} });
  });

  router.post(
    '/register',
    (req, _res, next) => {
      if (!req.is(acceptedTypes)) {
        throw new HttpError(415, 'unsupported_media_type', 'Send the form, or JSON with Content-Type: application/json.');
      }
      next();
    },
    jsonBody(bodyLimit),
    express.urlencoded({ limit: bodyLimit, extended: false, parameterLimit: 20 }),
    async (req: Request, res: Response) => {
      const asJson = Boolean(req.is('json'));
      const parsed = signupInput.safeParse(req.body ?? {});
      if (!parsed.success) {
        const fields = fieldErrors(parsed.error);
        if (asJson) {
          res.status(400).json(errorBody('invalid_request', 'Some fields need attention.', fields));
        } else {
          res.status(400).render('signup', { title: 'Subscribe', values: formValues(req.body), errors: fields });
        }
        return;
      }

      await recordSignup({ input: parsed.data, doubleOptIn: config.doubleOptIn, source: asJson ? 'api' : 'form' });

      if (asJson) res.status(202).json({ status: 'received', message: thanks });
      else res.render('message', { title: 'Almost there', message: thanks, backToSignup: true });
    },
  );

  return router;
}

/** What the person typed, echoed back into the re-rendered form (EJS escapes it). */
function formValues(body: unknown): { email?: string; name?: string } {
  const source = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const text = (value: unknown) => (typeof value === 'string' ? value.slice(0, 300) : undefined);
  return { email: text(source.email), name: text(source.name) };
}
