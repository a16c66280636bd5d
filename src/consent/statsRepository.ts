import type { Knex } from 'knex';
import { fromDbBool, fromDbTime, LIKE_ESCAPE, likePattern, toNumber, type Queryable } from '../db/dialect';
import { applyKeyset, finishPage, type Page, type PageRequest, type SortDirection } from '../lib/keyset';
import type { Actor } from '../tenancy/actor';
import { scopeToActor } from '../tenancy/scope';
import type { statsSorts } from './schemas';

/**
 * Consent statistics per account: counts only, never an address. The one query behind the reseller
 * page, the admin overview and GET /api/v1/consent/stats.
 */
export interface AccountConsentStats {
  accountId: number;
  username: string;
  ownerUsername: string;
  isReseller: boolean;
  lists: number;
  records: number;
  confirmed: number;
  pending: number;
  revoked: number;
  /** Confirmed records as a percentage of all records, one decimal; null without records. */
  confirmedShare: number | null;
  /** Time of the account's latest consent event (list, text or record change); null when none. */
  lastActivityAt: Date | null;
}

export type StatsSort = (typeof statsSorts)[number];

/** Column of the derived table each sort orders by (keyset on it plus the account id). */
const sortColumns: Record<StatsSort, string> = {
  customer: 's.username',
  lists: 's.lists',
  records: 's.records',
  confirmed: 's.confirmed',
  share: 's.share_key',
  pending: 's.pending',
  revoked: 's.revoked',
  activity: 's.activity_key',
};

export interface StatsFilters {
  /** Substring of the account's username. */
  q?: string;
  /** Only accounts with a consent list or event (the admin overview). */
  activeOnly?: boolean;
}

export function confirmedShare(confirmed: number, records: number): number | null {
  return records > 0 ? Math.round((confirmed * 1000) / records) / 10 : null;
}

function mapStats(row: Record<string, unknown>): AccountConsentStats {
  const records = toNumber(row.records);
  const confirmed = toNumber(row.confirmed);
  return {
    accountId: toNumber(row.account_id),
    username: String(row.username),
    ownerUsername: row.owner_username == null ? 'root' : String(row.owner_username),
    isReseller: fromDbBool(row.is_reseller),
    lists: toNumber(row.lists),
    records,
    confirmed,
    pending: toNumber(row.pending),
    revoked: toNumber(row.revoked),
    confirmedShare: confirmedShare(confirmed, records),
    lastActivityAt: row.activity_key ? fromDbTime(row.activity_key) : null,
  };
}

/** The accounts an actor gets statistics for: admins every account, resellers those below them (not their own), customers their own. */
function scopedAccounts(db: Queryable, query: Knex.QueryBuilder, actor: Actor, f: StatsFilters): Knex.QueryBuilder {
  scopeToActor(db, query, actor, 'a.id');
  if (actor.role === 'reseller' && actor.accountId !== null) query.whereNot('a.id', actor.accountId);
  if (f.q) query.whereRaw(`a.username like ? ${LIKE_ESCAPE}`, [likePattern(f.q.toLowerCase())]);
  return query;
}

/** One row per account in scope, with its counts; aggregates are computed once per account by grouped subqueries. */
function statsQuery(db: Queryable, actor: Actor, f: StatsFilters): Knex.QueryBuilder {
  const lists = scopeToActor(db, db('consent_lists as l').select('l.account_id').count({ lists: '*' }).groupBy('l.account_id'), actor, 'l.account_id').as('lc');
  const records = scopeToActor(
    db,
    db('consent_records as r')
      .join('consent_lists as l', 'l.id', 'r.list_id')
      .select('l.account_id')
      .count({ records: '*' })
      .select(
        db.raw("sum(case when r.status = 'confirmed' then 1 else 0 end) as confirmed"),
        db.raw("sum(case when r.status = 'pending' then 1 else 0 end) as pending"),
        db.raw("sum(case when r.status = 'revoked' then 1 else 0 end) as revoked"),
      )
      .groupBy('l.account_id'),
    actor,
    'l.account_id',
  ).as('rc');
  const events = scopeToActor(db, db('consent_events as e').select('e.account_id').max({ last_at: 'e.at' }).groupBy('e.account_id'), actor, 'e.account_id').as('ec');
  const query = db('accounts as a')
    .leftJoin('accounts as o', 'o.id', 'a.owner_account_id')
    .leftJoin(lists, 'lc.account_id', 'a.id')
    .leftJoin(records, 'rc.account_id', 'a.id')
    .leftJoin(events, 'ec.account_id', 'a.id')
    .select(
      'a.id as account_id',
      'a.username',
      'a.is_reseller',
      'o.username as owner_username',
      db.raw('coalesce(lc.lists, 0) as lists'),
      db.raw('coalesce(rc.records, 0) as records'),
      db.raw('coalesce(rc.confirmed, 0) as confirmed'),
      db.raw('coalesce(rc.pending, 0) as pending'),
      db.raw('coalesce(rc.revoked, 0) as revoked'),
      // Sort keys never null, so keyset cursors work on both engines: no records sorts below 0 %, no activity below any time.
      db.raw('case when rc.records is null or rc.records = 0 then -1 else rc.confirmed * 1.0 / rc.records end as share_key'),
      db.raw("coalesce(ec.last_at, '') as activity_key"),
    );
  scopedAccounts(db, query, actor, f);
  if (f.activeOnly) query.where((w) => w.whereNotNull('lc.account_id').orWhereNotNull('ec.account_id'));
  return query;
}

export const consentStatsRepository = {
  async page(db: Queryable, actor: Actor, filters: StatsFilters, sort: StatsSort, direction: SortDirection, page: PageRequest): Promise<Page<AccountConsentStats>> {
    const column = sortColumns[sort];
    const query = db.select('s.*').from(statsQuery(db, actor, filters).as('s'));
    applyKeyset(query, { column, idColumn: 's.account_id', direction, page });
    const rows = (await query) as Record<string, unknown>[];
    const key = column.slice(2);
    const finished = finishPage(rows, page, (r) => [r[key] as string | number, toNumber(r.account_id)]);
    return { items: finished.items.map(mapStats), nextCursor: finished.nextCursor };
  },

  async count(db: Queryable, actor: Actor, filters: StatsFilters): Promise<number> {
    const row = await scopedAccounts(db, db('accounts as a'), actor, filters).count({ n: '*' }).first();
    return toNumber(row?.n ?? 0);
  },

  /** Every account in scope, by username, without paging (the admin overview, next to the chain check of every account). */
  async all(db: Queryable, actor: Actor, filters: StatsFilters): Promise<AccountConsentStats[]> {
    const rows = (await statsQuery(db, actor, filters).orderBy('a.username').orderBy('a.id')) as Record<string, unknown>[];
    return rows.map(mapStats);
  },
};
