import { hash, verify } from '@node-rs/argon2';

// The library's const enum Algorithm.Argon2id, which isolated modules cannot import.
const argon2id = 2;

/** argon2id with the library's defaults (19 MiB, 2 passes: OWASP's minimum), about 50 ms here. */
export function hashPassword(password: string): Promise<string> {
  return hash(password, { algorithm: argon2id });
}

// Verified against when there is no account (or no password) for the email given, so a wrong
// email takes as long as a wrong password and the timing does not tell which accounts exist.
const noAccountHash = '$argon2id$v=19$m=19456,t=2,p=1$uoPNNYc9jXNXatT84kOySg$uV7afNh8MpIH+APdkR0s2km5Tuy+z7k/Laxa6EK9W14';

export async function passwordMatches(storedHash: string | null, password: string): Promise<boolean> {
  try {
    const matches = await verify(storedHash ?? noAccountHash, password);
    return storedHash !== null && matches;
  } catch {
    return false;
  }
}

export const minPasswordLength = 12;
