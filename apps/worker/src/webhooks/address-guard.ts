import { lookup as dnsLookup } from 'node:dns';
import type { LookupAddress, LookupAllOptions, LookupOneOptions } from 'node:dns';
import { refusedAddressRange } from '@herald/shared';

/**
 * The connection-time half of the rule in webhook-addresses.ts (packages/shared): only public
 * addresses, unless WEBHOOK_ALLOW_PRIVATE.
 */

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
      const refused = allowPrivate ? undefined : addresses.find((entry) => refusedAddressRange(entry.address));
      if (refused) {
        return callback(new RefusedAddressError(`refused: ${hostname} resolves to ${refused.address}, a ${refusedAddressRange(refused.address)} address`), []);
      }
      if ((options as LookupAllOptions).all) return callback(null, addresses);
      const first = addresses[0];
      if (!first) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), []);
      callback(null, first.address, first.family);
    });
  };
}
