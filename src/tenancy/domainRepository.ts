import type { Knex } from 'knex';
import { fromDbBool, fromDbTime, insertedId, LIKE_ESCAPE, likePattern, toDbBool, toDbTime, toNumber, type Queryable } from '../db/dialect';
import { applyKeyset, finishPage, type Page, type PageRequest } from '../lib/keyset';
import type { Actor } from './actor';
import { scopeToActor } from './scope';
import type { Domain, DomainType } from './types';

export interface DomainFilters {
  q?: string;
  type?: DomainType;
  accountId?: number;
  serverId?: number;
  mailHosted?: boolean;
}

export interface NewDomain {
  accountId: number;
  name: string;
  type: DomainType;
  mailHosted: boolean;
}

function mapDomain(row: Record<string, unknown>): Domain {
  return {
    id: toNumber(row.id),
    accountId: toNumber(row.account_id),
    accountUsername: String(row.account_username),
    serverName: String(row.server_name),
    name: String(row.name),
    type: row.type as DomainType,
    mailHosted: fromDbBool(row.mail_hosted),
    createdAt: fromDbTime(row.created_at),
  };
}

function filtered(db: Queryable, actor: Actor, f: DomainFilters): Knex.QueryBuilder {
  const query = db('domains as d').join('accounts as a', 'a.id', 'd.account_id');
  scopeToActor(db, query, actor, 'd.account_id');
  if (f.q) query.whereRaw(`d.name like ? ${LIKE_ESCAPE}`, [likePattern(f.q.toLowerCase())]);
  if (f.type) query.where('d.type', f.type);
  if (f.accountId !== undefined) query.where('d.account_id', f.accountId);
  if (f.serverId !== undefined) query.where('a.server_id', f.serverId);
  if (f.mailHosted !== undefined) query.where('d.mail_hosted', toDbBool(f.mailHosted));
  return query;
}

function withColumns(query: Knex.QueryBuilder): Knex.QueryBuilder {
  return query.join('servers as s', 's.id', 'a.server_id').select('d.*', 'a.username as account_username', 's.name as server_name');
}

export const domainRepository = {
  async list(db: Queryable, actor: Actor, filters: DomainFilters, page: PageRequest): Promise<Page<Domain>> {
    const query = withColumns(filtered(db, actor, filters));
    applyKeyset(query, { column: 'd.name', idColumn: 'd.id', direction: 'asc', page });
    const rows = (await query) as Record<string, unknown>[];
    return finishPage(rows.map(mapDomain), page, (d) => [d.name, d.id]);
  },

  async count(db: Queryable, actor: Actor, filters: DomainFilters): Promise<number> {
    const row = await filtered(db, actor, filters).count({ n: '*' }).first();
    return toNumber(row?.n ?? 0);
  },

  async findById(db: Queryable, actor: Actor, id: number): Promise<Domain | null> {
    const row = await withColumns(filtered(db, actor, {})).where('d.id', id).first();
    return row ? mapDomain(row) : null;
  },

  /** Scoped lookup by exact (lowercased) name: another account's domain is simply not found. */
  async findByName(db: Queryable, actor: Actor, name: string): Promise<Domain | null> {
    const row = await withColumns(filtered(db, actor, {})).where('d.name', name.trim().toLowerCase()).orderBy('d.id').first();
    return row ? mapDomain(row) : null;
  },

  async countByType(db: Queryable, actor: Actor): Promise<Record<string, number>> {
    const rows = (await filtered(db, actor, {}).select('d.type').count({ n: '*' }).groupBy('d.type')) as Array<{ type: string; n: unknown }>;
    return Object.fromEntries(rows.map((r) => [r.type, toNumber(r.n)]));
  },

  async insert(db: Queryable, input: NewDomain, now: Date): Promise<number> {
    const at = toDbTime(now);
    return insertedId(
      await db('domains').insert({
        account_id: input.accountId,
        name: input.name.toLowerCase(),
        type: input.type,
        mail_hosted: toDbBool(input.mailHosted),
        created_at: at,
        updated_at: at,
      }),
    );
  },
};
