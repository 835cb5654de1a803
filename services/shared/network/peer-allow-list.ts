import { BlockList, isIP } from 'node:net';
import { ExpectedError } from '../errors.ts';

/** Which peers a gateway talks to: everyone when the list is empty, else the listed addresses and subnets. */
export interface PeerAllowList {
  allows(address: string | undefined): boolean;
  /** The list as configured (for logs and /health). */
  readonly entries: readonly string[];
}

export class PeerListError extends ExpectedError {}

function plainAddress(address: string): string {
  // IPv4 peers on a dual-stack socket show up as ::ffff:a.b.c.d
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

/**
 * Parses "10.1.2.3, 10.20.0.0/16, ::1" (addresses and CIDR subnets, IPv4 or IPv6). Throws
 * PeerListError naming the entry that is neither, and the variable it came from.
 */
export function parsePeerAllowList(list: string, variable: string): PeerAllowList {
  const entries = list
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  const blocks = new BlockList();
  for (const entry of entries) {
    const [address, prefix] = entry.split('/');
    const family = isIP(address ?? '');
    const type = family === 6 ? 'ipv6' : 'ipv4';
    if (family === 0 || (prefix !== undefined && !/^\d{1,3}$/.test(prefix))) {
      throw new PeerListError(
        `${variable}: "${entry}" is not an IP address or CIDR subnet (e.g. 10.1.0.0/16)`,
      );
    }
    if (prefix === undefined) blocks.addAddress(address!, type);
    else {
      const bits = Number(prefix);
      if (bits > (family === 6 ? 128 : 32))
        throw new PeerListError(`${variable}: "${entry}" has a prefix too long`);
      blocks.addSubnet(address!, bits, type);
    }
  }
  return {
    entries,
    allows(address) {
      if (entries.length === 0) return true;
      if (!address) return false;
      const plain = plainAddress(address);
      const family = isIP(plain);
      if (family === 0) return false;
      return blocks.check(plain, family === 6 ? 'ipv6' : 'ipv4');
    },
  };
}
