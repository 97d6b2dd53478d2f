/**
 * The invitation email, through the whole stack: the web's POST /users enqueues it, the worker
 * writes a fresh token's hash and sends it through the official SendGrid client to the mail sink,
 * and its link opens the page where the invited person joins. Resending replaces the link; someone
 * who joined or was disabled meanwhile gets nothing; the reconciler re-enqueues an invitation whose
 * job Redis lost.
 */
import { createHash } from 'node:crypto';
import request from 'supertest';
import { beforeEach, describe, expect, it } from 'vitest';
import { renderInvitationEmail } from '@herald/shared';
import { csrfFrom } from '../../../test/support/admin.js';
import { jobContext, useStack, waitFor } from '../../../test/support/stack.js';
import { adminToken } from '../../../test/support/web.js';
import { ensureFirstOwner } from '../../web/src/team/first-owner.js';
import { reconcile } from '../src/handlers/reconcile.js';
import { sendInvitation } from '../src/handlers/send-invitation.js';

const stack = useStack({ NEWSLETTER_NAME: 'The Weekly Herald' });

const inviteThroughApi = async (email: string, role = 'editor', name?: string) =>
  (await request(stack.web.app).post('/users').set('Authorization', `Bearer ${adminToken}`).send({ email, role, ...(name ? { name } : {}) }).expect(201)).body as { id: string };

const linkIn = (text: string | null) => /http:\/\/herald\.test(\/admin\/invitations\/[A-Za-z0-9_-]{43})/.exec(text ?? '')?.[1];
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const user = (id: string) => stack.web.db.user.findUniqueOrThrow({ where: { id } });

beforeEach(async () => {
  // An owner who can log in, as after any boot: the table's trigger wants one on every update.
  await ensureFirstOwner(stack.web.db, stack.web.config);
});

