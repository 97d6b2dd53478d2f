import ipaddr from 'ipaddr.js';
import { isStorableText } from './storable-text.js';

/**
 * Which addresses an outbound webhook may reach: only public unicast ones, unless
 * WEBHOOK_ALLOW_PRIVATE. Otherwise an endpoint URL could make Herald call what sits behind it: a
 * cloud metadata service (169.254.169.254), Postgres, Redis, an admin port on localhost. The web
 * refuses such a URL when it is saved; the worker checks again on every connection, against the
 * addresses the name resolves to then.
 */

/** Why `address` may not be reached (its range, as ipaddr.js names it), or undefined if it may. */
export function refusedAddressRange(address: string): string | undefined {
  if (!ipaddr.isValid(address)) return 'not an address';
  let parsed = ipaddr.parse(address);
  // ::ffff:10.0.0.1 is 10.0.0.1.
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  const range = parsed.range();
  return range === 'unicast' ? undefined : range;
}

/**
 * What is wrong with `raw` as an endpoint URL, or undefined: an http(s) URL of at most 2000
 * characters, with no user or password in it, whose host is a name or a public address. A name is
 * checked when the worker connects (it may resolve differently by then); `localhost` is refused here.
 */
export function webhookUrlProblem(raw: string, allowPrivate: boolean): string | undefined {
  if (raw.length > 2000) return 'must be at most 2000 characters';
  // The URL parser would quietly drop or encode these; the URL is stored and shown as typed.
  // eslint-disable-next-line no-control-regex -- control characters are what this refuses
  if (/[\u0000-\u0020\u007f-\u009f]/.test(raw)) return 'must not contain spaces or control characters';
  if (!isStorableText(raw)) return 'must be valid Unicode text';
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'must be a URL, like https://example.com/hooks/herald';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'must be an http or https URL';
  if (url.username || url.password) return 'must not carry a user name or password (the signature proves the sender)';
  if (allowPrivate) return undefined;
  const privateHint = 'Set WEBHOOK_ALLOW_PRIVATE=true to allow receivers on your own network.';
  if (url.hostname === 'localhost' || url.hostname.endsWith('.localhost')) return `must be a public address, not localhost. ${privateHint}`;
  const refused = refusedLiteral(url);
  return refused ? `must be a public address; ${refused.address} is a ${refused.range} address. ${privateHint}` : undefined;
}

/**
 * The address a URL's host names literally (`10.0.0.1`, `[::1]`) and why it may not be reached, or
 * undefined for a name or a public address. Node connects to a literal without a lookup, so the
 * worker checks it here rather than in its guarded lookup.
 */
export function refusedLiteral(url: URL): { address: string; range: string } | undefined {
  const address = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!ipaddr.isValid(address)) return undefined;
  const range = refusedAddressRange(address);
  return range ? { address, range } : undefined;
}
