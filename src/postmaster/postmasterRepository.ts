import { chunksOf } from '../lib/chunks';
import { fromDbTime, fromDbTimeOrNull, stringOrNull, toDbJson, toDbTime, toNumber, type Queryable } from '../db/dialect';
import type { PostmasterRoute } from './routeDecider';
import type { Verdict } from './verdict';

/** A domain the checks cover, with what the panel and the notices need. */
export interface CheckTarget {
  domainId: number;
  domain: string;
  accountId: number;
  username: string;
  serverId: number;
}

export interface StatusRow {
  domainId: number;
  accountId: number;
  verdict: Verdict;
  reason: string;
  verdictSince: Date;
  lastCheckedAt: Date;
  failingSince: Date | null;
  notifiedAt: Date | null;
  escalatedAt: Date | null;
  retryAt: Date | null;
  retryCount: number;
  readTokenHash: string | null;
  readSentAt: Date | null;
  readConfirmedAt: Date | null;
}

/** What one check found, as postmaster_checks stores it (written here, read by statusQueries). */
export interface CheckFields {
  trigger: string;
  route: PostmasterRoute;
  routeTarget: string | null;
  smtpResult: string;
  smtpCode: number | null;
  mxHost: string | null;
  catchAll: boolean | null;
  verdict: Verdict;
  reason: string;
}

export interface CheckRecord extends CheckFields {
  target: CheckTarget;
  retry: boolean;
  evidence: Record<string, unknown>;
}

export function mapStatus(r: Record<string, unknown>): StatusRow {
  return {
    domainId: toNumber(r.domain_id),
    accountId: toNumber(r.account_id),
    verdict: r.verdict as Verdict,
    reason: String(r.reason),
    verdictSince: fromDbTime(r.verdict_since),
    lastCheckedAt: fromDbTime(r.last_checked_at),
    failingSince: fromDbTimeOrNull(r.failing_since),
    notifiedAt: fromDbTimeOrNull(r.notified_at),
    escalatedAt: fromDbTimeOrNull(r.escalated_at),
    retryAt: fromDbTimeOrNull(r.retry_at),
    retryCount: toNumber(r.retry_count ?? 0),
    readTokenHash: stringOrNull(r.read_token_hash),
    readSentAt: fromDbTimeOrNull(r.read_sent_at),
    readConfirmedAt: fromDbTimeOrNull(r.read_confirmed_at),
  };
}

const hourMs = 3600_000;

/** 30 min, 1 h, 2 h … up to 24 h between re-checks of a domain whose check could not decide (RFC 5321 §4.5.4.1: ≥ 30 min apart). */
function retryDelayMs(retryCount: number, random: () => number): number {
  const base = Math.min(24 * hourMs, 0.5 * hourMs * 2 ** retryCount);
  return Math.round(base * (0.8 + 0.4 * random()));
}

const failing = (v: Verdict) => v === 'missing' || v === 'undeliverable';

