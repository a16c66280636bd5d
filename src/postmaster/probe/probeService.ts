import type { Knex } from 'knex';
import type { Clock } from '../../lib/clock';
import { logger } from '../../lib/logger';
import { Semaphore } from '../../panel/whm/semaphore';
import { probeAddress } from './addressProbe';
import { MxResolver } from './mxResolver';
import { resolveProbeOptions, type ResolvedProbeOptions } from './options';
import { ProbeCache } from './probeCache';
import { ProbeScheduler } from './probeScheduler';
import { dnsOnlyResult, invalidDomainResult, normaliseDomain, postmasterOf, probedResult } from './results';
import { routeFor } from './targets';
import type { ProbeOptions, ProbeResult } from './types';

/**
 * The probe layer's entry point: postmaster@ of many domains at once, through the cache, DNS and
 * the polite scheduler. One instance is meant to live for the process, so its MX cache, per-host
 * queues and global session limit hold across calls (a sweep and a "check now" at the same time
 * still never open two sessions to one server).
 */
export class ProbeService {
  private readonly options: ResolvedProbeOptions;
  private readonly clock: Clock;
  private readonly resolver: MxResolver;
  private readonly scheduler: ProbeScheduler;
  private readonly cache: ProbeCache;
  /**
   * Domains being probed now: a second caller shares the running probe instead of starting one.
   * `forced` entries never come from the cache, so a forced caller only shares those.
   */
  private readonly inFlight = new Map<string, { promise: Promise<ProbeResult>; forced: boolean }>();

  constructor(deps: { db: Knex; clock: Clock }, options: ProbeOptions) {
    this.options = resolveProbeOptions(options);
    this.clock = deps.clock;
    const o = this.options;
    this.resolver = new MxResolver(deps.clock, { servers: o.dnsServers, timeoutMs: o.dnsTimeoutMs, positiveTtlMs: o.mxCacheTtlMs, negativeTtlMs: o.mxNegativeCacheTtlMs });
    this.scheduler = new ProbeScheduler(o.globalConcurrency, o.maxPerSession, {
      heloName: o.heloName,
      fallbackSender: o.fallbackSender,
      localAddress: o.localAddress,
      connectTimeoutMs: o.connectTimeoutMs,
      commandTimeoutMs: o.commandTimeoutMs,
      startTls: o.startTls,
    });
    this.cache = new ProbeCache(deps.db, deps.clock, o);
  }

  /**
   * Probes postmaster@ of every domain (deduplicated), honouring the per-host and global limits and
   * the cache. Keys of the result are the normalised domains (lowercase, no trailing dot).
   * `force` skips reading the cache (the result is still written to it).
   */
  async probeDomains(domains: string[], opts: { force?: boolean } = {}): Promise<Map<string, ProbeResult>> {
    const force = opts.force ?? false;
    const results = new Map<string, ProbeResult>();
    const shared = new Map<string, Promise<ProbeResult>>();
    const mine = new Set<string>();
    for (const input of domains) {
      const domain = normaliseDomain(input);
      if (!domain) {
        const invalid = invalidDomainResult(input, this.clock.now());
        results.set(invalid.domain, invalid);
        continue;
      }
      if (shared.has(domain) || mine.has(domain)) continue;
      const running = this.inFlight.get(domain);
      if (running && (running.forced || !force)) shared.set(domain, running.promise);
      else mine.add(domain);
    }
    for (const [domain, promise] of this.start([...mine], force)) shared.set(domain, promise);
    // All at once: a failure surfaces here instead of as an unhandled rejection of a later promise.
    const settled = await Promise.all([...shared].map(async ([domain, promise]) => [domain, await promise] as const));
    for (const [domain, result] of settled) results.set(domain, result);
    return results;
  }

  /** Registers the domains as in flight synchronously, then reads the cache and probes the rest. */
  private start(domains: string[], forced: boolean): Map<string, Promise<ProbeResult>> {
    const started = new Map<string, Promise<ProbeResult>>();
    if (domains.length === 0) return started;
    const batch = (async () => {
      const cached = forced ? new Map<string, ProbeResult>() : await this.readCache(domains);
      const probes = this.startProbes(domains.filter((d) => !cached.has(postmasterOf(d))));
      return { cached, probes };
    })();
    for (const domain of domains) {
      const promise: Promise<ProbeResult> = batch
        .then(({ cached, probes }) => cached.get(postmasterOf(domain)) ?? probes.get(domain)!)
        .finally(() => {
          if (this.inFlight.get(domain)?.promise === promise) this.inFlight.delete(domain);
        });
      this.inFlight.set(domain, { forced, promise });
      started.set(domain, promise);
    }
    return started;
  }

  private async readCache(domains: string[]): Promise<Map<string, ProbeResult>> {
    try {
      return await this.cache.getMany(domains.map(postmasterOf));
    } catch (err) {
      // The cache only saves work; without it every domain is simply probed.
      logger.warn('postmaster probe cache read failed', { error: err instanceof Error ? err.message : String(err) });
      return new Map();
    }
  }

  /** Resolves DNS for all domains, then hands every address to the scheduler in one burst. */
  private startProbes(domains: string[]): Map<string, Promise<ProbeResult>> {
    const started = new Map<string, Promise<ProbeResult>>();
    if (domains.length === 0) return started;
    const dnsLimit = new Semaphore(this.options.dnsConcurrency);
    const routes = Promise.all(domains.map((domain) => dnsLimit.run(() => routeFor(domain, this.resolver, this.options))));
    // All continuations run in the same turn once DNS is done, so the scheduler sees every address
    // before its first session starts and addresses sharing an MX address land in one session.
    domains.forEach((domain, i) => started.set(domain, routes.then((all) => this.probeOne(domain, all[i]!))));
    return started;
  }

  private async probeOne(domain: string, route: Awaited<ReturnType<typeof routeFor>>): Promise<ProbeResult> {
    const probeable = (route.mx.kind === 'mx' || route.mx.kind === 'a_fallback') && route.mx.hosts.length > 0;
    let result: ProbeResult;
    if (!probeable) {
      result = dnsOnlyResult(domain, route.mx, this.clock.now());
    } else {
      const outcome = await probeAddress(postmasterOf(domain), route.candidates, this.scheduler, {
        port: this.options.port,
        catchAllCheck: this.options.catchAllCheck,
      });
      result = probedResult(domain, route, outcome, this.clock.now());
    }
    try {
      await this.cache.put(result);
    } catch (err) {
      logger.warn('postmaster probe cache write failed', { domain, error: err instanceof Error ? err.message : String(err) });
    }
    return result;
  }
}
