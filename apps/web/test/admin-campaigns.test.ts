import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { campaignHtml, issueUrl, prepareCampaignContent, renderCampaignEmail } from '@herald/shared';
import { composeAndConfirm, csrfFrom, loggedInAgent } from '../../../test/support/admin.js';
import { truncateAll } from '../../../test/support/database.js';
import { seedSubscribers, waitForCampaignSent } from '../../../test/support/factories.js';
import { applyEventBatch } from '../../worker/src/events/apply-event-batch.js';
import { createStack, waitFor } from '../../../test/support/stack.js';
import { metricsToken } from '../../../test/support/web.js';
import type { Stack } from '../../../test/support/stack.js';

const postalAddress = '1 Test Street, Testville';
let stack: Stack;

beforeAll(async () => {
  stack = await createStack({ MAIL_POSTAL_ADDRESS: postalAddress });
  await stack.startWorker();
});
afterAll(async () => {
  await stack?.close();
});
beforeEach(async () => {
  await truncateAll(stack.web.db);
  stack.sink.reset();
});

const body = '<h1>Issue 7</h1><p>Dear {{name}}, this goes to {{email}}.</p>';

describe('composing a campaign', () => {
  it('saves a draft that sends nothing, and edits it later', async () => {
    await seedSubscribers(stack.web.db, [{ email: 'ada@example.com' }]);
    const agent = await loggedInAgent(stack.web.app);
    const form = await agent.get('/admin/campaigns/new').expect(200);
    const saved = await agent.post('/admin/campaigns').type('form').send({ _csrf: csrfFrom(form.text), intent: 'draft', subject: 'Draft one', body }).expect(303);
    const draft = await stack.web.db.campaign.findFirstOrThrow();
    expect(draft).toMatchObject({ status: 'draft', subject: 'Draft one', recipientCount: 0 });
    expect(saved.headers.location).toBe(`/admin/campaigns/${draft.id}/edit?notice=saved`);
    expect(await stack.web.db.delivery.count()).toBe(0);
    expect(await stack.web.queues.campaigns.count()).toBe(0);

    const edit = await agent.get(saved.headers.location!).expect(200);
    expect(edit.text).toContain('value="Draft one"');
    expect(edit.text).toContain('Draft saved.');
    await agent.post(`/admin/campaigns/${draft.id}/edit`).type('form').send({ _csrf: csrfFrom(edit.text), intent: 'draft', subject: 'Draft two', body }).expect(303);
    expect(await stack.web.db.campaign.findMany()).toMatchObject([{ id: draft.id, status: 'draft', subject: 'Draft two' }]);
    // Markdown, and kept out of the archive: the unticked checkbox sends nothing but its marker.
    await agent.post(`/admin/campaigns/${draft.id}/edit`).type('form')
      .send({ _csrf: csrfFrom(edit.text), intent: 'draft', subject: 'Draft two', body: '# Hi', format: 'markdown', inArchiveShown: 'true' }).expect(303);
    expect(await stack.web.db.campaign.findFirstOrThrow()).toMatchObject({ format: 'markdown', inArchive: false, html: '# Hi' });
    const again = await agent.get(`/admin/campaigns/${draft.id}/edit`).expect(200);
    expect(again.text).toContain('<option value="markdown" selected>');
    expect(again.text).not.toMatch(/id="inArchive"[^>]*checked/);
    // The list links a draft to its editor.
    expect((await agent.get('/admin').expect(200)).text).toContain(`href="/admin/campaigns/${draft.id}/edit"`);
  });

  it('previews exactly what the worker sends, for a chosen subscriber or a sample reader', async () => {
    const [ada] = await seedSubscribers(stack.web.db, [{ email: 'ada@example.com', name: 'Ada <Lovelace>' }]);
    const agent = await loggedInAgent(stack.web.app);
    const csrf = csrfFrom((await agent.get('/admin/campaigns/new')).text);
    const preview = await agent.post('/admin/preview').type('form').send({ _csrf: csrf, subject: 'Hi {{name}}', body, text: '', previewEmail: 'ADA@example.com' }).expect(200);
    // What the worker's send path does with a campaign and a recipient.
    const viewInBrowserUrl = issueUrl(stack.web.config.publicUrl, 'preview');
    const expected = renderCampaignEmail(
      prepareCampaignContent({ subject: 'Hi {{name}}', html: campaignHtml(body, 'html'), text: null }, stack.web.emailLayout, { viewInBrowserUrl, preferencesLink: true }),
      { email: 'ada@example.com', name: 'Ada <Lovelace>' },
      {
        unsubscribeUrl: `${stack.web.config.publicUrl}/unsubscribe/${ada!.unsubscribeToken}/c/preview`,
        preferencesUrl: `${stack.web.config.publicUrl}/preferences/${ada!.unsubscribeToken}`,
        postalAddress,
        viewInBrowserUrl,
      },
    );
    expect(preview.body).toMatchObject({ subject: expected.subject, html: expected.html, text: expected.text, unknownRecipient: false });
    expect(preview.body.html).toContain('Dear Ada &lt;Lovelace&gt;');
    expect(preview.body.html).toContain(postalAddress);
    expect(preview.body.text).toContain('Unsubscribe:');

    const sample = await agent.post('/admin/preview').type('form').send({ _csrf: csrf, subject: 'Hi {{name}}', body, previewEmail: 'nobody@example.com' }).expect(200);
    expect(sample.body).toMatchObject({ subject: 'Hi Sam Sample', unknownRecipient: true });
    const markdown = await agent.post('/admin/preview').type('form').send({ _csrf: csrf, subject: 'S', body: '# Hello {{name}}\n\n*soon*', format: 'markdown', previewEmail: 'ada@example.com' }).expect(200);
    expect(markdown.body.html).toMatch(/<h1[^>]*>Hello Ada &lt;Lovelace&gt;<\/h1>/);
    expect(markdown.body.html).toMatch(/<em[^>]*>soon<\/em>/);
    await agent.post('/admin/preview').type('form').send({ subject: 'x', body: 'y' }).expect(403);
  });

  it('sends a test through SendGrid to one address without creating any delivery', async () => {
    await seedSubscribers(stack.web.db, [{ email: 'ada@example.com' }, { email: 'grace@example.com' }]);
    const agent = await loggedInAgent(stack.web.app);
    const form = await agent.get('/admin/campaigns/new');
    const bad = await agent.post('/admin/campaigns').type('form').send({ _csrf: csrfFrom(form.text), intent: 'test', subject: 'Hi {{name}}', body, testEmail: 'not an address' }).expect(400);
    expect(bad.text).toContain('valid email address');
    expect(await stack.web.db.campaign.count()).toBe(0);

    const sent = await agent.post('/admin/campaigns').type('form').send({ _csrf: csrfFrom(form.text), intent: 'test', subject: 'Hi {{name}}', body, testEmail: 'Editor@Example.com' }).expect(303);
    expect(sent.headers.location).toMatch(/\/edit\?notice=test-sent&to=editor%40example\.com$/);
    const message = await waitFor('the test email', () => stack.sink.inbox.findByRecipient('editor@example.com')[0]);
    expect(message.subject).toBe('[Test] Hi ');
    expect(message.html).toContain('this goes to editor@example.com');
    expect(message.html).toContain(postalAddress);
    expect(message.customArgs).not.toHaveProperty('herald_delivery_id');
    expect(stack.sink.inbox.list()).toHaveLength(1);
    expect(await stack.web.db.delivery.count()).toBe(0);
    expect(await stack.web.db.campaign.findFirstOrThrow()).toMatchObject({ status: 'draft', recipientCount: 0 });
    const metrics = await agent.get('/metrics').set('Authorization', `Bearer ${metricsToken}`).expect(200);
    expect(metrics.text).toMatch(/herald_admin_test_emails_total [1-9]/);
  });

  it('asks for confirmation showing the audience size, then sends once however often it is confirmed', async () => {
    await seedSubscribers(stack.web.db, [{ email: 'a@example.com' }, { email: 'b@example.com' }, { email: 'c@example.com', status: 'pending' }]);
    const agent = await loggedInAgent(stack.web.app);
    const form = await agent.get('/admin/campaigns/new');
    const saved = await agent.post('/admin/campaigns').type('form').send({ _csrf: csrfFrom(form.text), intent: 'review', subject: 'Big news', body }).expect(303);
    const campaign = await stack.web.db.campaign.findFirstOrThrow();
    expect(saved.headers.location).toBe(`/admin/campaigns/${campaign.id}/review`);
    expect(campaign.status).toBe('draft');
    const review = await agent.get(saved.headers.location!).expect(200);
    expect(review.text).toContain('<strong data-field="audience">2</strong> active subscribers will get this email now');
    expect(review.text).toContain('Send to 2 subscribers');
    expect(review.text).toContain('sandbox srcdoc=');

    const csrf = csrfFrom(review.text);
    const answers = await Promise.all([1, 2, 3].map(() => agent.post(`/admin/campaigns/${campaign.id}/start`).type('form').send({ _csrf: csrf })));
    expect(answers.map((answer) => answer.status).sort()).toEqual([303, 409, 409]);
    expect(await stack.web.db.delivery.count()).toBe(2);
    await waitForCampaignSent(stack.web.db, campaign.id);
    expect(stack.sink.inbox.list().map((m) => m.recipients[0]).sort()).toEqual(['a@example.com', 'b@example.com']);
  });

  it('edits a scheduled campaign before it starts, and refuses once it has started', async () => {
    await seedSubscribers(stack.web.db, [{ email: 'a@example.com' }]);
    const agent = await loggedInAgent(stack.web.app);
    const later = new Date(Date.now() + 7 * 24 * 3600 * 1000).toISOString().slice(0, 16);
    const location = await composeAndConfirm(agent, { subject: 'Later', body, sendAt: later });
    const campaign = await stack.web.db.campaign.findFirstOrThrow();
    expect(campaign.status).toBe('scheduled');
    // Like a scheduled POST /send, it takes its audience when it starts.
    expect(await stack.web.db.delivery.count()).toBe(0);
    const edit = await agent.get(`${location}/edit`).expect(200);
    await agent.post(`${location}/edit`).type('form').send({ _csrf: csrfFrom(edit.text), subject: 'Later, edited', body, sendAt: later }).expect(303).expect('Location', `${location}?notice=saved`);
    expect(await stack.web.db.campaign.findFirstOrThrow()).toMatchObject({ subject: 'Later, edited', status: 'scheduled' });

    await stack.web.db.campaign.update({ where: { id: campaign.id }, data: { status: 'sending', startedAt: new Date() } });
    await agent.get(`${location}/edit`).expect(303).expect('Location', location);
    const refused = await agent.post(`${location}/edit`).type('form').send({ _csrf: csrfFrom(edit.text), subject: 'Too late', body, sendAt: later }).set('Accept', 'text/html').expect(409);
    expect(refused.text).toContain('class="admin-bar"');
    expect((await stack.web.db.campaign.findFirstOrThrow()).subject).toBe('Later, edited');
  });
});

