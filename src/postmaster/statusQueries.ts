import type { Knex } from 'knex';
import { fromDbJson, fromDbTime, fromDbTimeOrNull, LIKE_ESCAPE, likePattern, numberOrNull, stringOrNull, toDbBool, toDbTime, toNumber, type Queryable } from '../db/dialect';
import { applyKeyset, finishPage, type Page, type PageRequest } from '../lib/keyset';
import { systemActor, type Actor } from '../tenancy/actor';
import type { CheckFields } from './postmasterRepository';
import type { PostmasterRoute } from './routeDecider';
import { verdicts, type Verdict } from './verdict';

/** The verdicts a customer has to act on: the one-click fix (or reading the verification mail) addresses them. */
export const failingVerdicts = ['missing', 'undeliverable', 'unread'] as const satisfies readonly Verdict[];
/** "unchecked": a domain no check has reached yet (no postmaster_status row). */
export const verdictFilters = [...verdicts, 'unchecked'] as const;
export type VerdictFilter = (typeof verdictFilters)[number];

export interface StatusFilters {
  verdict?: VerdictFilter;
  /** Only missing, undeliverable and unread. */
  failing?: boolean;
  accountId?: number;
  /** A customer's username (exact, case-insensitive). */
  customer?: string;
  /** Part of the domain name or the username. */
  q?: string;
}

/** One domain with its current postmaster state; the state fields are null until the first check. */
export interface DomainStatus {
  domainId: number;
  domain: string;
  domainType: string;
  accountId: number;
  username: string;
  ownerUsername: string;
  contactEmail: string | null;
  serverName: string;
  verdict: Verdict | null;
  reason: string | null;
  verdictSince: Date | null;
  lastCheckedAt: Date | null;
  failingSince: Date | null;
  notifiedAt: Date | null;
  escalatedAt: Date | null;
  retryAt: Date | null;
  readSentAt: Date | null;
  readConfirmedAt: Date | null;
}

/** One stored check (history), its evidence parsed. */
export interface CheckEntry extends CheckFields {
  id: number;
  checkedAt: Date;
  evidence: Record<string, unknown> | null;
}

export interface TrendDay {
  /** UTC day, YYYY-MM-DD. */
  day: string;
  counts: Record<Verdict, number>;
  total: number;
}

const emptyCounts = (): Record<Verdict, number> => Object.fromEntries(verdicts.map((v) => [v, 0])) as Record<Verdict, number>;

/**
 * The tenancy rule of the postmaster pages: an admin sees every domain, a reseller the domains of the
 * accounts below it (depth > 0: its own domains are not its customers'), a customer its own account's.
 */
function scopeAccounts(db: Queryable, query: Knex.QueryBuilder, actor: Actor, column: string): Knex.QueryBuilder {
  if (actor.role === 'admin') return query;
  if (actor.accountId === null) return query.whereRaw('1 = 0');
  if (actor.role === 'customer') return query.where(column, actor.accountId);
  return query.whereIn(column, db('account_tree').select('account_id').where('ancestor_id', actor.accountId).where('depth', '>', 0));
}

/**
 * Mail-hosting domains of live accounts on active servers in the actor's reach (what a check can reach:
 * postmasterRepository.targets' rule), with their state (left join: never checked = no row).
 */
function inReach(db: Queryable, actor: Actor): Knex.QueryBuilder {
  const query = db('domains as d')
    .join('accounts as a', 'a.id', 'd.account_id')
    .join('servers as s', 's.id', 'a.server_id')
    .leftJoin('postmaster_status as p', 'p.domain_id', 'd.id')
    .where('d.mail_hosted', toDbBool(true))
    .whereNot('a.status', 'terminated')
    .where('s.status', 'active');
  return scopeAccounts(db, query, actor, 'd.account_id');
}

