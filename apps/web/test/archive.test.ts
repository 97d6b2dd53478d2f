import request from 'supertest';
import { describe, expect, it } from 'vitest';
import type { Prisma } from '@herald/shared';
import { postSend } from '../../../test/support/factories.js';
import { useWebHarness } from '../../../test/support/web.js';

const web = useWebHarness({ NEWSLETTER_NAME: 'The Weekly Lantern' });

const day = 24 * 60 * 60 * 1000;

/** A campaign as it stands after sending, `daysAgo` days back. */
function sentCampaign(subject: string, daysAgo: number, extra: Partial<Prisma.CampaignCreateInput> = {}) {
  const startedAt = new Date(Date.UTC(2026, 10, 20) - daysAgo * day);
  return web.db.campaign.create({
    data: {
      subject,
      html: `<p>Body of ${subject}</p>`,
      status: 'sent',
      startedAt,
      finishedAt: new Date(startedAt.getTime() + 60_000),
      recipientCount: 1,
      ...extra,
    },
  });
}

describe('GET /archive', () => {
  it('lists sent issues newest first, leaving out those kept out of the archive and those not sent', async () => {
    await sentCampaign('Oldest', 30);
    const newest = await sentCampaign('Newest for {{name}}', 1);
    await sentCampaign('Middle', 10);
    await sentCampaign('Private', 5, { inArchive: false });
    await sentCampaign('Scheduled', 0, { status: 'scheduled', startedAt: null, finishedAt: null, sendAt: new Date(Date.now() + day) });
    await sentCampaign('Still sending', 0, { status: 'sending', finishedAt: null });
    await sentCampaign('Cancelled', 2, { status: 'cancelled' });

    const res = await request(web.app).get('/archive').expect(200);
    expect(res.text).toContain('<title>Archive · The Weekly Lantern</title>');
    const titles = [...res.text.matchAll(/<a href="\/archive\/[0-9a-f-]{36}">([^<]*)<\/a>/g)].map((match) => match[1]);
    expect(titles).toEqual(['Newest for reader', 'Middle', 'Oldest']);
    expect(res.text).toContain(`<a href="/archive/${newest.id}">`);
    expect(res.text).toContain('<time datetime="2026-11-19T00:00:00.000Z">19 November 2026</time>');
    expect(res.text).toContain('<link rel="alternate" type="application/atom+xml" title="The Weekly Lantern" href="/archive/feed.xml">');
    expect(res.headers['cache-control']).toBe('public, max-age=300');
  });

  it('takes format and inArchive from POST /send, listing campaigns by default', async () => {
    // With nobody subscribed a campaign is sent the moment it is created.
    const listed = await postSend(web.app, { subject: 'Listed', body: '**bold**', format: 'markdown' }).expect(202);
    await postSend(web.app, { subject: 'Unlisted', body: '<p>x</p>', inArchive: false }).expect(202);
    expect(await web.db.campaign.findUniqueOrThrow({ where: { id: listed.body.campaignId } })).toMatchObject({ format: 'markdown', inArchive: true, status: 'sent' });
    const res = await request(web.app).get('/archive').expect(200);
    expect(res.text).toContain('>Listed<');
    expect(res.text).not.toContain('Unlisted');
    const page = await request(web.app).get(`/archive/${listed.body.campaignId}`).expect(200);
    expect(page.text).toContain('<p><strong>bold</strong></p>');
  });

  it('pages through a long archive', async () => {
    for (let i = 0; i < 23; i += 1) await sentCampaign(`Issue ${i}`, i);
    const first = await request(web.app).get('/archive').expect(200);
    expect(first.text.match(/<li>/g)).toHaveLength(20);
    expect(first.text).toContain('href="/archive?page=2">Older issues');
    const second = await request(web.app).get('/archive?page=2').expect(200);
    expect(second.text.match(/<li>/g)).toHaveLength(3);
    expect(second.text).toContain('>Issue 22<');
    expect(second.text).toContain('href="/archive">Newer issues');
    expect(second.text).not.toContain('Older issues');
  });

  it('says so when nothing has gone out yet', async () => {
    const res = await request(web.app).get('/archive').expect(200);
    expect(res.text).toContain('No issue has gone out yet.');
  });

  it('answers a bad page number with 400', async () => {
    for (const page of ['0', '-1', 'two', '1e9', '99999999']) {
      const res = await request(web.app).get(`/archive?page=${page}`).set('Accept', 'application/json').expect(400);
      expect(res.body.error.code).toBe('invalid_request');
    }
  });
});

