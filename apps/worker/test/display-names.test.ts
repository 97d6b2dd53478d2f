import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { findDisplayNameProblem, toDisplayName, toRecipient } from '../src/mail/display-name.js';
import { postSend } from '../../../test/support/factories.js';
import { createStack, waitFor } from '../../../test/support/stack.js';
import type { Stack } from '../../../test/support/stack.js';

describe('display names on the envelope', () => {
  it('replaces the characters SendGrid refuses and keeps everything else', () => {
    expect(toDisplayName('Doe, Jane')).toBe('Doe Jane');
    expect(toDisplayName('A;B ; C')).toBe('A B C');
    expect(toDisplayName('Line\r\nBreak\tTab')).toBe('Line Break Tab');
    expect(toDisplayName('Zoë <Ada> "Q" O\'Neil')).toBe('Zoë <Ada> "Q" O\'Neil');
    expect(toDisplayName(',;')).toBeUndefined();
    expect(toDisplayName('')).toBeUndefined();
    expect(toDisplayName(null)).toBeUndefined();
  });

  it('drops a name that is left empty, keeping the address', () => {
    expect(toRecipient({ email: 'a@example.com', name: ' , ' })).toEqual({ email: 'a@example.com' });
    expect(toRecipient({ email: 'a@example.com', name: 'Doe, Jane' })).toEqual({ email: 'a@example.com', name: 'Doe Jane' });
  });

  it('names what is wrong with a sender name', () => {
    expect(findDisplayNameProblem('Herald News')).toBeUndefined();
    expect(findDisplayNameProblem('News, Weekly')).toMatch(/","/);
    expect(findDisplayNameProblem('News\nWeekly')).toMatch(/control/);
  });
});

describe('MAIL_FROM at boot', () => {
  const env = { DATABASE_URL: 'postgresql://postgres@127.0.0.1:5432/herald', SENDGRID_API_KEY: 'SG.x' };

  it('refuses a display name SendGrid would refuse, saying why', () => {
    expect(() => loadConfig({ ...env, MAIL_FROM: '"Herald, Weekly" <news@example.com>' })).toThrowError(/MAIL_FROM: the display name may not contain "," or ";"/);
    expect(() => loadConfig({ ...env, MAIL_FROM: 'Herald; Weekly <news@example.com>' })).toThrowError(/MAIL_FROM: the display name may not contain/);
  });

  it('cleans the newsletter name where it stands in for a sender name', () => {
    expect(loadConfig({ ...env, NEWSLETTER_NAME: 'News, Views; More', MAIL_FROM: 'news@example.com' }).mail.from).toEqual({ email: 'news@example.com', name: 'News Views More' });
    expect(loadConfig({ ...env, NEWSLETTER_NAME: 'News, Views', MAIL_FROM: 'Herald <news@example.com>' }).mail.from).toEqual({ email: 'news@example.com', name: 'Herald' });
  });

  it('refuses a Unicode from address and accepts a Unicode display name', () => {
    expect(() => loadConfig({ ...env, MAIL_FROM: 'Herald <nöws@example.com>' })).toThrowError(/MAIL_FROM: the address must be plain ASCII/);
    expect(loadConfig({ ...env, MAIL_FROM: 'Hérald Wöchentlich <news@example.com>' }).mail.from).toEqual({ email: 'news@example.com', name: 'Hérald Wöchentlich' });
  });
});

describe('a subscriber named "Doe, Jane"', () => {
  let stack: Stack;
  beforeEach(async () => {
    stack = await createStack();
  });
  afterEach(async () => {
    await stack.close();
  });

  it('gets her confirmation and the newsletter, greeted as "Doe, Jane"', async () => {
    await stack.startWorker();
    await request(stack.web.app).post('/register').type('form').send({ email: 'jane@example.com', name: 'Doe, Jane' }).expect(200);
    const confirmation = await waitFor('the confirmation email', () => stack.sink.inbox.findByRecipient('jane@example.com').at(-1));
    // The sink refuses `,` in to.name as SendGrid does, so this email exists only because the envelope name was cleaned.
    expect(confirmation.request.personalizations[0]?.to[0]).toEqual({ email: 'jane@example.com', name: 'Doe Jane' });
    const link = /http:\/\/herald\.test(\/confirm\/[A-Za-z0-9_-]+)/.exec(confirmation.text ?? '')?.[1];
    expect(link).toBeDefined();
    await request(stack.web.app).post(link!).expect(200);

    const subscriber = await stack.web.db.subscriber.findUniqueOrThrow({ where: { email: 'jane@example.com' } });
    expect(subscriber).toMatchObject({ status: 'active', name: 'Doe, Jane' });

    const res = await postSend(stack.web.app).expect(202);
    const newsletter = await waitFor('the newsletter', () =>
      stack.sink.inbox.findByRecipient('jane@example.com').find((message) => message.customArgs.herald_delivery_id === res.body.tasks[0]),
    );
    expect(newsletter.subject).toBe('Hello Doe, Jane');
    expect(newsletter.html).toContain('Dear Doe, Jane, this goes to jane@example.com.');
    expect(newsletter.text).toContain('Dear Doe, Jane, this goes to jane@example.com.');
    expect(newsletter.request.personalizations[0]?.to[0]).toEqual({ email: 'jane@example.com', name: 'Doe Jane' });
    // The sink holds the message before the worker records SendGrid's answer.
    await waitFor('the delivery marked sent', async () => (await stack.web.db.delivery.findUniqueOrThrow({ where: { id: res.body.tasks[0] } })).status === 'sent');
    expect(stack.sink.stats.get().byStatus).toEqual({ 202: 2 });
  });
});
