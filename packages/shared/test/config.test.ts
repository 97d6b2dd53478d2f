import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { commonEnv, parseEnv, productionWarnings, withoutEmpty } from '../src/config.js';
import { checkMetricsAccess } from '../src/metrics-access.js';
import { bearerTokenMatches } from '../src/secrets.js';

const schema = z.object({
  ...commonEnv,
  REQUIRED: z.string().min(3),
  OPTIONAL_KEY: z.string().min(10).optional(),
});
const base = { DATABASE_URL: 'postgresql://postgres@127.0.0.1:5432/herald', REQUIRED: 'abc' };

describe('empty means unset', () => {
  it('drops empty variables and keeps every other value as given', () => {
    expect(withoutEmpty({ A: '', B: 'b', C: undefined, D: ' ' })).toEqual({ B: 'b', D: ' ' });
  });

  it('treats an empty optional variable as absent instead of malformed', () => {
    const parsed = parseEnv(schema, { ...base, OPTIONAL_KEY: '', METRICS_TOKEN: '' });
    expect(parsed.OPTIONAL_KEY).toBeUndefined();
    expect(parsed.METRICS_TOKEN).toBeUndefined();
  });

  it('applies the default to an empty variable that has one', () => {
    const parsed = parseEnv(schema, { ...base, NODE_ENV: '', REDIS_URL: '', QUEUE_PREFIX: '', PUBLIC_URL: '', DOUBLE_OPT_IN: '' });
    expect(parsed).toMatchObject({
      NODE_ENV: 'development',
      REDIS_URL: 'redis://127.0.0.1:6379',
      QUEUE_PREFIX: 'herald',
      PUBLIC_URL: 'http://localhost:3000',
      DOUBLE_OPT_IN: true,
    });
  });

  it('reports an empty required variable as missing, not malformed', () => {
    expect(() => parseEnv(schema, { ...base, REQUIRED: '', DATABASE_URL: '' })).toThrowError(
      /DATABASE_URL: is required[\s\S]*REQUIRED: is required/,
    );
  });

  it('still refuses a malformed value that is not empty', () => {
    expect(() => parseEnv(schema, { ...base, OPTIONAL_KEY: 'short' })).toThrowError(/OPTIONAL_KEY: Too small/);
    expect(() => parseEnv(schema, { ...base, METRICS_TOKEN: 'short' })).toThrowError(/METRICS_TOKEN: must be at least 16 characters/);
  });
});

describe('secrets from files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-config-'));
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  it('reads NAME_FILE into NAME, less the trailing newline', () => {
    const parsed = parseEnv(schema, { ...base, METRICS_TOKEN_FILE: file('metrics', 'token-from-a-file-0123\n') });
    expect(parsed.METRICS_TOKEN).toBe('token-from-a-file-0123');
  });

  it('validates what the file holds as it would the variable', () => {
    expect(() => parseEnv(schema, { ...base, METRICS_TOKEN_FILE: file('short', 'short') })).toThrowError(/METRICS_TOKEN: must be at least 16 characters/);
  });

  it('refuses a file that cannot be read, and a secret given both ways', () => {
    expect(() => parseEnv(schema, { ...base, METRICS_TOKEN_FILE: join(dir, 'absent') })).toThrowError(/METRICS_TOKEN_FILE: cannot read .*absent \(ENOENT\)/);
    expect(() => parseEnv(schema, { ...base, METRICS_TOKEN: 'token-in-the-environment', METRICS_TOKEN_FILE: file('both', 'token-from-a-file-0123') })).toThrowError(
      /METRICS_TOKEN_FILE: is set together with METRICS_TOKEN/,
    );
  });

  it('reads only the secrets it names: any other NAME_FILE is an ordinary variable', () => {
    const parsed = parseEnv(z.object({ ...commonEnv, REQUIRED_FILE: z.string().optional() }), { ...base, REQUIRED_FILE: join(dir, 'absent') });
    expect(parsed.REQUIRED_FILE).toBe(join(dir, 'absent'));
  });
});

describe('productionWarnings', () => {
  it('warns in production when PUBLIC_URL is not https (RFC 8058 one-click unsubscribe)', () => {
    expect(productionWarnings({ env: 'production', publicUrl: 'http://news.example' })).toEqual([
      expect.objectContaining({ variable: 'PUBLIC_URL', value: 'http://news.example', problem: expect.stringMatching(/RFC 8058/) }),
    ]);
  });

  it('says nothing for https in production, or for http outside production', () => {
    expect(productionWarnings({ env: 'production', publicUrl: 'https://news.example' })).toEqual([]);
    expect(productionWarnings({ env: 'production', publicUrl: 'HTTPS://news.example' })).toEqual([]);
    expect(productionWarnings({ env: 'development', publicUrl: 'http://localhost:3000' })).toEqual([]);
  });
});

describe('metrics access', () => {
  const token = 'metrics-token-0123456789';

  it('accepts exactly `Bearer <token>`', () => {
    expect(bearerTokenMatches(`Bearer ${token}`, token)).toBe(true);
    expect(bearerTokenMatches(`bearer ${token}`, token)).toBe(true);
    expect(checkMetricsAccess(`Bearer ${token}`, token)).toEqual({ allowed: true });
  });

  it('refuses a missing, wrong, truncated or differently-cased token, and Basic', () => {
    for (const header of [undefined, '', 'Bearer', `Bearer ${token.slice(0, -1)}`, `Bearer ${token.toUpperCase()}`, `Basic ${token}`, token]) {
      expect(bearerTokenMatches(header, token)).toBe(false);
      expect(checkMetricsAccess(header, token)).toMatchObject({ allowed: false, status: 401, code: 'unauthorized' });
    }
  });

  it('keeps /metrics closed when no token is configured, whatever is sent', () => {
    expect(checkMetricsAccess('Bearer anything-at-all-here', undefined)).toMatchObject({ allowed: false, status: 403, code: 'metrics_disabled' });
    expect(checkMetricsAccess(undefined, undefined)).toMatchObject({ allowed: false, status: 403 });
  });
});
