import net from 'node:net';
import { Resolver } from 'node:dns/promises';
import type { Clock } from '../../lib/clock';
import { withRetries, type RetryPolicy } from '../../panel/whm/backoff';
import { withDeadline } from './deadline';
import { TtlCache } from './ttlCache';
import type { MxAnswer, MxHost } from './types';

/**
 * RFC 5321 §5.1 mail routing on node:dns (c-ares) with configurable servers:
 * MX first, CNAMEs followed (bounded), sorted by preference; the domain's own A/AAAA only when it
 * has no MX at all; a null MX (RFC 7505) means "no mail". NXDOMAIN is `no_domain`; SERVFAIL, a
 * timeout or a refusal is `dns_error`, which the probe reports as unknown, never as missing.
 */
export interface MxResolverOptions {
  /** "ip" or "ip:port"; null = the system's servers. */
  servers: string[] | null;
  /** Bound on one whole resolution (all CNAME steps and fallbacks together). */
  timeoutMs: number;
  positiveTtlMs: number;
  negativeTtlMs: number;
  /** Retries of SERVFAIL/REFUSED answers, which are often transient at recursive resolvers. */
  retry?: RetryPolicy;
}

export interface HostAddresses {
  /** IPv4 first: a dual-stack host is tried on the family most servers are reachable on. */
  addresses: string[];
  error?: string;
}

const MAX_CNAME_DEPTH = 8;
const DEFAULT_RETRY: RetryPolicy = { retries: 1, baseDelayMs: 100, maxDelayMs: 400 };

type Lookup<T> = { ok: T[] } | { nodata: true } | { nxdomain: true } | { error: string };

function errorCode(err: unknown): string {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' ? code : err instanceof Error ? err.message : String(err);
}

const TRANSIENT = new Set(['ESERVFAIL', 'EREFUSED', 'ECONNREFUSED']);

async function lookup<T>(query: () => Promise<T[]>, retry: RetryPolicy): Promise<Lookup<T>> {
  try {
    const records = await withRetries(retry, () => query(), (err) => TRANSIENT.has(errorCode(err)));
    // A CNAME-only answer comes back as an empty list rather than ENODATA.
    return records.length > 0 ? { ok: records } : { nodata: true };
  } catch (err) {
    const code = errorCode(err);
    if (code === 'ENODATA') return { nodata: true };
    if (code === 'ENOTFOUND') return { nxdomain: true };
    return { error: code };
  }
}

function normaliseName(name: string): string {
  return name.trim().toLowerCase().replace(/\.$/, '');
}

function dnsError(name: string, what: string, code: string): MxAnswer {
  return { kind: 'dns_error', hosts: [], error: `${what} lookup for ${name} failed: ${code}` };
}

export class MxResolver {
  private readonly resolver: Resolver;
  private readonly mxCache: TtlCache<MxAnswer>;
  private readonly hostCache: TtlCache<HostAddresses>;
  private readonly retry: RetryPolicy;

  constructor(
    clock: Clock,
    private readonly options: MxResolverOptions,
  ) {
    // Two tries per query inside the overall deadline: one lost UDP packet must not make a domain unknown.
    this.resolver = new Resolver({ timeout: Math.max(50, Math.floor(options.timeoutMs / 3)), tries: 2 });
    if (options.servers) this.resolver.setServers(options.servers);
    this.mxCache = new TtlCache(clock);
    this.hostCache = new TtlCache(clock);
    this.retry = options.retry ?? DEFAULT_RETRY;
  }

  /** Where mail for `domain` goes. Never throws: failures are `dns_error`. */
  async resolveMail(domain: string): Promise<MxAnswer> {
    const name = normaliseName(domain);
    return this.mxCache.getOrLoad(
      name,
      () =>
        withDeadline(this.routeOf(name), this.options.timeoutMs, `MX resolution of ${name}`).catch(
          (err: unknown): MxAnswer => ({ kind: 'dns_error', hosts: [], error: err instanceof Error ? err.message : String(err) }),
        ),
      (answer) => (answer.kind === 'dns_error' ? 0 : answer.hosts.length > 0 ? this.options.positiveTtlMs : this.options.negativeTtlMs),
    );
  }