export const postmasterRepository = {
  /** Domains in scope: mail-hosting domains of live accounts on active servers (optionally only dedicated servers). */
  async targets(db: Queryable, f: { scope: 'all' | 'dedicated'; domainIds?: number[]; domainName?: string; accountIds?: number[] }): Promise<CheckTarget[]> {
    const q = db('domains as d')
      .join('accounts as a', 'a.id', 'd.account_id')
      .join('servers as s', 's.id', 'a.server_id')
      .where('d.mail_hosted', true)
      .whereNot('a.status', 'terminated')
      .where('s.status', 'active')
      .select('d.id as domain_id', 'd.name as domain', 'a.id as account_id', 'a.username', 'a.server_id');
    if (f.scope === 'dedicated') q.where('s.kind', 'dedicated');
    if (f.domainIds) q.whereIn('d.id', f.domainIds);
    if (f.domainName) q.where('d.name', f.domainName.toLowerCase());
    if (f.accountIds) q.whereIn('a.id', f.accountIds);
    const rows = (await q.orderBy('d.id')) as Array<Record<string, unknown>>;
    return rows.map((r) => ({ domainId: toNumber(r.domain_id), domain: String(r.domain), accountId: toNumber(r.account_id), username: String(r.username), serverId: toNumber(r.server_id) }));
  },

  async statuses(db: Queryable, domainIds: number[]): Promise<Map<number, StatusRow>> {
    const out = new Map<number, StatusRow>();
    for (const ids of chunksOf(domainIds, 500)) {
      const rows = (await db('postmaster_status').whereIn('domain_id', ids)) as Record<string, unknown>[];
      for (const r of rows) out.set(toNumber(r.domain_id), mapStatus(r));
    }
    return out;
  },

  /**
   * Stores the checks (history) and the new current state of each domain in one transaction:
   * the verdict keeps its "since" while it stays the same; the grace period of a failing domain
   * starts at its first failing check and ends when it passes again.
   */
  async record(db: Queryable, records: CheckRecord[], previous: Map<number, StatusRow>, now: Date, random: () => number = Math.random): Promise<void> {
    const at = toDbTime(now);
    for (const part of chunksOf(records, 200)) {
      await db('postmaster_checks').insert(
        part.map((r) => ({
          domain_id: r.target.domainId,
          account_id: r.target.accountId,
          domain: r.target.domain,
          checked_at: at,
          trigger: r.trigger,
          route: r.route,
          route_target: r.routeTarget?.slice(0, 500) ?? null,
          smtp_result: r.smtpResult,
          smtp_code: r.smtpCode,
          mx_host: r.mxHost,
          catch_all: r.catchAll,
          verdict: r.verdict,
          reason: r.reason.slice(0, 1000),
          evidence: toDbJson(r.evidence),
        })),
      );
      const statusRows = part.map((r) => {
        const p = previous.get(r.target.domainId);
        const stillFailing = failing(r.verdict) && p && failing(p.verdict);
        const retryCount = r.retry ? (p?.retryCount ?? 0) + 1 : 0;
        return {
          domain_id: r.target.domainId,
          account_id: r.target.accountId,
          verdict: r.verdict,
          reason: r.reason.slice(0, 1000),
          verdict_since: p && p.verdict === r.verdict ? toDbTime(p.verdictSince) : at,
          last_checked_at: at,
          failing_since: failing(r.verdict) ? (stillFailing && p.failingSince ? toDbTime(p.failingSince) : at) : null,
          notified_at: stillFailing && p.notifiedAt ? toDbTime(p.notifiedAt) : null,
          escalated_at: stillFailing && p.escalatedAt ? toDbTime(p.escalatedAt) : null,
          retry_at: r.retry ? toDbTime(new Date(now.getTime() + retryDelayMs(retryCount - 1, random))) : null,
          retry_count: retryCount,
          read_token_hash: p?.readTokenHash ?? null,
          read_sent_at: p?.readSentAt ? toDbTime(p.readSentAt) : null,
          read_confirmed_at: p?.readConfirmedAt ? toDbTime(p.readConfirmedAt) : null,
        };
      });
      await db('postmaster_status').insert(statusRows).onConflict('domain_id').merge();
    }
  },

  async dueRetries(db: Queryable, now: Date, limit: number): Promise<number[]> {
    return ((await db('postmaster_status').whereNotNull('retry_at').where('retry_at', '<=', toDbTime(now)).orderBy('retry_at').limit(limit).pluck('domain_id')) as unknown[]).map(toNumber);
  },

  async latestChecks(db: Queryable, domainId: number, limit: number): Promise<Array<Record<string, unknown>>> {
    return (await db('postmaster_checks').where('domain_id', domainId).orderBy('checked_at', 'desc').orderBy('id', 'desc').limit(limit)) as Array<Record<string, unknown>>;
  },
};