describe('GET /archive/:id (view in browser)', () => {
  it('shows the issue with placeholders filled in for an anonymous reader', async () => {
    const campaign = await sentCampaign('Hello {{name}}', 1, {
      html: '<html><head><title>x</title></head><body><h2>Hi {{ name }}</h2><p>Sent to {{email}}. <a href="{{unsubscribe_url}}">Unsubscribe</a></p><img src="https://cdn.example/pic.png" alt="pic"></body></html>',
    });
    const res = await request(web.app).get(`/archive/${campaign.id}`).expect(200);
    expect(res.text).toContain('<title>Hello reader · The Weekly Lantern</title>');
    expect(res.text).toContain('<h1>Hello reader</h1>');
    expect(res.text).toContain('<div class="issue-body"><h2>Hi reader</h2><p>Sent to you. <a href="#">Unsubscribe</a></p><img src="https://cdn.example/pic.png" alt="pic"></div>');
    expect(res.text).not.toMatch(/\{\{|unsubscribe\/|<\/?body>[\s\S]*<\/?body>[\s\S]*<\/?body>/);
    // Pictures load from anywhere, scripts from nowhere but Herald.
    const csp = res.headers['content-security-policy'] as string;
    expect(csp).toMatch(/img-src 'self' data: https: http:/);
    expect(csp).toMatch(/script-src 'self'/);
  });

  it('renders a Markdown issue', async () => {
    const campaign = await sentCampaign('Markdown', 1, { format: 'markdown', html: '## Notes for {{name}}\n\n- [link]({{unsubscribe_url}})' });
    const res = await request(web.app).get(`/archive/${campaign.id}`).expect(200);
    expect(res.text).toContain('<h2>Notes for reader</h2>\n<ul>\n<li><a href="#">link</a></li>\n</ul>');
  });

  it('shows an issue kept out of the archive to whoever has its link', async () => {
    const campaign = await sentCampaign('Private', 1, { inArchive: false });
    const res = await request(web.app).get(`/archive/${campaign.id}`).expect(200);
    expect(res.text).toContain('Body of Private');
    expect(res.text).not.toContain('More past issues');
  });

  it('publishes nothing before it goes out', async () => {
    const scheduled = await sentCampaign('Secret', 0, { status: 'scheduled', startedAt: null, finishedAt: null, sendAt: new Date(Date.now() + day) });
    const cancelled = await sentCampaign('Dropped', 0, { status: 'cancelled', startedAt: null });
    for (const id of [scheduled.id, cancelled.id, '00000000-0000-4000-8000-000000000000', 'not-an-id']) {
      const res = await request(web.app).get(`/archive/${id}`).expect(404);
      expect(res.text).not.toContain('Body of');
    }
  });
});

describe('GET /archive/feed.xml', () => {
  it('is an Atom feed of the archived issues, newest first, with their content escaped', async () => {
    const older = await sentCampaign('Older & <wiser>', 3, { html: '<p>Older body for {{name}} & co</p>' });
    const newer = await sentCampaign('Newer', 1);
    await sentCampaign('Private', 2, { inArchive: false });

    const res = await request(web.app).get('/archive/feed.xml').expect(200);
    expect(res.headers['content-type']).toBe('application/atom+xml; charset=utf-8');
    expect(res.text.startsWith('<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">')).toBe(true);
    expect(res.text).toContain('<title>The Weekly Lantern</title>');
    expect(res.text).toContain('<link rel="self" type="application/atom+xml" href="http://herald.test/archive/feed.xml"/>');
    expect(res.text).toContain(`<updated>${newer.finishedAt!.toISOString()}</updated>`);
    const ids = [...res.text.matchAll(/<id>http:\/\/herald\.test\/archive\/([0-9a-f-]{36})<\/id>/g)].map((match) => match[1]);
    expect(ids).toEqual([newer.id, older.id]);
    expect(res.text).toContain('<title>Older &amp; &lt;wiser&gt;</title>');
    expect(res.text).toContain('<content type="html">&lt;p&gt;Older body for reader &amp; co&lt;/p&gt;</content>');
    expect(res.text).not.toContain('Private');
  });

  it('is a valid empty feed before the first issue', async () => {
    const res = await request(web.app).get('/archive/feed.xml').expect(200);
    expect(res.text).toContain('<updated>1970-01-01T00:00:00.000Z</updated>');
    expect(res.text).not.toContain('<entry>');
  });
});
