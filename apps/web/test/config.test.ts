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

  it('treats empty variables as unset, as compose passes `${SENDGRID_WEBHOOK_PUBLIC_KEY:-}`', () => {
    const config = loadWebConfig({ ...web, SENDGRID_WEBHOOK_PUBLIC_KEY: '', SENDGRID_WEBHOOK_ALLOW_UNSIGNED: '', METRICS_TOKEN: '', PORT: '' });
    expect(config.webhook).toEqual({ publicKey: undefined, allowUnsigned: false });
    expect(config.metricsToken).toBeUndefined();
    expect(config.port).toBe(3000);
    expect(() => loadWebConfig({ ...web, ADMIN_TOKEN: '' })).toThrowError(/ADMIN_TOKEN: is required/);
  });

  it('reads METRICS_TOKEN, and refuses a short one', () => {
    expect(loadWebConfig({ ...web, METRICS_TOKEN: 'm'.repeat(16) }).metricsToken).toBe('m'.repeat(16));
    expect(() => loadWebConfig({ ...web, METRICS_TOKEN: 'short' })).toThrowError(/METRICS_TOKEN: must be at least 16/);
  });

  it('requires NEWSLETTER_NAME in production and defaults it elsewhere', () => {
    expect(() => loadWebConfig({ ...web, NODE_ENV: 'production' })).toThrowError(/NEWSLETTER_NAME: is required/);
    expect(loadWebConfig({ ...web, NODE_ENV: 'production', NEWSLETTER_NAME: 'The Lantern' }).newsletterName).toBe('The Lantern');
    expect(loadWebConfig(web).newsletterName).toBe('Herald');
    expect(() => loadWebConfig({ ...web, NEWSLETTER_NAME: 'x'.repeat(101) })).toThrowError(/NEWSLETTER_NAME: must be at most 100 characters/);
  });

  it('refuses the public example secrets in production', () => {
    const examples = {
      ADMIN_TOKEN: 'dev-admin-token-change-me-0123456789abcdef',
      ADMIN_PASSWORD: 'dev-password-change-me',
      SESSION_SECRET: 'dev-session-secret-change-me-0123456789',
      METRICS_TOKEN: 'dev-metrics-token-change-me-0123456789',
    };
    expect(loadWebConfig({ ...web, ...examples }).adminToken).toBe(examples.ADMIN_TOKEN);
    expect(() => loadWebConfig({ ...web, ...examples, NODE_ENV: 'production' })).toThrowError(
      /ADMIN_TOKEN: is the public example value[\s\S]*ADMIN_PASSWORD: is the public[\s\S]*SESSION_SECRET: is the public[\s\S]*METRICS_TOKEN: is the public/,
    );
  });

  it('trusts X-Forwarded-For from the local host only, unless TRUST_PROXY says otherwise', () => {
    expect(loadWebConfig(web).trustProxy).toEqual(['loopback']);
    expect(loadWebConfig({ ...web, TRUST_PROXY: '' }).trustProxy).toEqual(['loopback']);
    expect(loadWebConfig({ ...web, TRUST_PROXY: 'true' }).trustProxy).toBe(true);
    expect(loadWebConfig({ ...web, TRUST_PROXY: 'false' }).trustProxy).toBe(false);
    expect(loadWebConfig({ ...web, TRUST_PROXY: '2' }).trustProxy).toBe(2);
    expect(loadWebConfig({ ...web, TRUST_PROXY: 'loopback, uniquelocal,10.1.2.3, 10.0.0.0/8, 192.168.0.0/255.255.0.0, fd00::/8, ::1' }).trustProxy).toEqual([
      'loopback', 'uniquelocal', '10.1.2.3', '10.0.0.0/8', '192.168.0.0/255.255.0.0', 'fd00::/8', '::1',
    ]);
  });

  it('refuses a TRUST_PROXY Express could not use, naming each bad entry', () => {
    for (const bad of ['proxy.internal', '10.0.0.0/33', '10.0.0.0/255.0.255.0', 'fd00::/129', '-1', '1.5', 'loopback,,uniquelocal']) {
      expect(() => loadWebConfig({ ...web, TRUST_PROXY: bad }), bad).toThrowError(/TRUST_PROXY: /);
    }
    expect(() => loadWebConfig({ ...web, TRUST_PROXY: 'loopback, localhost, 300.1.1.1' })).toThrowError(/TRUST_PROXY: .*"localhost", "300\.1\.1\.1"/);
  });

  it('keeps idle connections open 65 s unless HTTP_KEEP_ALIVE_TIMEOUT_MS says otherwise', () => {
    expect(loadWebConfig(web).keepAliveTimeoutMs).toBe(65_000);
    expect(loadWebConfig({ ...web, HTTP_KEEP_ALIVE_TIMEOUT_MS: '' }).keepAliveTimeoutMs).toBe(65_000);
    expect(loadWebConfig({ ...web, HTTP_KEEP_ALIVE_TIMEOUT_MS: '120000' }).keepAliveTimeoutMs).toBe(120_000);
    for (const bad of ['0', '-5', '1.5', 'long']) {
      expect(() => loadWebConfig({ ...web, HTTP_KEEP_ALIVE_TIMEOUT_MS: bad }), bad).toThrowError(/HTTP_KEEP_ALIVE_TIMEOUT_MS: /);
    }
  });

  it('refuses unsigned webhooks in production', () => {
    expect(() => loadWebConfig({ ...web, NODE_ENV: 'production', SENDGRID_WEBHOOK_ALLOW_UNSIGNED: 'true' })).toThrowError(
      /SENDGRID_WEBHOOK_ALLOW_UNSIGNED: must not be true in production/,
    );
  });
});
