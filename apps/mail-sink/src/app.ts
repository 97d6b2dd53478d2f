import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import ejs from 'ejs';
import express, { type ErrorRequestHandler, type Express, type Response } from 'express';
import type { Logger } from 'pino';
import { z } from 'zod';
import { createFaults, type FaultResponse, type Faults } from './faults.js';
import type { EventWebhookConfig } from './config.js';
import { createEventPlanner } from './event-plan.js';
import { createEventReporter, type EventReporter, type EventReporterOptions } from './event-reporter.js';
import { webhookCatcher } from './webhook-catcher.js';
import { createInbox, DEFAULT_INBOX_LIMIT, type Inbox } from './inbox.js';
import { listRecipients } from './mail-send-request.js';
import { listPersonalizationRecipients } from './received-message.js';
import { createErrorBody, INVALID_GRANT_MESSAGE, type SendGridError } from './sendgrid-error.js';
import { createStats, type Stats } from './stats.js';
import { validateMailSend } from './validate.js';

export type MailSinkOptions = {
  /** The only key accepted as `Authorization: Bearer <apiKey>`. */
  apiKey: string;
  inboxLimit?: number;
  logger?: Pick<Logger, 'error' | 'warn'>;
  /** Reports SendGrid's events for every accepted message; without it the sink reports none. */
  events?: EventWebhookConfig & Omit<EventReporterOptions, 'url' | 'signingKey' | 'planEvents'>;
};

export type MailSink = { app: Express; inbox: Inbox; faults: Faults; stats: Stats; events: EventReporter | null; reset(): void };

const MAIL_SEND_PATH = '/v3/mail/send';
// SendGrid refuses mail-send bodies over 30 MB with 413.
const MAIL_SEND_BODY_LIMIT = '30mb';
const INBOX_PAGE_SIZE = 500;
// Scripts are off everywhere; email HTML may style itself and load images, as a mail client would.
const PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src http: https: data:; frame-ancestors 'none'";
const VIEWS_DIR = fileURLToPath(new URL('../views/', import.meta.url));

