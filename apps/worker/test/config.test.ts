import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';

describe('worker configuration', () => {
  it('parses the sender for the worker and refuses a malformed one', () => {
    const worker = { DATABASE_URL: 'postgresql://postgres@127.0.0.1:5432/herald', SENDGRID_API_KEY: 'SG.x' };
    expect(loadConfig({ ...worker, MAIL_FROM: 'Herald News <news@example.com>' }).mail.from).toEqual({ email: 'news@example.com', name: 'Herald News' });
    expect(loadConfig({ ...worker, MAIL_FROM: 'news@example.com' }).mail.from).toEqual({ email: 'news@example.com' });
    expect(() => loadConfig({ ...worker, MAIL_FROM: 'not an address' })).toThrowError(/MAIL_FROM: must be an address/);
  });

  it('names every missing variable', () => {
    expect(() => loadConfig({})).toThrowError(/DATABASE_URL: is required[\s\S]*SENDGRID_API_KEY: is required[\s\S]*MAIL_FROM: is required/);
  });
});
