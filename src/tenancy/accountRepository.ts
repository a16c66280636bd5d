import type { Knex } from 'knex';
import { fromDbBool, fromDbTime, insertedId, LIKE_ESCAPE, likePattern, numberOrNull, toDbBool, toDbTime, toNumber, type Queryable } from '../db/dialect';
import { applyKeyset, finishPage, type Page, type PageRequest } from '../lib/keyset';
import type { Actor } from './actor';
import { scopeToActor } from './scope';
import type { Account, AccountStatus, OutgoingMailState } from './types';

export interface AccountFilters {
  q?: string;
  status?: AccountStatus;
  serverId?: number;
  ownerId?: number;
  isReseller?: boolean;
  /** Resellers listing "their customers" do not see their own account in the list. */
  excludeSelf?: boolean;
}

export interface NewAccount {
  serverId: number;
  username: string;
  ownerAccountId: number | null;
  isReseller: boolean;
  contactEmail: string | null;
  plan: string | null;
  status?: AccountStatus;
  outgoingMail?: OutgoingMailState;
}

function mapAccount(row: Record<string, unknown>): Account {
  return {
    id: toNumber(row.id),
    serverId: toNumber(row.server_id),
    serverName: String(row.server_name),
    username: String(row.username),
    ownerAccountId: numberOrNull(row.owner_account_id),
    ownerUsername: row.owner_username == null ? 'root' : String(row.owner_username),
    isReseller: fromDbBool(row.is_reseller),
    contactEmail: (row.contact_email as string | null) ?? null,
    plan: (row.plan as string | null) ?? null,
    status: row.status as AccountStatus,
    outgoingMail: row.outgoing_mail as OutgoingMailState,
    strikes: toNumber(row.strikes),
    domainCount: toNumber(row.domain_count ?? 0),
    createdAt: fromDbTime(row.created_at),
    updatedAt: fromDbTime(row.updated_at),
  };
}

function baseQuery(db: Queryable, actor: Actor): Knex.QueryBuilder {
  const query = db('accounts as a')
    .join('servers as s', 's.id', 'a.server_id')
    .leftJoin('accounts as o', 'o.id', 'a.owner_account_id')
    .select(
      'a.*',
      's.name as server_name',
      'o.username as owner_username',
      db('domains').count('*').whereRaw('domains.account_id = a.id').as('domain_count'),
    );
  return scopeToActor(db, query, actor, 'a.id');
}

function applyFilters(query: Knex.QueryBuilder, actor: Actor, f: AccountFilters): Knex.QueryBuilder {
  if (f.q) {
    const pattern = likePattern(f.q.toLowerCase());
    query.where((w) => w.whereRaw(`a.username like ? ${LIKE_ESCAPE}`, [pattern]).orWhereRaw(`lower(a.contact_email) like ? ${LIKE_ESCAPE}`, [pattern]));
  }
  if (f.status) query.where('a.status', f.status);
  if (f.serverId !== undefined) query.where('a.server_id', f.serverId);
  if (f.ownerId !== undefined) query.where('a.owner_account_id', f.ownerId);
  if (f.isReseller !== undefined) query.where('a.is_reseller', toDbBool(f.isReseller));
  if (f.excludeSelf && actor.accountId !== null) query.whereNot('a.id', actor.accountId);
  return query;
}

export const accountRepository = {
  async list(db: Queryable, actor: Actor, filters: AccountFilters, page: PageRequest): Promise<Page<Account>> {
    const query = applyFilters(baseQuery(db, actor), actor, filters);
    applyKeyset(query, { column: 'a.username', idColumn: 'a.id', direction: 'asc', page });
    const rows = (await query) as Record<string, unknown>[];
    return finishPage(rows.map(mapAccount), page, (a) => [a.username, a.id]);
  },

  async count(db: Queryable, actor: Actor, filters: AccountFilters): Promise<number> {
    const query = scopeToActor(db, db('accounts as a'), actor, 'a.id');
    const row = await applyFilters(query, actor, filters).count({ n: '*' }).first();
    return toNumber(row?.n ?? 0);
  },

  /** Scoped lookup: an id outside the actor's tenancy is simply not found. */
  async findById(db: Queryable, actor: Actor, id: number): Promise<Account | null> {
    const row = await baseQuery(db, actor).where('a.id', id).first();
    return row ? mapAccount(row) : null;
  },

  async findByUsername(db: Queryable, actor: Actor, username: string): Promise<Account | null> {
    const row = await baseQuery(db, actor).where('a.username', username.toLowerCase()).orderBy('a.id').first();
    return row ? mapAccount(row) : null;
  },

  /** Inserts an account and its closure rows (self plus every ancestor of its owner). */
  async insert(db: Queryable, input: NewAccount, now: Date): Promise<number> {
    const at = toDbTime(now);
    const id = insertedId(
      await db('accounts').insert({
        server_id: input.serverId,
        username: input.username.toLowerCase(),
        owner_account_id: input.ownerAccountId,
        is_reseller: toDbBool(input.isReseller),
        contact_email: input.contactEmail?.toLowerCase() ?? null,
        plan: input.plan,
        status: input.status ?? 'active',
        outgoing_mail: input.outgoingMail ?? 'active',
        strikes: 0,
        created_at: at,
        updated_at: at,
      }),
    );
    const ancestors =
      input.ownerAccountId === null
        ? []
        : ((await db('account_tree').select('ancestor_id', 'depth').where('account_id', input.ownerAccountId)) as Array<{ ancestor_id: number; depth: number }>);
    await db('account_tree').insert([
      { ancestor_id: id, account_id: id, depth: 0 },
      ...ancestors.map((a) => ({ ancestor_id: toNumber(a.ancestor_id), account_id: id, depth: toNumber(a.depth) + 1 })),
    ]);
    return id;
  },

  async listResellers(db: Queryable, actor: Actor): Promise<Account[]> {
    const rows = (await baseQuery(db, actor).where('a.is_reseller', toDbBool(true)).orderBy('a.username')) as Record<string, unknown>[];
    return rows.map(mapAccount);
  },

  async countByStatus(db: Queryable, actor: Actor): Promise<Record<string, number>> {
    const rows = (await scopeToActor(db, db('accounts as a'), actor, 'a.id').select('a.status').count({ n: '*' }).groupBy('a.status')) as Array<{
      status: string;
      n: unknown;
    }>;
    return Object.fromEntries(rows.map((r) => [r.status, toNumber(r.n)]));
  },
};
