import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig as loadWebConfig } from '../../web/src/config.js';
import { parseWebhookPublicKey, verifyWebhookSignature } from '../../web/src/webhooks/webhook-signature.js';
import { loadConfig } from '../src/config.js';
import { ensureEventKeys } from '../src/ensure-event-keys.js';
import { serializeEventBatch, signEventBatch, SIGNATURE_HEADER, TIMESTAMP_HEADER } from '../src/sign-event-batch.js';

const dirs: string[] = [];

function freshDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'herald-event-keys-'));
  dirs.push(dir);
  return dir;
}

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Reads the pair as docker-compose.yml gives it to each process: as `_FILE` variables. */
function keysAsConfigured(dir: string) {
  const sink = loadConfig({
    SENDGRID_API_KEY: 'SG.event-keys-test',
    SINK_EVENT_WEBHOOK_URL: 'http://web:3000/webhooks/sendgrid',
    SINK_EVENT_WEBHOOK_PRIVATE_KEY_FILE: join(dir, 'private.key'),
  });
  const web = loadWebConfig({
    DATABASE_URL: 'postgresql://herald@127.0.0.1:5432/herald',
    ADMIN_TOKEN: 'event-keys-test-admin-token-0123456789',
    ADMIN_PASSWORD: 'event-keys-test-password',
    SESSION_SECRET: 'event-keys-test-session-secret-0123456789',
    SENDGRID_WEBHOOK_PUBLIC_KEY_FILE: join(dir, 'public.key'),
  });
  return { signingKey: sink.events!.signingKey, verifyingKey: parseWebhookPublicKey(web.webhook.publicKey!) };
}

function signsAndVerifies(dir: string): boolean {
  const { signingKey, verifyingKey } = keysAsConfigured(dir);
  const body = serializeEventBatch([{ email: 'ada@herald.test', event: 'delivered', sg_event_id: 'e1' }]);
  const headers = signEventBatch(signingKey, body);
  return verifyWebhookSignature(verifyingKey, { signature: headers[SIGNATURE_HEADER], timestamp: headers[TIMESTAMP_HEADER] }, body);
}

const mode = (path: string) => statSync(path).mode & 0o777;

describe('the event key pair', () => {
  it('is generated into an empty directory: a PKCS#8 PEM private key only its owner reads, a base64 DER public key', () => {
    const dir = freshDir();
    const keys = ensureEventKeys(dir);

    expect(keys.outcome).toBe('generated');
    expect(keys.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    expect(readdirSync(dir).sort()).toEqual(['private.key', 'public.key']);
    expect(readFileSync(keys.privateKeyPath, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(readFileSync(keys.publicKeyPath, 'utf8')).toMatch(/^[A-Za-z0-9+/]+=*\n$/);
    expect(mode(keys.privateKeyPath)).toBe(0o400);
    expect(mode(keys.publicKeyPath)).toBe(0o444);
  });

  it('signs with the sink’s own code what Herald’s web verifies, each read through its _FILE variable', () => {
    const dir = freshDir();
    ensureEventKeys(dir);

    expect(signsAndVerifies(dir)).toBe(true);
  });

  it('is kept on a later start, byte for byte', () => {
    const dir = freshDir();
    const first = ensureEventKeys(dir);
    const privateKey = readFileSync(first.privateKeyPath, 'utf8');
    const publicKey = readFileSync(first.publicKeyPath, 'utf8');

    const second = ensureEventKeys(dir);

    expect(second.outcome).toBe('kept');
    expect(second.fingerprint).toBe(first.fingerprint);
    expect(readFileSync(second.privateKeyPath, 'utf8')).toBe(privateKey);
    expect(readFileSync(second.publicKeyPath, 'utf8')).toBe(publicKey);
    expect(readdirSync(dir).sort()).toEqual(['private.key', 'public.key']);
  });

  it('differs from one directory to the next: every stack has a pair of its own', () => {
    const one = freshDir();
    const other = freshDir();
    ensureEventKeys(one);
    ensureEventKeys(other);

    expect(readFileSync(join(one, 'private.key'), 'utf8')).not.toBe(readFileSync(join(other, 'private.key'), 'utf8'));
    // Events signed for one stack are refused by the other.
    const { signingKey } = keysAsConfigured(one);
    const { verifyingKey } = keysAsConfigured(other);
    const body = serializeEventBatch([{ event: 'bounce' }]);
    const headers = signEventBatch(signingKey, body);
    expect(verifyWebhookSignature(verifyingKey, { signature: headers[SIGNATURE_HEADER], timestamp: headers[TIMESTAMP_HEADER] }, body)).toBe(false);
  });

  it('derives a lost public key again from the private key it keeps', () => {
    const dir = freshDir();
    const first = ensureEventKeys(dir);
    const publicKey = readFileSync(first.publicKeyPath, 'utf8');
    rmSync(first.publicKeyPath);

    const second = ensureEventKeys(dir);

    expect(second.outcome).toBe('kept');
    expect(readFileSync(second.publicKeyPath, 'utf8')).toBe(publicKey);
    expect(signsAndVerifies(dir)).toBe(true);
  });

  it('replaces a public key that does not match the private key', () => {
    const dir = freshDir();
    ensureEventKeys(dir);
    const stray = freshDir();
    ensureEventKeys(stray);
    rmSync(join(dir, 'public.key'), { force: true });
    writeFileSync(join(dir, 'public.key'), readFileSync(join(stray, 'public.key')));
    expect(signsAndVerifies(dir)).toBe(false);

    ensureEventKeys(dir);

    expect(signsAndVerifies(dir)).toBe(true);
  });

  it('finishes the write a start died in, leaving no temporary file', () => {
    const dir = freshDir();
    writeFileSync(join(dir, 'private.key.tmp'), 'half a key', { mode: 0o400 });

    const keys = ensureEventKeys(dir);

    expect(keys.outcome).toBe('generated');
    expect(readdirSync(dir).sort()).toEqual(['private.key', 'public.key']);
    expect(signsAndVerifies(dir)).toBe(true);
  });

  it('refuses a private key that does not parse rather than replace someone’s key', () => {
    const dir = freshDir();
    writeFileSync(join(dir, 'private.key'), 'not a key\n');

    expect(() => ensureEventKeys(dir)).toThrowError(/private\.key is not a PEM or base64 DER \(PKCS#8\) private key; remove it/);
    expect(readFileSync(join(dir, 'private.key'), 'utf8')).toBe('not a key\n');
  });
});
