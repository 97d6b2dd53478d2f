import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { resubscribe } from '../../web/src/subscribers/resubscribe.js';
import { reconcile } from '../src/handlers/reconcile.js';
import { postSend, seedSubscribers } from '../../../test/support/factories.js';
import { useStack, jobContext, waitFor } from '../../../test/support/stack.js';
import { withoutInlineStyles } from '../../../test/support/email-css.js';

const stack = useStack({ NEWSLETTER_NAME: 'The Weekly Lantern' });

async function sentTo(email: string) {
  return waitFor(`an email to ${email}`, () => stack.sink.inbox.findByRecipient(email).at(-1));
}

describe("the newsletter's name and voice", () => {
  it('greets a person who signed up as Ann by name and names the newsletter in the confirmation email', async () => {
    await stack.startWorker({ MAIL_FROM: 'news@lantern.test' });
    await request(stack.web.app).post('/register').type('form').send({ email: 'ann@example.com', name: 'Ann' }).expect(200);
    const message = await sentTo('ann@example.com');

    expect(message.subject).toBe('Confirm your subscription to The Weekly Lantern');
    expect(withoutInlineStyles(message.html!)).toContain('<p>Hello Ann,</p>');
    expect(withoutInlineStyles(message.html!)).toContain('asked to receive The Weekly Lantern at this address');
    expect(message.text).toMatch(/^Hello Ann,\n\nSomeone, hopefully you, asked to receive The Weekly Lantern at this address\./);
    // MAIL_FROM has no display name of its own: the newsletter's name is the sender's.
    expect(message.request.from).toEqual({ email: 'news@lantern.test', name: 'The Weekly Lantern' });
    expect(message.request.personalizations[0]?.to).toEqual([{ email: 'ann@example.com', name: 'Ann' }]);
  });

  it('escapes a name in the HTML and says a plain hello when there is none', async () => {
    await stack.startWorker();
    await request(stack.web.app).post('/register').type('form').send({ email: 'tag@example.com', name: '<b>Bo</b>' }).expect(200);
    await request(stack.web.app).post('/register').type('form').send({ email: 'anon@example.com' }).expect(200);
    expect(withoutInlineStyles((await sentTo('tag@example.com')).html!)).toContain('<p>Hello &lt;b&gt;Bo&lt;/b&gt;,</p>');
    const anon = await sentTo('anon@example.com');
    expect(withoutInlineStyles(anon.html!)).toContain('<p>Hello,</p>');
    expect(anon.text).toMatch(/^Hello,\n/);
    // A display name in MAIL_FROM stays the sender's.
    expect(anon.request.from).toEqual({ email: 'news@herald.test', name: 'Herald Test' });
  });

  it('puts a "view in browser" link to the issue page in every campaign email', async () => {
    await seedSubscribers(stack.web.db, [{ email: 'ann@example.com', name: 'Ann' }]);
    await stack.startWorker();
    const res = await postSend(stack.web.app, { subject: 'Issue 1', body: '<p>Hi {{name}}</p>' }).expect(202);
    const message = await sentTo('ann@example.com');
    const url = `http://herald.test/archive/${res.body.campaignId}`;
    expect(withoutInlineStyles(message.html!)).toContain(`<a href="${url}">View in browser</a>`);
    expect(message.text).toContain(`View in browser: ${url}`);
  });
});

