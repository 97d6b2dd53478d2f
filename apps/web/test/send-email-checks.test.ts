import { describe, expect, it } from 'vitest';
import { campaignBody, postSend, seedSubscribers } from '../../../test/support/factories.js';
import { useWebHarness } from '../../../test/support/web.js';

const web = useWebHarness();

describe('POST /send and the email subscribers will get', () => {
  it('keeps the writer\'s preview line with the campaign', async () => {
    const res = await postSend(web.app, { ...campaignBody, preheader: '  Three things worth your time  ' }).expect(202);
    expect(await web.db.campaign.findUnique({ where: { id: res.body.campaignId } })).toMatchObject({ preheader: 'Three things worth your time' });
  });

  it.each([
    ['a preheader with a line break', { ...campaignBody, preheader: 'one\ntwo' }],
    ['a preheader over 200 characters', { ...campaignBody, preheader: 'x'.repeat(201) }],
    ['a preheader that is not text', { ...campaignBody, preheader: 7 }],
  ])('refuses %s with 400 naming the field, creating nothing', async (_name, body) => {
    const res = await postSend(web.app, body).expect(400);
    expect(Object.keys(res.body.error.fields)).toEqual(['preheader']);
    expect(await web.db.campaign.count()).toBe(0);
  });

  it('warns when the laid-out email passes the size at which Gmail clips it, and not before', async () => {
    await seedSubscribers(web.db, [{ email: 'ada@example.com' }]);
    const small = await postSend(web.app).expect(202);
    expect(small.body.warnings).toEqual([]);

    // Each paragraph grows by its inlined style: the body alone is under the limit, the email is not.
    const paragraph = '<p>Plenty to say this week, and then some more to add.</p>';
    const body = paragraph.repeat(Math.floor((90 * 1024) / paragraph.length));
    expect(Buffer.byteLength(body)).toBeLessThan(102 * 1024);
    const large = await postSend(web.app, { subject: 'Long read', body }).expect(202);
    expect(large.body.warnings).toEqual([{ code: 'gmail_clipping', message: expect.stringMatching(/^The email is \d+ KB of HTML; Gmail clips/) }]);
    expect(large.body.tasks).toHaveLength(1);
  });
});
