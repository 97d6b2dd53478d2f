import { lookup as dnsLookup } from 'node:dns';
import type { LookupAddress, LookupAllOptions, LookupOneOptions } from 'node:dns';
import ipaddr from 'ipaddr.js';

/**
 * Which addresses an outbound webhook may connect to: only public unicast ones, unless
 * WEBHOOK_ALLOW_PRIVATE. Otherwise an endpoint URL could make Herald's worker call what sits
 * behind it: the metadata service (169.254.169.254), Postgres, Redis, an admin port on localhost.
 */

/** Why `address` may not be reached (its range, as ipaddr.js names it), or undefined if it may. */
export function refusedRange(address: string): string | undefined {
  if (!ipaddr.isValid(address)) return 'not an address';
  let parsed = ipaddr.parse(address);
  // ::ffff:10.0.0.1 is 10.0.0.1.
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  const range = parsed.range();
  return range === 'unicast' ? undefined : range;
}

export class RefusedAddressError extends Error {
  override name = 'RefusedAddressError';
  readonly code = 'EREFUSEDADDRESS';
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for http.request that resolves as usual and refuses the connection if any address the
 * name resolves to is not public. The check is on the addresses the socket then connects to, so a
 * name that resolves to a public address when the endpoint is saved and to a private one later
 * (DNS rebinding) is refused as well.
 */
export function guardedLookup(allowPrivate: boolean) {
  return (hostname: string, options: LookupOneOptions | LookupAllOptions, callback: LookupCallback): void => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      const refused = allowPrivate ? undefined : addresses.find((entry) => refusedRange(entry.address));
      if (refused) {
        return callback(new RefusedAddressError(`refused: ${hostname} resolves to ${refused.address}, a ${refusedRange(refused.address)} address`), []);
      }
      if ((options as LookupAllOptions).all) return callback(null, addresses);
      const first = addresses[0];
      if (!first) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), []);
      callback(null, first.address, first.family);
    });
  };
}

/**
 * The same rule for a URL whose host is an address literal, which Node connects to without a
 * lookup. Returns why it is refused, or undefined.
 */
export function refusedLiteral(url: URL, allowPrivate: boolean): string | undefined {
  if (allowPrivate) return undefined;
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!ipaddr.isValid(host)) return undefined;
  const range = refusedRange(host);
  return range ? `refused: ${host} is a ${range} address` : undefined;
}
