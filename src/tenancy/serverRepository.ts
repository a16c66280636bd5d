import { fromDbTime, fromDbTimeOrNull, insertedId, numberOrNull, toDbTime, toNumber, type Queryable } from '../db/dialect';
import type { Server, ServerKind, ServerSource } from './types';

export interface NewServer {
  name: string;
  whmUrl: string;
  whmUser: string;
  kind: ServerKind;
  ownerAccountId?: number | null;
  source?: ServerSource;
  tokenRef?: string | null;
  tlsCa?: string | null;
  tlsFingerprint?: string | null;
}

function mapServer(row: Record<string, unknown>): Server {
  return {
    id: toNumber(row.id),
    name: String(row.name),
    whmUrl: String(row.whm_url),
    whmUser: String(row.whm_user),
    tokenRef: (row.token_ref as string | null) ?? null,
    kind: row.kind as ServerKind,
    ownerAccountId: numberOrNull(row.owner_account_id),
    status: String(row.status),
    source: (row.source as ServerSource | undefined) ?? 'cli',
    tlsCa: (row.tls_ca as string | null) ?? null,
    tlsFingerprint: (row.tls_fingerprint as string | null) ?? null,
    lastSyncAt: fromDbTimeOrNull(row.last_sync_at),
    lastSyncStatus: (row.last_sync_status as string | null) ?? null,
    lastSyncError: (row.last_sync_error as string | null) ?? null,
    accountCount: toNumber(row.account_count ?? 0),
    createdAt: fromDbTime(row.created_at),
  };
}

const withCounts = (db: Queryable) =>
  db('servers as s').select('s.*', db('accounts').count('*').whereRaw('accounts.server_id = s.id').whereNot('accounts.status', 'terminated').as('account_count'));

/** Servers are infrastructure: only admins reach these (the role gate guards the routes). */
export const serverRepository = {
  async list(db: Queryable): Promise<Server[]> {
    const rows = (await withCounts(db).orderBy('s.name')) as Record<string, unknown>[];
    return rows.map(mapServer);
  },

  async findById(db: Queryable, id: number): Promise<Server | null> {
    const row = await withCounts(db).where('s.id', id).first();
    return row ? mapServer(row) : null;
  },

  async findByName(db: Queryable, name: string): Promise<Server | null> {
    const row = await withCounts(db).where('s.name', name.toLowerCase()).first();
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
        source: input.source ?? 'cli',
        token_ref: input.tokenRef ?? null,
        tls_ca: input.tlsCa ?? null,
        tls_fingerprint: input.tlsFingerprint ?? null,
        created_at: at,
        updated_at: at,
      }),
    );
  },

  /** Connection settings change (a re-added server, a simulator on a new port). */
  async updateConnection(db: Queryable, id: number, input: Omit<NewServer, 'name' | 'kind' | 'ownerAccountId'>, now: Date): Promise<void> {
    await db('servers')
      .where({ id })
      .update({
        whm_url: input.whmUrl,
        whm_user: input.whmUser,
        source: input.source ?? 'cli',
        token_ref: input.tokenRef ?? null,
        tls_ca: input.tlsCa ?? null,
        tls_fingerprint: input.tlsFingerprint ?? null,
        status: 'active',
        updated_at: toDbTime(now),
      });
  },

  async setStatus(db: Queryable, id: number, status: 'active' | 'removed', now: Date): Promise<void> {
    await db('servers').where({ id }).update({ status, updated_at: toDbTime(now) });
  },

  async setKind(db: Queryable, id: number, kind: ServerKind, ownerAccountId: number | null, now: Date): Promise<void> {
    await db('servers').where({ id }).update({ kind, owner_account_id: ownerAccountId, updated_at: toDbTime(now) });
  },

  async recordSync(db: Queryable, id: number, result: { at: Date; status: 'ok' | 'failed'; error: string | null }): Promise<void> {
    await db('servers')
      .where({ id })
      .update({ last_sync_at: toDbTime(result.at), last_sync_status: result.status, last_sync_error: result.error?.slice(0, 500) ?? null });
  },
};