function applyFilters(query: Knex.QueryBuilder, f: StatusFilters): Knex.QueryBuilder {
  if (f.verdict === 'unchecked') query.whereNull('p.verdict');
  else if (f.verdict) query.where('p.verdict', f.verdict);
  if (f.failing) query.whereIn('p.verdict', [...failingVerdicts]);
  if (f.accountId !== undefined) query.where('d.account_id', f.accountId);
  if (f.customer) query.where('a.username', f.customer.trim().toLowerCase());
  if (f.q) {
    const pattern = likePattern(f.q.trim().toLowerCase());
    query.where((w) => w.whereRaw(`d.name like ? ${LIKE_ESCAPE}`, [pattern]).orWhereRaw(`a.username like ? ${LIKE_ESCAPE}`, [pattern]));
  }
  return query;
}

function withColumns(query: Knex.QueryBuilder): Knex.QueryBuilder {
  return query
    .leftJoin('accounts as o', 'o.id', 'a.owner_account_id')
    .select(
      'd.id as domain_id',
      'd.name as domain',
      'd.type as domain_type',
      'a.id as account_id',
      'a.username',
      'a.contact_email',
      'o.username as owner_username',
      's.name as server_name',
      'p.verdict',
      'p.reason',
      'p.verdict_since',
      'p.last_checked_at',
      'p.failing_since',
      'p.notified_at',
      'p.escalated_at',
      'p.retry_at',
      'p.read_sent_at',
      'p.read_confirmed_at',
    );
}

function mapStatus(r: Record<string, unknown>): DomainStatus {
  return {
    domainId: toNumber(r.domain_id),
    domain: String(r.domain),
    domainType: String(r.domain_type),
    accountId: toNumber(r.account_id),
    username: String(r.username),
    ownerUsername: r.owner_username == null ? 'root' : String(r.owner_username),
    contactEmail: stringOrNull(r.contact_email),
    serverName: String(r.server_name),
    verdict: r.verdict == null ? null : (r.verdict as Verdict),
    reason: stringOrNull(r.reason),
    verdictSince: fromDbTimeOrNull(r.verdict_since),
    lastCheckedAt: fromDbTimeOrNull(r.last_checked_at),
    failingSince: fromDbTimeOrNull(r.failing_since),
    notifiedAt: fromDbTimeOrNull(r.notified_at),
    escalatedAt: fromDbTimeOrNull(r.escalated_at),
    retryAt: fromDbTimeOrNull(r.retry_at),
    readSentAt: fromDbTimeOrNull(r.read_sent_at),
    readConfirmedAt: fromDbTimeOrNull(r.read_confirmed_at),
  };
}

function mapCheck(r: Record<string, unknown>): CheckEntry {
  return {
    id: toNumber(r.id),
    checkedAt: fromDbTime(r.checked_at),
    trigger: String(r.trigger),
    route: r.route as PostmasterRoute,
    routeTarget: stringOrNull(r.route_target),
    smtpResult: String(r.smtp_result),
    smtpCode: numberOrNull(r.smtp_code),
    mxHost: stringOrNull(r.mx_host),
    catchAll: r.catch_all == null ? null : r.catch_all === true || toNumber(r.catch_all) === 1,
    verdict: r.verdict as Verdict,
    reason: String(r.reason),
    evidence: fromDbJson<Record<string, unknown>>(r.evidence),
  };
}

