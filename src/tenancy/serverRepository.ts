import { fromDbTime, insertedId, toDbTime, toNumber, type Queryable } from '../db/dialect';
import type { Server, ServerKind } from './types';

export interface NewServer {
  name: string;
  whmUrl: string;
  whmUser: string;
  kind: ServerKind;
  ownerAccountId?: number | null;
}

function mapServer(row: Record<string, unknown>): Server {
  return {
    id: toNumber(row.id),
    name: String(row.name),
    whmUrl: String(row.whm_url),
    whmUser: String(row.whm_user),
    kind: row.kind as ServerKind,
    ownerAccountId: row.owner_account_id == null ? null : toNumber(row.owner_account_id),
    status: String(row.status),
    accountCount: toNumber(row.account_count ?? 0),
    createdAt: fromDbTime(row.created_at),
  };
}

/** Servers are infrastructure: only admins reach these (the role gate guards the routes). */
export const serverRepository = {
  async list(db: Queryable): Promise<Server[]> {
    const rows = (await db('servers as s')
      .select('s.*', db('accounts').count('*').whereRaw('accounts.server_id = s.id').as('account_count'))
      .orderBy('s.name')) as Record<string, unknown>[];
    return rows.map(mapServer);
  },

  async findById(db: Queryable, id: number): Promise<Server | null> {
    const row = await db('servers').where({ id }).first();
    return row ? mapServer(row) : null;
  },

  async insert(db: Queryable, input: NewServer, now: Date): Promise<number> {
    const at = toDbTime(now);
    return insertedId(
      await db('servers').insert({
        name: input.name.toLowerCase(),
        whm_url: input.whmUrl,
        whm_user: input.whmUser,
        kind: input.kind,
        owner_account_id: input.ownerAccountId ?? null,
        status: 'active',
        created_at: at,
        updated_at: at,
      }),
    );
  },
};
