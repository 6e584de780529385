import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { BlockList, isIP } from 'node:net';

// SSRF guard of ALERTING.md §2: the address a webhook request actually connects to (after DNS,
// or the literal IP of the URL) must be a public one unless WEBHOOK_ALLOW_PRIVATE.

const blocked = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, 169.254.169.254 (metadata) included
  ['172.16.0.0', 12],
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.168.0.0', 16],
  ['198.18.0.0', 15], // benchmarking
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast included
] as const) {
  blocked.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128], // unspecified
  ['::1', 128], // loopback
  ['fc00::', 7], // unique-local
  ['fe80::', 10], // link-local
  ['ff00::', 8], // multicast
] as const) {
  blocked.addSubnet(net, prefix, 'ipv6');
}

/** Error code of a refused destination; the client reports it as `destination not allowed`. */
export const DESTINATION_NOT_ALLOWED = 'EDESTINATION_NOT_ALLOWED';

export class DestinationNotAllowedError extends Error {
  readonly code = DESTINATION_NOT_ALLOWED;
  constructor() {
    super('destination not allowed');
  }
}

/** The 16-bit groups of an IPv6 address (compressed or with a dotted IPv4 tail), or null. */
function ipv6Groups(address: string): number[] | null {
  let a = address.toLowerCase().split('%')[0];
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(a);
  if (dotted) {
    const [b1, b2, b3, b4] = dotted.slice(1).map(Number);
    a = a.slice(0, dotted.index) + `${((b1 << 8) | b2).toString(16)}:${((b3 << 8) | b4).toString(16)}`;
  }
  const halves = a.split('::');
  if (halves.length > 2) {
    return null;
  }
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const fill = halves.length === 2 ? 8 - head.length - tail.length : 0;
  const groups = [...head, ...Array<string>(Math.max(0, fill)).fill('0'), ...tail].map((g) => parseInt(g, 16));
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : null;
}

/**
 * True when `address` (an IP literal) is loopback, private, link-local, unique-local, multicast,
 * unspecified or otherwise non-public, IPv4-mapped and IPv4-compatible IPv6 forms included.
 */
export function isDisallowedAddress(address: string): boolean {
  const family = isIP(address.split('%')[0]);
  if (family === 4) {
    return blocked.check(address, 'ipv4');
  }
  if (family !== 6) {
    return true; // not an address at all: never connect to it
  }
  const g = ipv6Groups(address);
  if (!g) {
    return true;
  }
  const first80Zero = g.slice(0, 5).every((x) => x === 0);
  const nat64 = g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0);
  // ::ffff:a.b.c.d (mapped), ::a.b.c.d (compatible, deprecated) and 64:ff9b::a.b.c.d (NAT64): judged as the IPv4 address
  if (nat64 || (first80Zero && (g[5] === 0xffff || (g[5] === 0 && (g[6] !== 0 || g[7] > 1))))) {
    return blocked.check(`${g[6] >> 8}.${g[6] & 0xff}.${g[7] >> 8}.${g[7] & 0xff}`, 'ipv4');
  }
  const canonical = g.map((x) => x.toString(16)).join(':');
  return blocked.check(canonical, 'ipv6');
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for http(s).request that resolves as usual and drops disallowed addresses, so the
 * socket can only connect to an allowed one; none left → DestinationNotAllowedError.
 */
export function guardedLookup(hostname: string, options: LookupOptions, callback: LookupCallback): void {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) {
      callback(err, options.all ? [] : '', undefined);
      return;
    }
    const allowed = addresses.filter((a) => !isDisallowedAddress(a.address));
    if (!allowed.length) {
      callback(new DestinationNotAllowedError(), options.all ? [] : '', undefined);
      return;
    }
    if (options.all) {
      callback(null, allowed);
    } else {
      callback(null, allowed[0].address, allowed[0].family);
    }
  });
}