export const postmasterStatusQueries = {
  async list(db: Queryable, actor: Actor, filters: StatusFilters, page: PageRequest): Promise<Page<DomainStatus>> {
    const query = withColumns(applyFilters(inReach(db, actor), filters));
    applyKeyset(query, { column: 'd.name', idColumn: 'd.id', direction: 'asc', page });
    const rows = (await query) as Record<string, unknown>[];
    return finishPage(rows.map(mapStatus), page, (s) => [s.domain, s.domainId]);
  },

  async count(db: Queryable, actor: Actor, filters: StatusFilters): Promise<number> {
    const row = (await applyFilters(inReach(db, actor), filters).count({ n: '*' }).first()) as { n: unknown } | undefined;
    return toNumber(row?.n ?? 0);
  },

  /** Domains per verdict ("unchecked" for those never checked); every key present, zeros included. */
  async countsByVerdict(db: Queryable, actor: Actor, filters: Pick<StatusFilters, 'accountId' | 'customer' | 'q'> = {}): Promise<Record<VerdictFilter, number>> {
    const rows = (await applyFilters(inReach(db, actor), filters).select('p.verdict').count({ n: '*' }).groupBy('p.verdict')) as Array<{ verdict: unknown; n: unknown }>;
    const counts = { ...emptyCounts(), unchecked: 0 } as Record<VerdictFilter, number>;
    for (const r of rows) counts[r.verdict == null ? 'unchecked' : (r.verdict as Verdict)] += toNumber(r.n);
    return counts;
  },

  /** Scoped lookup of one mail-hosting domain: outside the actor's reach it is simply not found. */
  async find(db: Queryable, actor: Actor, domainId: number): Promise<DomainStatus | null> {
    const row = (await withColumns(inReach(db, actor)).where('d.id', domainId).first()) as Record<string, unknown> | undefined;
    return row ? mapStatus(row) : null;
  },

  /** The newest checks of one domain (the caller has already checked the actor may see it). */
  async history(db: Queryable, domainId: number, limit: number): Promise<CheckEntry[]> {
    const rows = (await db('postmaster_checks').where('domain_id', domainId).orderBy('checked_at', 'desc').orderBy('id', 'desc').limit(limit)) as Record<string, unknown>[];
    return rows.map(mapCheck);
  },

  /**
   * Checks per UTC day and verdict over the last `days` days (today included), counted in the
   * database: date() of a stored "YYYY-MM-DD HH:MM:SS.mmm" time is the UTC day on both engines.
   */
  async trend(db: Queryable, actor: Actor, now: Date, days: number): Promise<TrendDay[]> {
    const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
    const start = new Date(today - (days - 1) * 86_400_000);
    const query = scopeAccounts(db, db('postmaster_checks as c').join('accounts as a', 'a.id', 'c.account_id'), actor, 'c.account_id').where('c.checked_at', '>=', toDbTime(start));
    const rows = (await query.select(db.raw('date(c.checked_at) as day'), 'c.verdict').count({ n: '*' }).groupByRaw('date(c.checked_at), c.verdict')) as Array<{ day: unknown; verdict: unknown; n: unknown }>;
    const points: TrendDay[] = Array.from({ length: days }, (_, i) => ({ day: new Date(start.getTime() + i * 86_400_000).toISOString().slice(0, 10), counts: emptyCounts(), total: 0 }));
    const byDay = new Map(points.map((p) => [p.day, p]));
    for (const r of rows) {
      const day = r.day instanceof Date ? r.day.toISOString().slice(0, 10) : String(r.day).slice(0, 10);
      const point = byDay.get(day);
      const verdict = String(r.verdict) as Verdict;
      if (!point || !(verdict in point.counts)) continue;
      point.counts[verdict] += toNumber(r.n);
      point.total += toNumber(r.n);
    }
    return points;
  },

  /** The failing domains matching the filters (all of them, by name): what "Notify failing customers" acts on. */
  async failing(db: Queryable, actor: Actor, filters: StatusFilters): Promise<DomainStatus[]> {
    const query = withColumns(applyFilters(inReach(db, actor), { ...filters, failing: true })).orderBy('d.name').orderBy('d.id');
    return ((await query) as Record<string, unknown>[]).map(mapStatus);
  },

  /** Domains a sweep covers now (the same rule as postmasterRepository.targets), counted: the denominator of a sweep's progress. */
  async sweepTotal(db: Queryable, scope: 'all' | 'dedicated'): Promise<number> {
    const query = inReach(db, systemActor);
    if (scope === 'dedicated') query.where('s.kind', 'dedicated');
    const row = (await query.count({ n: '*' }).first()) as { n: unknown } | undefined;
    return toNumber(row?.n ?? 0);
  },

  /** Checks a sweep has stored since it started (it stores them chunk by chunk). */
  async sweepChecksSince(db: Queryable, since: Date): Promise<number> {
    const row = (await db('postmaster_checks').where('trigger', 'sweep').where('checked_at', '>=', toDbTime(since)).count({ n: '*' }).first()) as { n: unknown } | undefined;
    return toNumber(row?.n ?? 0);
  },
};
