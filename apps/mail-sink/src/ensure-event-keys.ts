import { createHash, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { closeSync, fchmodSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { parseEventSigningKey } from './sign-event-batch.js';

/** The sink signs with the private key; Herald's web verifies with the public one, as with SendGrid's. */
export const eventKeyFiles = { privateKey: 'private.key', publicKey: 'public.key' } as const;

export type EventKeys = {
  /** `generated`: there was no private key, so a new pair was made; `kept`: the existing one stays. */
  outcome: 'generated' | 'kept';
  privateKeyPath: string;
  publicKeyPath: string;
  /** The first 16 hex digits of SHA-256 over the public key's DER: to tell pairs apart in logs. */
  fingerprint: string;
};

/**
 * Makes sure `dir` holds an event signing key pair: the private key as PKCS#8 PEM (what
 * SINK_EVENT_WEBHOOK_PRIVATE_KEY reads), the public key as base64 DER SubjectPublicKeyInfo (the form
 * SendGrid shows and SENDGRID_WEBHOOK_PUBLIC_KEY reads). A private key already there is kept, so the
 * pair survives restarts; the public key is always derived from it again, so a start interrupted
 * between the two writes, or a lost public key, heals. A private key that does not parse is refused,
 * not replaced: it is someone's, and replacing it silently would break whoever verifies with it.
 */
export function ensureEventKeys(dir: string): EventKeys {
  const privateKeyPath = join(dir, eventKeyFiles.privateKey);
  const publicKeyPath = join(dir, eventKeyFiles.publicKey);
  const existing = readIfPresent(privateKeyPath);
  let privateKey: KeyObject;
  if (existing === undefined) {
    privateKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
    // Owner-read only: the sink reads it, and a signing key that others can read lets them forge events.
    writeAtomically(privateKeyPath, privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), 0o400);
  } else {
    try {
      privateKey = parseEventSigningKey(existing);
    } catch (err) {
      throw new Error(`${privateKeyPath} ${(err as Error).message}; remove it (or the volume holding it) to make a new pair`, { cause: err });
    }
  }
  const der = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  const publicKey = `${der.toString('base64')}\n`;
  if (readIfPresent(publicKeyPath) !== publicKey) writeAtomically(publicKeyPath, publicKey, 0o444);
  return {
    outcome: existing === undefined ? 'generated' : 'kept',
    privateKeyPath,
    publicKeyPath,
    fingerprint: createHash('sha256').update(der).digest('hex').slice(0, 16),
  };
}

function readIfPresent(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * Readers see the old file or the whole new one, never a half-written key: the content goes to a
 * temporary file beside it, reaches the disk, and is renamed over the target. The mode is set on the
 * open file, before the content is in it, so the key is never readable more widely than `mode`.
 */
function writeAtomically(path: string, content: string, mode: number): void {
  const temporary = `${path}.tmp`;
  // Left by a start that died mid-write; its read-only mode would make opening it for writing fail.
  rmSync(temporary, { force: true });
  const fd = openSync(temporary, 'wx', mode);
  try {
    fchmodSync(fd, mode);
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, path);
}
