import dns from 'node:dns/promises';
import net from 'node:net';
import { AppError } from '../errors.js';

export interface LookupAddress {
  address: string;
  family: number;
}

export type LookupAll = (hostname: string) => Promise<LookupAddress[]>;

/** A URL with the one address it was checked against; the connection goes to that address. */
export interface PublicTarget {
  url: URL;
  address: string;
  family: 4 | 6;
}

/** How a refusal names what was refused: the field, and the variable that allows private targets. */
export interface TargetRules {
  allowPrivate: boolean;
  lookup?: LookupAll;
  field: string;
  allowVariable: string;
}

const systemLookup: LookupAll = (hostname) => dns.lookup(hostname, { all: true, verbatim: true });

/** Loopback, private, link-local (cloud metadata at 169.254.169.254), CGNAT, multicast and reserved ranges. */
const NON_PUBLIC = (() => {
  const list = new net.BlockList();
  const v4: Array<[string, number]> = [
    ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
    ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24],
    ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
  ];
  const v6: Array<[string, number]> = [
    ['::', 128], ['::1', 128], ['64:ff9b::', 96], ['100::', 64], ['2001:db8::', 32], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8],
  ];
  for (const [net4, prefix] of v4) list.addSubnet(net4, prefix, 'ipv4');
  for (const [net6, prefix] of v6) list.addSubnet(net6, prefix, 'ipv6');
  return list;
})();

/** True for any address a server-side fetch must not reach by default (IPv4-mapped IPv6 is checked as IPv4). */
export function isNonPublicAddress(address: string): boolean {
  const family = net.isIP(address);
  if (family === 0) return true;
  return NON_PUBLIC.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

function refuse(message: string, details: Record<string, unknown>): AppError {
  return new AppError('INVALID_REQUEST', message, { details });
}

export function parseHttpUrl(raw: string, field: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw refuse(`${field} is not a valid URL: send an absolute http(s) URL.`, { field });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw refuse(`${field} must use http or https, not ${url.protocol.replace(':', '')}.`, { field });
  }
  return url;
}

/**
 * Resolves every address of the URL's host and refuses it if any of them is non-public (unless
 * allowed). Checking the resolved addresses, not the name, is what stops `localhost` or a name
 * pointing at 10.0.0.5; pinning the checked address for the connection stops a second, different
 * DNS answer (rebinding).
 */
export async function resolvePublicTarget(raw: string, rules: TargetRules): Promise<PublicTarget> {
  const url = parseHttpUrl(raw, rules.field);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const addresses = net.isIP(host) ? [{ address: host, family: net.isIP(host) }] : await lookupOrRefuse(host, rules.lookup ?? systemLookup, rules.field);
  const blocked = addresses.filter((a) => isNonPublicAddress(a.address));
  if (!rules.allowPrivate && blocked.length > 0) {
    throw refuse(
      `${rules.field} resolves to a loopback, private or link-local address (${blocked.map((a) => a.address).join(', ')}); use a public host, or set ${rules.allowVariable}=true for a trusted network.`,
      { field: rules.field, addresses: blocked.map((a) => a.address) },
    );
  }
  const first = addresses[0] as LookupAddress;
  return { url, address: first.address, family: first.family === 6 ? 6 : 4 };
}

/** A `lookup` for http(s).request that answers only the checked address, so no second DNS answer is used. */
export function pinnedLookup(target: PublicTarget): typeof import('node:dns').lookup {
  const lookup = (_host: string, opts: { all?: boolean }, cb: (...args: unknown[]) => void) => {
    if (opts.all) cb(null, [{ address: target.address, family: target.family }]);
    else cb(null, target.address, target.family);
  };
  return lookup as unknown as typeof import('node:dns').lookup;
}

async function lookupOrRefuse(host: string, lookup: LookupAll, field: string): Promise<LookupAddress[]> {
  const addresses = await lookup(host).catch(() => [] as LookupAddress[]);
  if (addresses.length === 0) throw refuse(`${field} host "${host}" does not resolve; check the name.`, { field });
  return addresses;
}
