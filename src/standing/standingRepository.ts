import type { Knex } from 'knex';
import { fromDbTime, fromDbTimeOrNull, LIKE_ESCAPE, likePattern, toNumber, type Queryable } from '../db/dialect';
import { applyKeyset, finishPage, type Page, type PageRequest } from '../lib/keyset';
import type { Actor } from '../tenancy/actor';
import { scopeToActor } from '../tenancy/scope';
import type { AccountStatus, OutgoingMailState } from '../tenancy/types';

/** Panel actions customers and resellers see; cancelled ones never happened as far as they are concerned. */
export const visibleActionStatuses = ['pending', 'running', 'done', 'awaiting_approval', 'failed'] as const;

export interface VisibleAction {
  id: number;
  kind: string;
  status: string;
  reason: string;
  createdAt: Date;
  updatedAt: Date;
  doneAt: Date | null;
}

export interface AttentionRow {
  id: number;
  username: string;
  ownerUsername: string;
  status: AccountStatus;
  outgoingMail: OutgoingMailState;
  strikes: number;
  lastNoticeAt: Date | null;
  openActions: number;
}

export interface AttentionFilters {
  /** Part of the username or contact address. */
  q?: string;
  status?: AccountStatus;
  mail?: OutgoingMailState;
  /** At least this many active strikes. */
  minStrikes?: number;
}

function attentionQuery(db: Queryable, actor: Actor, f: AttentionFilters): Knex.QueryBuilder {
  const query = db('accounts as a')
    .leftJoin('accounts as o', 'o.id', 'a.owner_account_id')
    .where((w) => w.where('a.strikes', '>', 0).orWhereNot('a.status', 'active').orWhereNot('a.outgoing_mail', 'active'));
  scopeToActor(db, query, actor, 'a.id');
  // A reseller's own account is not one of its customers.
  if (actor.accountId !== null) query.whereNot('a.id', actor.accountId);
  if (f.q) {
    const pattern = likePattern(f.q.toLowerCase());
    query.where((w) => w.whereRaw(`a.username like ? ${LIKE_ESCAPE}`, [pattern]).orWhereRaw(`lower(a.contact_email) like ? ${LIKE_ESCAPE}`, [pattern]));
  }
  if (f.status) query.where('a.status', f.status);
  if (f.mail) query.where('a.outgoing_mail', f.mail);
  if (f.minStrikes !== undefined) query.where('a.strikes', '>=', f.minStrikes);
  return query;
}

export const standingRepository = {
  async actionsOf(db: Queryable, accountId: number, limit: number): Promise<VisibleAction[]> {
    const rows = (await db('panel_actions')
      .where('account_id', accountId)
      .whereIn('status', [...visibleActionStatuses])
      .orderBy('id', 'desc')
      .limit(limit)
      .select('id', 'kind', 'status', 'reason', 'created_at', 'updated_at', 'done_at')) as Record<string, unknown>[];
    return rows.map((r) => ({
      id: toNumber(r.id),
      kind: String(r.kind),
      status: String(r.status),
      reason: String(r.reason),
      createdAt: fromDbTime(r.created_at),
      updatedAt: fromDbTime(r.updated_at),
      doneAt: fromDbTimeOrNull(r.done_at),
    }));
  },

  /** Customers in the actor's reach with strikes, or not active, or with outgoing mail not active. */
  async attention(db: Queryable, actor: Actor, filters: AttentionFilters, page: PageRequest): Promise<Page<AttentionRow>> {
    const query = attentionQuery(db, actor, filters).select(
      'a.id',
      'a.username',
      'a.status',
      'a.outgoing_mail',
      'a.strikes',
      'o.username as owner_username',
      db('notices as n').max('n.created_at').whereRaw('n.account_id = a.id').as('last_notice_at'),
      db('panel_actions as p').count('*').whereRaw('p.account_id = a.id').whereIn('p.status', ['awaiting_approval', 'pending', 'running']).as('open_actions'),
    );
    applyKeyset(query, { column: 'a.username', idColumn: 'a.id', direction: 'asc', page });
    const rows = (await query) as Record<string, unknown>[];
    const items = rows.map((r) => ({
      id: toNumber(r.id),
      username: String(r.username),
      ownerUsername: r.owner_username == null ? 'root' : String(r.owner_username),
      status: r.status as AccountStatus,
      outgoingMail: r.outgoing_mail as OutgoingMailState,
      strikes: toNumber(r.strikes),
      lastNoticeAt: fromDbTimeOrNull(r.last_notice_at),
      openActions: toNumber(r.open_actions ?? 0),
    }));
    return finishPage(items, page, (a) => [a.username, a.id]);
  },

  async attentionCount(db: Queryable, actor: Actor, filters: AttentionFilters): Promise<number> {
    const row = (await attentionQuery(db, actor, filters).count({ n: '*' }).first()) as { n: unknown } | undefined;
    return toNumber(row?.n ?? 0);
  },
};