  /** The A and AAAA addresses of an MX host (or the literal, if the MX names an IP). Never throws. */
  async resolveHost(host: string): Promise<HostAddresses> {
    const name = normaliseName(host);
    if (net.isIP(name)) return { addresses: [name] };
    return this.hostCache.getOrLoad(
      name,
      () =>
        withDeadline(this.addressesOf(name), this.options.timeoutMs, `address lookup of ${name}`).catch(
          (err: unknown): HostAddresses => ({ addresses: [], error: err instanceof Error ? err.message : String(err) }),
        ),
      (result) => (result.error ? 0 : result.addresses.length > 0 ? this.options.positiveTtlMs : this.options.negativeTtlMs),
    );
  }

  private async routeOf(domain: string): Promise<MxAnswer> {
    const seen = new Set<string>();
    let name = domain;
    for (let depth = 0; depth <= MAX_CNAME_DEPTH; depth++) {
      if (seen.has(name)) return { kind: 'dns_error', hosts: [], error: `CNAME loop at ${name}` };
      seen.add(name);
      const mx = await lookup(() => this.resolver.resolveMx(name), this.retry);
      if ('error' in mx) return dnsError(name, 'MX', mx.error);
      if ('ok' in mx) return this.fromMxRecords(mx.ok);
      if ('nxdomain' in mx) return this.whenNxdomain(domain, name);
      // No MX at this name (NODATA): follow a CNAME if there is one, as §5.1 says, else fall back.
      const cname = await lookup(() => this.resolver.resolveCname(name), this.retry);
      if ('error' in cname) return dnsError(name, 'CNAME', cname.error);
      const target = 'ok' in cname && cname.ok[0] ? normaliseName(cname.ok[0]) : null;
      if (target && target !== name) {
        name = target;
        continue;
      }
      return this.implicitMx(name);
    }
    return { kind: 'dns_error', hosts: [], error: `CNAME chain from ${domain} longer than ${MAX_CNAME_DEPTH}` };
  }

  private fromMxRecords(records: Array<{ exchange: string; priority: number }>): MxAnswer {
    const hosts: MxHost[] = records
      .map((r) => ({ host: normaliseName(r.exchange), priority: r.priority }))
      .filter((h) => h.host !== '');
    if (hosts.length === 0) return { kind: 'null_mx', hosts: [] };
    // Equal preferences are ordered by name, not at random (§5.1 allows either): the same host is
    // then tried first for every domain it serves, so their probes share one session.
    hosts.sort((a, b) => a.priority - b.priority || a.host.localeCompare(b.host));
    const answer: MxAnswer = { kind: 'mx', hosts };
    if (hosts.length < records.length) answer.error = 'a null MX was published beside other MX records (RFC 7505 forbids this); it was ignored';
    return answer;
  }

  /**
   * NXDOMAIN for MX should mean the name does not exist. One A lookup confirms it, so a resolver
   * that answers NXDOMAIN where it means NODATA cannot turn a mail domain into "no domain".
   */
  private async whenNxdomain(domain: string, name: string): Promise<MxAnswer> {
    const a = await lookup(() => this.resolver.resolve4(name), this.retry);
    if ('ok' in a) return { kind: 'a_fallback', hosts: [{ host: name, priority: 0 }] };
    if ('error' in a) return dnsError(name, 'A', a.error);
    if ('nodata' in a) return this.implicitMx(name);
    return { kind: 'no_domain', hosts: [], error: name === domain ? `${domain} does not exist (NXDOMAIN)` : `CNAME target ${name} of ${domain} does not exist (NXDOMAIN)` };
  }

  /** No MX records exist: the name itself is the mail host (implicit MX, preference 0), if it has addresses. */
  private async implicitMx(name: string): Promise<MxAnswer> {
    const found = await this.resolveHost(name);
    if (found.error && found.addresses.length === 0) return { kind: 'dns_error', hosts: [], error: found.error };
    const answer: MxAnswer = { kind: 'a_fallback', hosts: found.addresses.length > 0 ? [{ host: name, priority: 0 }] : [] };
    if (found.addresses.length === 0) answer.error = `${name} has neither MX nor A/AAAA records`;
    return answer;
  }

  private async addressesOf(name: string): Promise<HostAddresses> {
    const [v4, v6] = await Promise.all([
      lookup(() => this.resolver.resolve4(name), this.retry),
      lookup(() => this.resolver.resolve6(name), this.retry),
    ]);
    const addresses = [...('ok' in v4 ? v4.ok : []), ...('ok' in v6 ? v6.ok : [])];
    const errors = [v4, v6].filter((r): r is { error: string } => 'error' in r).map((r) => r.error);
    // One family failing while the other answered still gives a usable host.
    if (errors.length > 0 && addresses.length === 0) return { addresses, error: `address lookup for ${name} failed: ${errors.join(', ')}` };
    return { addresses };
  }
}