/** Builds the fake SendGrid API and dev inbox; it never listens (see `startMailSink`). */
export function createMailSink(options: MailSinkOptions): MailSink {
  const inbox = createInbox(options.inboxLimit ?? DEFAULT_INBOX_LIMIT);
  const faults = createFaults();
  const stats = createStats();
  const events = options.events ? createReporter(options.events, options.logger) : null;
  const expectedAuthorization = digest(`Bearer ${options.apiKey}`);

  const app = express();
  app.disable('x-powered-by');
  app.engine('ejs', ejs.renderFile);
  app.set('view engine', 'ejs');
  app.set('views', VIEWS_DIR);

  // Any content type is parsed: the client always sends JSON, and a body that fails to parse is a 400 anyway.
  app.post(MAIL_SEND_PATH, express.json({ limit: MAIL_SEND_BODY_LIMIT, type: () => true }), async (req, res) => {
    stats.recordRequest(listRecipients(req.body));
    // Latency comes first and the message is still stored if the client gave up meanwhile: like SendGrid
    // after a client timeout, the outcome is ambiguous to the caller.
    const { latencyMs } = faults.get();
    if (latencyMs > 0) await sleep(latencyMs);

    if (!isAuthorized(req.get('authorization'), expectedAuthorization)) {
      return replyFault(res, { status: 401, headers: {}, body: createErrorBody(INVALID_GRANT_MESSAGE) });
    }
    const fault = faults.takeFault();
    if (fault) return replyFault(res, fault);

    const result = validateMailSend(req.body);
    if (!result.ok) return replyErrors(res, 400, result.errors);
    const rejected = faults.findRejectedRecipients(result.request);
    if (rejected.length > 0) return replyErrors(res, 400, rejected);

    // Sandbox mode validates and answers 200 without sending, so nothing reaches the inbox.
    if (result.request.mail_settings?.sandbox_mode?.enable === true) {
      stats.recordStatus(200);
      return res.status(200).end();
    }
    // One X-Message-Id for the whole request; the inbox holds one message per personalization.
    const messageId = createMessageId();
    const received = inbox.add(messageId, result.request);
    events?.report(received);
    const { personalizations } = result.request;
    stats.recordAccepted(personalizations.length, personalizations.reduce((sum, p) => sum + listPersonalizationRecipients(p).length, 0));
    stats.recordStatus(202);
    res.status(202).set('X-Message-Id', messageId).end();
  });

  // `?to=` finds a recipient's own messages; `?messageId=` (an X-Message-Id) every message of one request.
  app.get('/api/messages', (req, res) => {
    const { to, messageId } = req.query;
    let messages = typeof messageId === 'string' ? inbox.findByMessageId(messageId) : null;
    if (typeof to === 'string') {
      const wanted = to.toLowerCase();
      messages = messages ? messages.filter((message) => message.recipients.includes(wanted)) : inbox.findByRecipient(to);
    }
    res.json(messages ?? inbox.list());
  });
  app.get('/api/messages/:id', (req, res) => {
    const message = inbox.get(req.params.id);
    if (message) res.json(message);
    else res.status(404).json(createErrorBody('No message with this id.', 'id'));
  });
  app.delete('/api/messages', (_req, res) => {
    inbox.clear();
    res.status(204).end();
  });

  app.use(webhookCatcher());

  app.get('/api/faults', (_req, res) => {
    res.json(faults.get());
  });
  app.put('/api/faults', express.json(), (req, res) => {
    try {
      res.json(faults.replace(req.body ?? {}));
    } catch (error) {
      if (!(error instanceof z.ZodError)) throw error;
      res.status(400).json({ errors: error.issues.map((issue) => ({ message: issue.message, field: issue.path.join('.') || null, help: null })) });
    }
  });
  app.delete('/api/faults', (_req, res) => {
    faults.reset();
    res.status(204).end();
  });

  app.get('/api/stats', (_req, res) => {
    // `events` only when reporting, so a sink without a webhook answers exactly as before.
    res.json(events ? { ...stats.get(), events: events.stats() } : stats.get());
  });
  app.delete('/api/stats', (_req, res) => {
    stats.reset();
    events?.resetStats();
    res.status(204).end();
  });

  app.get('/', (req, res) => {
    const to = typeof req.query.to === 'string' && req.query.to !== '' ? req.query.to : null;
    const messages = (to ? inbox.findByRecipient(to) : inbox.list()).reverse();
    res.set('Content-Security-Policy', PAGE_CSP);
    res.render('inbox', { to, total: messages.length, messages: messages.slice(0, INBOX_PAGE_SIZE) });
  });
  app.get('/messages/:id', (req, res) => {
    const message = inbox.get(req.params.id);
    res.set('Content-Security-Policy', PAGE_CSP);
    if (!message) return res.status(404).render('not-found');
    // Links open in a new tab; the sandbox still forbids scripts, forms and same-origin access.
    const htmlDocument = message.html === null ? null : `<base target="_blank">${message.html}`;
    res.render('message', { message, htmlDocument, requestJson: JSON.stringify(message.request, elideAttachments, 2) });
  });

  const handleError: ErrorRequestHandler = (error: { status?: unknown; type?: unknown }, req, res, _next) => {
    const status = typeof error.status === 'number' && error.status >= 400 && error.status < 500 ? error.status : 500;
    if (status === 500) options.logger?.error({ err: error, path: req.path }, 'mail sink request failed');
    const message =
      error.type === 'entity.parse.failed' ? 'The request body is not valid JSON.'
      : status === 413 ? 'The request body is larger than 30 MB.'
      : status === 500 ? 'Internal server error'
      : 'Bad Request';
    // Bodies the parser refused never reached the route, which counts every other request.
    if (req.path === MAIL_SEND_PATH && typeof error.type === 'string') stats.recordRequest([]);
    // The unread rest of an oversize body is still on the socket: close it rather than let the
    // client reuse a connection the server is about to reset.
    if (status === 413) res.set('Connection', 'close');
    replyErrors(res, status, [{ message, field: null, help: null }]);
  };
  app.use(handleError);

  function replyErrors(res: Response, status: number, errors: SendGridError[]): void {
    replyFault(res, { status, headers: {}, body: { errors } });
  }

  function replyFault(res: Response, fault: FaultResponse): void {
    if (res.req.path === MAIL_SEND_PATH) stats.recordStatus(fault.status);
    res.status(fault.status).set(fault.headers);
    if (typeof fault.body === 'string') res.type('html').send(fault.body);
    else res.json(fault.body);
  }

  function reset(): void {
    inbox.clear();
    faults.reset();
    stats.reset();
    events?.resetStats();
  }

  return { app, inbox, faults, stats, events, reset };
}

function createReporter(config: NonNullable<MailSinkOptions['events']>, logger: MailSinkOptions['logger']): EventReporter {
  const { url, signingKey, rates, delayMs, bouncePattern, seed, ...reporterOptions } = config;
  const planEvents = createEventPlanner({ rates, delayMs, bouncePattern, ...(seed === undefined ? {} : { seed }) });
  return createEventReporter({ url, signingKey, planEvents, ...reporterOptions, ...(logger ? { logger } : {}) });
}

/** Keeps the page small when a message carries attachments (base64 `content` strings). */
function elideAttachments(key: string, value: unknown): unknown {
  return key === 'content' && typeof value === 'string' ? `[${value.length} base64 characters]` : value;
}

/** Compares digests so the comparison takes the same time whatever the length or content of the header. */
function isAuthorized(header: string | undefined, expected: Buffer): boolean {
  return header !== undefined && timingSafeEqual(digest(header), expected);
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** 22 URL-safe characters, the length of SendGrid's current ids. */
function createMessageId(): string {
  return randomBytes(16).toString('base64url');
}
