import { describe, expect, it } from 'vitest';
import { loadConfig as loadWebConfig } from '../src/config.js';

const web = {
  DATABASE_URL: 'postgresql://postgres@127.0.0.1:5432/herald',
  ADMIN_TOKEN: 'a'.repeat(32),
  ADMIN_PASSWORD: 'long enough password',
  SESSION_SECRET: 's'.repeat(32),
};

describe('configuration', () => {
  it('lists every missing or malformed variable at once', () => {
    expect(() => loadWebConfig({ DATABASE_URL: 'mysql://x', PORT: 'eighty' })).toThrowError(
      /DATABASE_URL: must be a postgresql:\/\/ URL[\s\S]*PORT:[\s\S]*ADMIN_TOKEN: is required[\s\S]*ADMIN_PASSWORD: is required[\s\S]*SESSION_SECRET: is required/,
    );
  });

  it('applies the documented defaults', () => {
    expect(loadWebConfig(web)).toMatchObject({ port: 3000, doubleOptIn: true, queuePrefix: 'herald', publicUrl: 'http://localhost:3000' });
    expect(loadWebConfig({ ...web, DOUBLE_OPT_IN: 'false', PUBLIC_URL: 'https://news.example/' })).toMatchObject({
      doubleOptIn: false,
      publicUrl: 'https://news.example',
    });
  });

  it('refuses unsigned webhooks in production', () => {
    expect(() => loadWebConfig({ ...web, NODE_ENV: 'production', SENDGRID_WEBHOOK_ALLOW_UNSIGNED: 'true' })).toThrowError(
      /SENDGRID_WEBHOOK_ALLOW_UNSIGNED: must not be true in production/,
    );
  });
});
