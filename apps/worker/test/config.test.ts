import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';

describe('worker configuration', () => {
  it('parses the sender for the worker and refuses a malformed one', () => {
    const worker = { DATABASE_URL: 'postgresql://postgres@127.0.0.1:5432/herald', SENDGRID_API_KEY: 'SG.x' };
    expect(loadConfig({ ...worker, MAIL_FROM: 'Herald News <news@example.com>' }).mail.from).toEqual({ email: 'news@example.com', name: 'Herald News' });
    // A bare address sends under the newsletter's name.
    expect(loadConfig({ ...worker, MAIL_FROM: 'news@example.com' }).mail.from).toEqual({ email: 'news@example.com', name: 'Herald' });
    expect(loadConfig({ ...worker, MAIL_FROM: 'news@example.com', NEWSLETTER_NAME: 'The Lantern' }).mail.from).toEqual({ email: 'news@example.com', name: 'The Lantern' });
    expect(loadConfig({ ...worker, MAIL_FROM: 'Ann <news@example.com>', NEWSLETTER_NAME: 'The Lantern' }).mail.from).toEqual({ email: 'news@example.com', name: 'Ann' });
    expect(() => loadConfig({ ...worker, MAIL_FROM: 'not an address' })).toThrowError(/MAIL_FROM: must be an address/);
  });

  it('treats empty variables as unset and defaults the ops listener to 9464', () => {
    const worker = { DATABASE_URL: 'postgresql://postgres@127.0.0.1:5432/herald', SENDGRID_API_KEY: 'SG.x', MAIL_FROM: 'news@example.com' };
    const config = loadConfig({ ...worker, MAIL_POSTAL_ADDRESS: '', SENDGRID_API_URL: '', WORKER_HTTP_PORT: '', METRICS_TOKEN: '' });
    expect(config.mail.postalAddress).toBeUndefined();
    // Unset outside production: the local mail sink, never real SendGrid by accident.
    expect(config.sendgrid.apiUrl).toBe('http://localhost:3100');
    expect(loadConfig({ ...worker, NODE_ENV: 'production', NEWSLETTER_NAME: 'The Lantern', SENDGRID_API_URL: '' }).sendgrid.apiUrl).toBe('https://api.sendgrid.com');
    expect(config.http).toEqual({ port: 9464, host: '0.0.0.0' });
    expect(config.metricsToken).toBeUndefined();
    expect(loadConfig({ ...worker, WORKER_HTTP_PORT: '9100' }).http.port).toBe(9100);
    expect(() => loadConfig({ ...worker, SENDGRID_API_KEY: '' })).toThrowError(/SENDGRID_API_KEY: is required/);
  });

  it('requires NEWSLETTER_NAME in production and defaults it elsewhere', () => {
    const worker = { DATABASE_URL: 'postgresql://postgres@127.0.0.1:5432/herald', SENDGRID_API_KEY: 'SG.x', MAIL_FROM: 'news@example.com' };
    expect(() => loadConfig({ ...worker, NODE_ENV: 'production' })).toThrowError(/NEWSLETTER_NAME: is required/);
    expect(loadConfig({ ...worker, NODE_ENV: 'production', NEWSLETTER_NAME: ' The Lantern ' }).newsletterName).toBe('The Lantern');
    expect(loadConfig({ ...worker, NODE_ENV: 'development' }).newsletterName).toBe('Herald');
  });

  it('keeps raw events for ever unless EVENT_RETENTION_DAYS is a whole number of days, at least 1', () => {
    const worker = { DATABASE_URL: 'postgresql://postgres@127.0.0.1:5432/herald', SENDGRID_API_KEY: 'SG.x', MAIL_FROM: 'news@example.com' };
    expect(loadConfig(worker).eventRetentionDays).toBeNull();
    // docker-compose.yml passes it through as empty when it is not set.
    expect(loadConfig({ ...worker, EVENT_RETENTION_DAYS: '' }).eventRetentionDays).toBeNull();
    expect(loadConfig({ ...worker, EVENT_RETENTION_DAYS: '90' }).eventRetentionDays).toBe(90);
    for (const bad of ['0', '-3', '1.5', 'a year']) {
      expect(() => loadConfig({ ...worker, EVENT_RETENTION_DAYS: bad }), bad).toThrowError(/EVENT_RETENTION_DAYS: /);
    }
  });

  it('names every missing variable', () => {
    expect(() => loadConfig({})).toThrowError(/DATABASE_URL: is required[\s\S]*SENDGRID_API_KEY: is required[\s\S]*MAIL_FROM: is required/);
  });
});