describe('following a campaign', () => {
  it('reports progress as JSON until every delivery is done, with only the actions its state allows', async () => {
    await seedSubscribers(stack.web.db, Array.from({ length: 6 }, (_, i) => ({ email: `r${i}@example.com` })));
    const agent = await loggedInAgent(stack.web.app);
    const location = await composeAndConfirm(agent, { subject: 'Progress', body });
    const done = await waitFor('all sent', async () => {
      const progress = (await agent.get(`${location}/progress`).expect(200)).body;
      return progress.status === 'sent' ? progress : null;
    });
    expect(done).toMatchObject({ total: 6, done: 6, percent: 100, counts: { sent: 6, queued: 0, failed: 0 }, actions: [] });
    const page = await agent.get(location).expect(200);
    expect(page.text).toContain('data-field="percent">100%');
    expect(page.text).toMatch(/data-action="pause" hidden/);
    expect(page.text).toMatch(/data-action="retry-failed" hidden/);
  });

  it('shows pause and cancel while sending, resume once paused, and retry only with failures, listing their reasons', async () => {
    const subscribers = await seedSubscribers(stack.web.db, [{ email: 'a@example.com' }, { email: 'b@example.com' }, { email: 'c@example.com' }]);
    const campaign = await stack.web.db.campaign.create({ data: { subject: 'Manual', html: body, status: 'paused', recipientCount: 3, startedAt: new Date() } });
    await stack.web.db.delivery.createMany({
      data: [
        { campaignId: campaign.id, subscriberId: subscribers[0]!.id, status: 'sent', sentAt: new Date() },
        { campaignId: campaign.id, subscriberId: subscribers[1]!.id, status: 'failed', lastError: 'SendGrid 400: Does not contain a valid address (personalizations.0.to.0.email)', attempts: 1 },
        { campaignId: campaign.id, subscriberId: subscribers[2]!.id, status: 'queued' },
      ],
    });
    const agent = await loggedInAgent(stack.web.app);
    const progress = (await agent.get(`/admin/campaigns/${campaign.id}/progress`).expect(200)).body;
    expect(progress).toMatchObject({ percent: 66.6, done: 2, total: 3, actions: ['resume', 'retry-failed', 'cancel'] });
    const page = await agent.get(`/admin/campaigns/${campaign.id}`).expect(200);
    expect(page.text).toContain('Does not contain a valid address');
    expect(page.text).toContain('b@example.com');
    expect(page.text).toMatch(/data-action="pause" hidden/);
    expect(page.text).not.toMatch(/data-action="resume" hidden/);

    await stack.web.db.delivery.updateMany({ where: { campaignId: campaign.id, status: 'failed' }, data: { status: 'sent', sentAt: new Date() } });
    await stack.web.db.campaign.update({ where: { id: campaign.id }, data: { status: 'sending' } });
    expect((await agent.get(`/admin/campaigns/${campaign.id}/progress`)).body.actions).toEqual(['pause', 'cancel']);
  });

  it('pages through failures, most recent first', async () => {
    const campaign = await stack.web.db.campaign.create({ data: { subject: 'Failures', html: body, status: 'sent', recipientCount: 25 } });
    const base = Date.now() - 60_000;
    for (let i = 0; i < 25; i++) {
      await stack.web.db.delivery.create({ data: { campaignId: campaign.id, status: 'failed', lastError: `reason ${i}`, updatedAt: new Date(base + i * 1000) } });
    }
    const agent = await loggedInAgent(stack.web.app);
    const first = await agent.get(`/admin/campaigns/${campaign.id}`).expect(200);
    expect(first.text).toContain('reason 24');
    expect(first.text).not.toContain('reason 14<');
    const older = /href="(\/admin\/campaigns\/[^"]+\?failures=[^"#]+)#failures"/.exec(first.text)?.[1];
    expect(older).toBeDefined();
    const second = await agent.get(older!.replace(/&amp;/g, '&')).expect(200);
    expect(second.text).toContain('reason 14<');
    expect(second.text).not.toContain('reason 15<');
    await agent.get(`/admin/campaigns/${campaign.id}?failures=garbage`).expect(400);
  });

  it('lists campaigns with sent date, duration and outcome counts', async () => {
    const subscribers = await seedSubscribers(stack.web.db, [{ email: 'a@example.com' }, { email: 'b@example.com' }]);
    const startedAt = new Date('2026-01-05T10:00:00Z');
    const campaign = await stack.web.db.campaign.create({
      data: { subject: 'Done {{name}}', html: body, status: 'sent', recipientCount: 2, startedAt, finishedAt: new Date(startedAt.getTime() + 125_000) },
    });
    const [sent] = await Promise.all([
      stack.web.db.delivery.create({ data: { campaignId: campaign.id, subscriberId: subscribers[0]!.id, status: 'sent', sentAt: new Date() } }),
      stack.web.db.delivery.create({ data: { campaignId: campaign.id, subscriberId: subscribers[1]!.id, status: 'failed' } }),
    ]);
    await stack.web.db.emailEvent.create({ data: { dedupeKey: 'b1', type: 'bounce', occurredAt: new Date(), deliveryId: sent.id, payload: { type: 'bounce' } } });
    // Applied by whichever claims it first, this call or the running worker; both commit the counts with it.
    await waitFor('the bounce applied', async () => {
      await applyEventBatch(stack.web.db, 100);
      return (await stack.web.db.emailEventBacklog.count()) === 0;
    });
    const agent = await loggedInAgent(stack.web.app);
    const list = await agent.get('/admin').expect(200);
    const row = list.text.slice(list.text.indexOf(`data-campaign="${campaign.id}"`));
    expect(row).toContain('2026-01-05 10:00 UTC');
    expect(row).toContain('2 min 05 s');
    expect(row).toContain('<mark class="placeholder"');
    const numbers = [...row.slice(0, row.indexOf('</tr>')).matchAll(/<td class="num[^"]*"[^>]*>(\d+)<\/td>/g)].map((match) => Number(match[1]));
    expect(numbers).toEqual([2, 1, 1, 1, 0]);
  });
});
