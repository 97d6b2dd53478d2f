import { isIP } from 'node:net';
import { z } from 'zod';

/** What Express's `trust proxy` setting takes: trust all or none, a hop count, or the proxies to trust. */
export type TrustProxy = boolean | number | string[];

/** The names Express (proxy-addr) knows for ranges of addresses. */
const rangeNames = new Set(['loopback', 'linklocal', 'uniquelocal']);

/**
 * TRUST_PROXY, read as Express reads `trust proxy`: `true`/`false`, a hop count, or a comma list
 * of addresses, subnets (CIDR or IPv4 netmask) and range names. Checked here rather than left to
 * Express, which throws on a bad entry only when the first request asks for the client address.
 * The client address is what the auth throttle counts, so trusting more than the proxies in front
 * lets anyone pick a fresh address per guess with X-Forwarded-For.
 */
export const trustProxySetting = z
  .string()
  .trim()
  .transform((value, ctx): TrustProxy => {
    if (value === 'true') return true;
    if (value === 'false') return false;
    if (/^\d+$/.test(value)) return Number(value);
    const entries = value.split(',').map((entry) => entry.trim());
    const invalid = entries.filter((entry) => !isTrustedProxyEntry(entry));
    if (invalid.length > 0) {
      ctx.addIssue({
        code: 'custom',
        message: `not an address, subnet or one of loopback, linklocal, uniquelocal: ${invalid.map((entry) => JSON.stringify(entry)).join(', ')} (or give true, false or a hop count)`,
      });
      return z.NEVER;
    }
    return entries;
  });

function isTrustedProxyEntry(entry: string): boolean {
  if (rangeNames.has(entry)) return true;
  const [address = '', range, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (range === undefined) return true;
  if (/^\d+$/.test(range)) return Number(range) <= (family === 4 ? 32 : 128);
  // proxy-addr takes an IPv4 netmask in place of a prefix length, if its ones are contiguous.
  return family === 4 && isIP(range) === 4 && isContiguousMask(range);
}

function isContiguousMask(mask: string): boolean {
  const bits = mask.split('.').reduce((sum, octet) => sum * 256 + Number(octet), 0);
  const hostBits = 0xffffffff - bits;
  return (hostBits & (hostBits + 1)) === 0;
}
