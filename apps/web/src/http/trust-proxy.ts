import proxyAddr from 'proxy-addr';
import { z } from 'zod';

/** What Express's `trust proxy` setting takes: trust all or none, a hop count, or the proxies to trust. */
export type TrustProxy = boolean | number | string[];

/**
 * TRUST_PROXY, read as Express reads `trust proxy`: `true`/`false`, a hop count, or a comma list
 * of addresses, subnets (CIDR or IPv4 netmask) and range names (loopback, linklocal, uniquelocal).
 * Each entry is checked by proxy-addr, the parser Express itself uses, here at boot rather than
 * when the first request asks for the client address. The client address is what the auth
 * throttle counts, so trusting more than the proxies in front lets anyone pick a fresh address per
 * guess with X-Forwarded-For.
 */
export const trustProxySetting = z
  .string()
  .trim()
  .transform((value, ctx): TrustProxy => {
    if (value === 'true') return true;
    if (value === 'false') return false;
    if (/^\d+$/.test(value)) return Number(value);
    const entries = value.split(',').map((entry) => entry.trim());
    const invalid = entries.filter((entry) => !isProxyEntry(entry));
    if (invalid.length > 0) {
      ctx.addIssue({
        code: 'custom',
        message: `not an address, subnet or one of loopback, linklocal, uniquelocal: ${invalid.map((entry) => JSON.stringify(entry)).join(', ')} (or give true, false or a hop count)`,
      });
      return z.NEVER;
    }
    return entries;
  });

function isProxyEntry(entry: string): boolean {
  try {
    proxyAddr.compile([entry]);
    return true;
  } catch {
    return false;
  }
}