describe('an invitation email', () => {
  it('is sent once, untracked, with a link whose token only the hash of is stored, and the link joins', async () => {
    await stack.startWorker();
    const { id } = await inviteThroughApi('grace@example.com', 'editor', 'Grace');
    const message = await waitFor('the invitation', () => stack.sink.inbox.findByRecipient('grace@example.com')[0]);
    expect(message.subject).toBe('Join The Weekly Herald on Herald');
    expect(message.to).toEqual([{ email: 'grace@example.com', name: 'Grace' }]);
    expect(message.text).toContain('Hello Grace,');
    expect(message.text).toContain('as an editor');
    expect(message.text).toContain('works for 7 days');
    expect(message.html).toContain('Accept the invitation');
    expect(message.tracking).toMatchObject({ opens: false, clicks: false });
    const path = linkIn(message.text)!;
    expect(linkIn(message.html)).toBe(path);
    const token = path.split('/').at(-1)!;
    const row = await user(id);
    expect(row.inviteTokenHash).toBe(sha256(token));
    expect(row.inviteExpiresAt!.getTime()).toBeGreaterThan(Date.now() + 6.9 * 24 * 60 * 60 * 1000);
    expect(JSON.stringify(await stack.web.db.user.findMany())).not.toContain(token);

    const agent = request.agent(stack.web.app);
    const page = await agent.get(path).expect(200);
    expect(page.text).toContain('Join The Weekly Herald as an editor');
    const password = 'grace chose a long password';
    await agent.post(path).type('form').send({ _csrf: csrfFrom(page.text), name: 'Grace', password, passwordAgain: password }).expect(303).expect('Location', '/admin');
    expect((await user(id)).passwordHash).toMatch(/^\$argon2id\$/);
    expect(stack.sink.inbox.findByRecipient('grace@example.com')).toHaveLength(1);
  });

  it('sent again has a new link, and the first one stops working', async () => {
    await stack.startWorker();
    const { id } = await inviteThroughApi('ada@example.com');
    const first = linkIn((await waitFor('the first email', () => stack.sink.inbox.findByRecipient('ada@example.com')[0])).text)!;
    await request(stack.web.app).get(first).expect(200);
    await request(stack.web.app).post(`/users/${id}/invitation`).set('Authorization', `Bearer ${adminToken}`).expect(202);
    const second = linkIn((await waitFor('the second email', () => stack.sink.inbox.findByRecipient('ada@example.com')[1])).text)!;
    expect(second).not.toBe(first);
    await request(stack.web.app).get(first).expect(404);
    await request(stack.web.app).get(second).expect(200);
  });

  it('is skipped for someone who joined, or was disabled, before it ran', async () => {
    const deps = stack.workerDeps();
    const joined = await stack.web.db.user.create({ data: { email: 'joined@example.com', role: 'viewer', invitedAt: new Date(), passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA' } });
    const disabled = await stack.web.db.user.create({ data: { email: 'disabled@example.com', role: 'viewer', invitedAt: new Date(), disabledAt: new Date() } });
    expect(await sendInvitation({ userId: joined.id }, jobContext(deps), deps)).toBe('skipped');
    expect(await sendInvitation({ userId: disabled.id }, jobContext(deps), deps)).toBe('skipped');
    expect(await sendInvitation({ userId: '00000000-0000-4000-8000-000000000000' }, jobContext(deps), deps)).toBe('skipped');
    expect(stack.sink.inbox.list()).toHaveLength(0);
    expect((await user(joined.id)).inviteTokenHash).toBeNull();
    expect((await user(disabled.id)).inviteTokenHash).toBeNull();
  });

  it('clears its token when SendGrid refuses it, so it counts as never emailed', async () => {
    const deps = stack.workerDeps();
    const invited = await stack.web.db.user.create({ data: { email: 'refused@example.com', role: 'viewer', invitedAt: new Date() } });
    stack.sink.faults.update({ serverError: { count: 1 } });
    await expect(sendInvitation({ userId: invited.id }, jobContext(deps), deps)).rejects.toThrow();
    expect(await user(invited.id)).toMatchObject({ inviteTokenHash: null, inviteExpiresAt: null });
    expect(await sendInvitation({ userId: invited.id }, jobContext(deps), deps)).toBe('sent');
  });
});

describe('the reconciler', () => {
  it('re-enqueues an invitation asked for over a minute ago and never emailed, and the worker sends it', async () => {
    const deps = stack.workerDeps();
    // Asked for while Redis lost the job: a row with `invited_at` and no token.
    const lost = await stack.web.db.user.create({ data: { email: 'lost@example.com', role: 'admin', invitedAt: new Date() } });
    expect((await reconcile({}, jobContext(deps), deps)).invitationsQueued).toBe(0);
    await stack.web.db.$executeRaw`UPDATE users SET invited_at = invited_at - interval '2 minutes' WHERE id = ${lost.id}::uuid`;

    expect((await reconcile({}, jobContext(deps), deps)).invitationsQueued).toBe(1);
    await stack.startWorker();
    const message = await waitFor('the repaired invitation', () => stack.sink.inbox.findByRecipient('lost@example.com')[0]);
    expect(message.text).toContain('as an admin');
    await waitFor('its token', async () => (await user(lost.id)).inviteTokenHash);
    expect((await reconcile({}, jobContext(deps), deps)).invitationsQueued).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(stack.sink.inbox.findByRecipient('lost@example.com')).toHaveLength(1);
  });

  it('leaves alone invitations taken up, disabled, or asked for over a week ago', async () => {
    const deps = stack.workerDeps();
    const longAgo = new Date(Date.now() - 8 * 24 * 60 * 60 * 1000);
    const minutesAgo = new Date(Date.now() - 5 * 60 * 1000);
    await stack.web.db.user.createMany({
      data: [
        { email: 'old@example.com', role: 'viewer', invitedAt: longAgo },
        { email: 'off@example.com', role: 'viewer', invitedAt: minutesAgo, disabledAt: new Date() },
        { email: 'in@example.com', role: 'viewer', invitedAt: minutesAgo, passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA' },
      ],
    });
    expect((await reconcile({}, jobContext(deps), deps)).invitationsQueued).toBe(0);
  });
});

describe('the invitation renderer', () => {
  it('escapes what people typed, and keeps the subject one line', () => {
    const deps = stack.workerDeps();
    const email = renderInvitationEmail('http://herald.test/admin/invitations/abc?x=1&y=2', deps.emailLayout, undefined, {
      newsletterName: 'News\r\nBcc: evil@example.com',
      recipientName: '<script>alert(1)</script>',
      role: 'viewer',
      lifetime: '7 days',
    });
    expect(email.subject).not.toMatch(/[\r\n]/);
    expect(email.html).not.toContain('<script>alert(1)</script>');
    expect(email.html).toContain('&lt;script&gt;');
    expect(email.html).toContain('href="http://herald.test/admin/invitations/abc?x=1&amp;y=2"');
    expect(email.text).toContain('as a viewer');
  });
});
