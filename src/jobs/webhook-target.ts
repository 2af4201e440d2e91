import dns from 'node:dns/promises';
import net from 'node:net';
import { AppError } from '../errors.js';

export interface LookupAddress {
  address: string;
  family: number;
}

export type LookupAll = (hostname: string) => Promise<LookupAddress[]>;

/** A webhook URL with the one address it was checked against; delivery connects to that address. */
export interface WebhookTarget {
  url: URL;
  address: string;
  family: 4 | 6;
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

/** True for any address a webhook must not reach by default (IPv4-mapped IPv6 is checked as IPv4). */
export function isNonPublicAddress(address: string): boolean {
  const family = net.isIP(address);
  if (family === 0) return true;
  return NON_PUBLIC.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

function refuse(message: string, details: Record<string, unknown>): AppError {
  return new AppError('INVALID_REQUEST', message, { details });
}

export function parseWebhookUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw refuse('webhookUrl is not a valid URL: send an absolute http(s) URL.', { field: 'webhookUrl' });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw refuse(`webhookUrl must use http or https, not ${url.protocol.replace(':', '')}.`, { field: 'webhookUrl' });
  }
  return url;
}

/**
 * Resolves every address of the webhook host and refuses the URL if any of them is non-public
 * (unless WEBHOOK_ALLOW_PRIVATE). Checking the resolved addresses, not the name, is what stops
 * `localhost` or a name pointing at 10.0.0.5; pinning the checked address for the connection stops
 * a second, different DNS answer (rebinding).
 */
export async function resolveWebhookTarget(raw: string, opts: { allowPrivate: boolean; lookup?: LookupAll }): Promise<WebhookTarget> {
  const url = parseWebhookUrl(raw);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const addresses = net.isIP(host) ? [{ address: host, family: net.isIP(host) }] : await lookupOrRefuse(host, opts.lookup ?? systemLookup);
  const blocked = addresses.filter((a) => isNonPublicAddress(a.address));
  if (!opts.allowPrivate && blocked.length > 0) {
    throw refuse(
      `webhookUrl resolves to a loopback, private or link-local address (${blocked.map((a) => a.address).join(', ')}); use a public host, or set WEBHOOK_ALLOW_PRIVATE=true for a trusted network.`,
      { field: 'webhookUrl', addresses: blocked.map((a) => a.address) },
    );
  }
  const first = addresses[0] as LookupAddress;
  return { url, address: first.address, family: first.family === 6 ? 6 : 4 };
}

async function lookupOrRefuse(host: string, lookup: LookupAll): Promise<LookupAddress[]> {
  const addresses = await lookup(host).catch(() => [] as LookupAddress[]);
  if (addresses.length === 0) throw refuse(`webhookUrl host "${host}" does not resolve; check the name.`, { field: 'webhookUrl' });
  return addresses;
}
