import net from 'node:net';
import type { MxResolver } from './mxResolver';
import type { MxAnswer } from './types';

/** One address of one MX host, in the order the probe will try them. */
export interface Candidate {
  host: string;
  priority: number;
  ip: string;
}

export interface Route {
  mx: MxAnswer;
  candidates: Candidate[];
  /** Hosts that gave no usable address, with why: evidence when no candidate is left. */
  unusable: string[];
}

/**
 * The MX answer turned into addresses to connect to: hosts in preference order, each host's
 * addresses IPv4 first, only the family the local bind address can reach, each address once
 * (several MX names often point at one server), at most `maxHostsTried` in all.
 */
export async function routeFor(
  domain: string,
  resolver: MxResolver,
  options: { localAddress: string | null; maxHostsTried: number },
): Promise<Route> {
  const mx = await resolver.resolveMail(domain);
  if (mx.kind !== 'mx' && mx.kind !== 'a_fallback') return { mx, candidates: [], unusable: [] };
  const family = options.localAddress ? net.isIP(options.localAddress) : 0;
  const resolved = await Promise.all(mx.hosts.map((h) => resolver.resolveHost(h.host)));
  const candidates: Candidate[] = [];
  const unusable: string[] = [];
  const seen = new Set<string>();
  mx.hosts.forEach((h, i) => {
    const found = resolved[i]!;
    const usable = found.addresses.filter((ip) => family === 0 || net.isIP(ip) === family);
    if (usable.length === 0) {
      unusable.push(found.error ?? (found.addresses.length > 0 ? `${h.host}: no IPv${family} address to reach from ${options.localAddress}` : `${h.host} has no A/AAAA record`));
      return;
    }
    for (const ip of usable) {
      if (seen.has(ip)) continue;
      seen.add(ip);
      candidates.push({ host: h.host, priority: h.priority, ip });
    }
  });
  return { mx, candidates: candidates.slice(0, options.maxHostsTried), unusable };
}
