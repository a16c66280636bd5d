import type { Knex } from 'knex';
import type { Clock } from '../lib/clock';
import { NotFoundError } from '../lib/errors';
import type { DomainMailRoutes } from '../panel/panelAdapter';
import type { PanelRegistry } from '../panel/panelRegistry';
import { serverRepository } from '../tenancy/serverRepository';
import type { Server } from '../tenancy/types';
import { postmasterRepository, type CheckRecord, type CheckTarget } from './postmasterRepository';
import type { ProbeResult } from './probe/types';
import { decideRoute, type RouteDecision } from './routeDecider';
import { readPostmasterSettings, type PostmasterSettings } from './settings';
import { decideVerdict, type Verdict } from './verdict';

/** What the checks need from the probe layer (ProbeService implements it). */
export interface DomainProber {
  probeDomains(domains: string[], opts?: { force?: boolean }): Promise<Map<string, ProbeResult>>;
}

export type CheckTrigger = 'sweep' | 'manual' | 'fix' | 'cli' | 'retry';

export interface CheckOutcome {
  domain: string;
  domainId: number;
  verdict: Verdict;
  reason: string;
  route: RouteDecision | null;
  probe: ProbeResult | null;
}

export interface SweepCounts extends Record<string, number> {
  domains: number;
  accounts: number;
  panelErrors: number;
  probed: number;
}

/** Accounts per unit of work: read their routes, probe their domains, store the results. */
const accountsPerChunk = 100;

/**
 * Postmaster checks for any set of domains: the panel is read once per account (all its domains'
 * routes in one fixed set of calls), domains that need it are probed over SMTP, and each domain
 * gets a verdict, stored as history and as its current state.
 */
export class PostmasterCheckService {
  constructor(
    private readonly deps: { db: Knex; clock: Clock; panels: PanelRegistry; proberFor: (settings: PostmasterSettings) => DomainProber | null; random?: () => number },
  ) {}

  /** Checks one domain now (UI, CLI, after a fix): no cache for the probe. */
  async checkDomain(name: string, trigger: CheckTrigger): Promise<CheckOutcome> {
    // Any mail-hosting domain can be checked by hand, whatever the sweep's scope.
    const targets = await postmasterRepository.targets(this.deps.db, { scope: 'all', domainName: name });
    if (!targets.length) throw new NotFoundError(`A mail-hosting domain ${name} of a live account`);
    const [outcome] = await this.checkTargets(targets, trigger, { force: true });
    return outcome!;
  }

  /**
   * Checks every target. Accounts are processed in chunks; while one chunk is probed and stored the
   * next chunk's panel reads are already under way, so panel latency and SMTP time overlap.
   */
  async checkTargets(targets: CheckTarget[], trigger: CheckTrigger, opts: { force?: boolean } = {}): Promise<CheckOutcome[]> {
    const byAccount = new Map<number, CheckTarget[]>();
    for (const t of targets) byAccount.set(t.accountId, [...(byAccount.get(t.accountId) ?? []), t]);
    const accounts = [...byAccount.values()];
    const servers = new Map<number, Server | null>();
    for (const t of targets) if (!servers.has(t.serverId)) servers.set(t.serverId, await serverRepository.findById(this.deps.db, t.serverId));

    const chunks: CheckTarget[][][] = [];
    for (let i = 0; i < accounts.length; i += accountsPerChunk) chunks.push(accounts.slice(i, i + accountsPerChunk));
    const outcomes: CheckOutcome[] = [];
    let stored: Promise<void> = Promise.resolve();
    for (const part of chunks) {
      const routes = await Promise.all(part.map((domains) => this.readRoutes(servers.get(domains[0]!.serverId) ?? null, domains[0]!.username)));
      const previous = stored;
      stored = (async () => {
        const results = await this.judge(part, routes, trigger, opts.force ?? false);
        await previous; // results are stored in order, one chunk at a time
        outcomes.push(...results);
      })();
      // Keep at most one chunk being probed/stored while the next one is read from the panel.
      await previous;
    }
    await stored;
    return outcomes;
  }