describe('subscribing again', () => {
  it('gets its confirmation email from the reconciler when the request could not enqueue it', async () => {
    const [ann] = await seedSubscribers(stack.web.db, [{ email: 'ann@example.com', name: 'Ann', status: 'unsubscribed' }]);
    await stack.web.db.subscriber.update({ where: { id: ann!.id }, data: { confirmationSentAt: new Date(Date.now() - 30 * 24 * 60 * 60 * 1000) } });
    // The state change alone, as when Redis was down during the request: no job was enqueued.
    expect(await resubscribe(stack.web.db, ann!.id)).toBe('confirmation-needed');
    const deps = stack.workerDeps();
    expect(await reconcile({}, jobContext(deps), deps)).toMatchObject({ confirmationsQueued: 1 });
    // Started only now: a starting worker reconciles too, which would race the call above.
    await stack.startWorker();
    const message = await sentTo('ann@example.com');
    expect(message.subject).toBe('Confirm your subscription to The Weekly Lantern');
  });

  it('sends at most one confirmation per ten minutes however often someone unsubscribes and comes back', async () => {
    const [ann] = await seedSubscribers(stack.web.db, [{ email: 'ann@example.com', name: 'Ann', status: 'unsubscribed' }]);
    const recently = new Date(Date.now() - 60_000);
    await stack.web.db.subscriber.update({ where: { id: ann!.id }, data: { confirmationSentAt: recently } });
    expect(await resubscribe(stack.web.db, ann!.id)).toBe('confirmation-needed');
    expect(await stack.web.db.subscriber.findUniqueOrThrow({ where: { id: ann!.id } })).toMatchObject({ status: 'pending', confirmationSentAt: recently });
    const deps = stack.workerDeps();
    expect(await reconcile({}, jobContext(deps), deps)).toMatchObject({ confirmationsQueued: 0 });
  });
});

describe('a campaign written in Markdown', () => {
  const markdown = [
    '# Issue {{name}}',
    '',
    'Dear **{{name}}**, this is *for* {{email}} & friends.',
    '',
    '- one',
    '- two <x>',
    '',
    '> a quote',
    '',
    '[Read more](https://example.com/a?b=1&c=2) · [Leave]({{unsubscribe_url}})',
    '',
    '![A lantern](https://example.com/lantern.png)',
  ].join('\n');

  it('arrives as correct HTML and text, placeholders filled in and escaped', async () => {
    await seedSubscribers(stack.web.db, [{ email: 'ann@example.com', name: 'Ann & <Co>' }]);
    await stack.startWorker();
    const res = await postSend(stack.web.app, { subject: 'Markdown for {{name}}', body: markdown, format: 'markdown' }).expect(202);
    const message = await sentTo('ann@example.com');
    const token = (await stack.web.db.subscriber.findUniqueOrThrow({ where: { email: 'ann@example.com' } })).unsubscribeToken;
    const unsubscribe = `http://herald.test/unsubscribe/${token}/c/${res.body.campaignId}`;

    expect(message.subject).toBe('Markdown for Ann & <Co>');
    expect(withoutInlineStyles(message.html!)).toContain('<h1>Issue Ann &amp; &lt;Co&gt;</h1>');
    expect(withoutInlineStyles(message.html!)).toContain('<p>Dear <strong>Ann &amp; &lt;Co&gt;</strong>, this is <em>for</em> ann@example.com &amp; friends.</p>');
    // Inline HTML passes through Markdown; the layout's HTML parser closes the unclosed <x>, as a browser would.
    expect(withoutInlineStyles(message.html!)).toContain('<ul>\n<li>one</li>\n<li>two <x></x></li>\n</ul>');
    expect(withoutInlineStyles(message.html!)).toContain('<blockquote>\n<p>a quote</p>\n</blockquote>');
    expect(withoutInlineStyles(message.html!)).toContain('<a href="https://example.com/a?b=1&amp;c=2">Read more</a>');
    expect(withoutInlineStyles(message.html!)).toContain(`<a href="${unsubscribe}">Leave</a>`);
    expect(withoutInlineStyles(message.html!)).toContain('<img src="https://example.com/lantern.png" alt="A lantern">');
    expect(withoutInlineStyles(message.html!)).not.toContain('**');

    expect(message.text).toMatch(/^ISSUE Ann & <Co>\n\nDear Ann & <Co>, this is for ann@example.com & friends\./);
    expect(message.text).toContain(' * one\n * two');
    expect(message.text).toContain('> a quote');
    expect(message.text).toContain('Read more [https://example.com/a?b=1&c=2]');
    expect(message.text).toContain(`Leave [${unsubscribe}]`);
    expect(message.text).not.toContain('**');
    expect(message.text).toContain(`Unsubscribe: ${unsubscribe}`);
  });
});