  private async readRoutes(server: Server | null, username: string): Promise<{ routes: DomainMailRoutes[] } | { error: string }> {
    if (!server) return { error: 'the server is no longer configured' };
    // No limit here: each server's WHM client bounds its own requests in flight, so servers never wait on each other.
    try {
      return { routes: await this.deps.panels.adapterFor(server).mailRoutes(username) };
    } catch (err) {
      return { error: err instanceof Error ? err.message : String(err) };
    }
  }

  private async judge(accounts: CheckTarget[][], routes: Array<{ routes: DomainMailRoutes[] } | { error: string }>, trigger: CheckTrigger, force: boolean): Promise<CheckOutcome[]> {
    const { db, clock } = this.deps;
    const { settings } = await readPostmasterSettings(db);
    const decided: Array<{ target: CheckTarget; route: RouteDecision | null; routeError: string | null; panel: DomainMailRoutes | null }> = [];
    accounts.forEach((domains, i) => {
      const answer = routes[i]!;
      for (const target of domains) {
        if ('error' in answer) {
          decided.push({ target, route: null, routeError: answer.error, panel: null });
          continue;
        }
        const panel = answer.routes.find((r) => r.domain === target.domain) ?? null;
        decided.push({ target, route: panel ? decideRoute(panel) : null, routeError: panel ? null : 'the panel does not list this domain for the account', panel });
      }
    });
    // Probe what the configuration cannot settle: remote MX, unreadable panels, and configured routes (to catch a server that still refuses).
    const toProbe = decided.filter((d) => !d.route || d.route.finding === 'probe_only' || d.route.finding === 'delivered').map((d) => d.target.domain);
    const prober = this.deps.proberFor(settings);
    const probes = prober && toProbe.length ? await prober.probeDomains(toProbe, { force }) : new Map<string, ProbeResult>();

    const previous = await postmasterRepository.statuses(db, decided.map((d) => d.target.domainId));
    const now = clock.now();
    const records: CheckRecord[] = [];
    const outcomes: CheckOutcome[] = [];
    for (const d of decided) {
      const probe = probes.get(d.target.domain) ?? null;
      const prev = previous.get(d.target.domainId);
      const v = decideVerdict({ route: d.route, routeError: d.routeError, probe, read: { sentAt: prev?.readSentAt ?? null, confirmedAt: prev?.readConfirmedAt ?? null }, readGraceDays: settings.readGraceDays, now });
      records.push({
        target: d.target,
        trigger,
        route: d.route?.route ?? 'unknown',
        routeTarget: d.route?.target ?? null,
        smtpResult: probe ? probe.result : 'not_probed',
        smtpCode: probe?.code ?? null,
        mxHost: probe?.mxHost ?? null,
        catchAll: probe?.catchAll ?? null,
        verdict: v.verdict,
        reason: v.reason,
        retry: v.retry,
        evidence: {
          panel: d.panel ? { mailboxes: d.panel.mailboxes.filter((m) => m.startsWith('postmaster@')), forwarders: d.panel.forwarders.filter((f) => f.from.startsWith('postmaster@')), domainForwarder: d.panel.domainForwarder, defaultAddress: d.panel.defaultAddress, mx: d.panel.mx, mxRouting: d.panel.mxRouting } : null,
          panelError: d.routeError,
          route: d.route,
          probe: probe ? { result: probe.result, code: probe.code, enhancedCode: probe.enhancedCode, message: probe.message, mx: probe.mx, mxHost: probe.mxHost, catchAll: probe.catchAll, fromCache: probe.fromCache, checkedAt: probe.checkedAt, dialogue: probe.dialogue } : null,
          read: { sentAt: prev?.readSentAt ?? null, confirmedAt: prev?.readConfirmedAt ?? null },
        },
      });
      outcomes.push({ domain: d.target.domain, domainId: d.target.domainId, verdict: v.verdict, reason: v.reason, route: d.route, probe });
    }
    await db.transaction((trx) => postmasterRepository.record(trx, records, previous, now, this.deps.random));
    return outcomes;
  }
}
