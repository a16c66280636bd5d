import type { Knex } from 'knex';
import { engineOf, fromDbJson, fromDbTime, fromDbTimeOrNull, insertedId, isLockConflict, LIKE_ESCAPE, likePattern, numberOrNull, stringOrNull, toDbJson, toDbTime, toNumber, type Queryable } from '../db/dialect';
import { applyKeyset, finishPage, type Page, type PageRequest } from '../lib/keyset';
import { networksContaining, normalizeAddress } from './address';
import { emptyEvidence, type BlockEvidence, type BlockReason, type BlockStatus, type IpBlock, type SyncState } from './types';

/** Column widths of ip_blocks (migrations/20261128_11_enforcement.ts): longer text is cut, never refused by the database. */
export const widths = { reasonText: 500, trigger: 64, createdBy: 64, liftReason: 500, syncError: 1000 } as const;

/** The evidence column is TEXT (64 KB on MySQL): keep it well under, dropping the oldest log lines first. */
const maxEvidenceBytes = 48_000;
export const maxLogLines = 50;
export const maxLogLineLength = 500;
const maxBlockedAt = 100;

export function fitEvidence(e: BlockEvidence): BlockEvidence {
  const fitted: BlockEvidence = {
    ...e,
    logLines: e.logLines.slice(-maxLogLines).map((l) => l.slice(0, maxLogLineLength)),
    blockedAt: e.blockedAt.slice(-maxBlockedAt),
    ports: e.ports.slice(0, 100),
  };
  while (fitted.logLines.length && Buffer.byteLength(JSON.stringify(fitted)) > maxEvidenceBytes) fitted.logLines.shift();
  return fitted;
}

const cut = (value: string | null | undefined, width: number) => (value == null ? null : value.slice(0, width));

export function mapBlock(r: Record<string, unknown>): IpBlock {
  return {
    id: toNumber(r.id),
    address: String(r.address),
    family: toNumber(r.family) === 6 ? 6 : 4,
    reason: String(r.reason) as BlockReason,
    reasonText: stringOrNull(r.reason_text),
    trigger: stringOrNull(r.trigger),
    evidence: { ...emptyEvidence(), ...(fromDbJson<Partial<BlockEvidence>>(r.evidence) ?? {}) },
    serverId: numberOrNull(r.server_id),
    serverName: stringOrNull(r.server_name),
    createdBy: String(r.created_by),
    createdAt: fromDbTime(r.created_at),
    expiresAt: fromDbTimeOrNull(r.expires_at),
    status: String(r.status) as BlockStatus,
    liftedAt: fromDbTimeOrNull(r.lifted_at),
    liftedBy: stringOrNull(r.lifted_by),
    liftReason: stringOrNull(r.lift_reason),
    syncState: String(r.sync_state) as SyncState,
    syncError: stringOrNull(r.sync_error),
    syncedAt: fromDbTimeOrNull(r.synced_at),
  };
}

/** What a new block row is given; the rest of IpBlock (id, status, times, lift) the database or later changes fill in. */
export type NewBlockRow = Pick<IpBlock, 'address' | 'family' | 'reason' | 'reasonText' | 'trigger' | 'evidence' | 'serverId' | 'createdBy' | 'expiresAt' | 'syncState' | 'syncedAt'>;

export interface BlockFilters {
  status?: BlockStatus;
  reason?: BlockReason;
  /** An IP (finds the blocks of every network containing it), a CIDR (exact), or text (in the address or reason). */
  q?: string;
  serverId?: number;
  sync?: SyncState;
}

/** The firewall-relevant state a sync started from: its outcome is recorded only if the block still looks like this. */
export interface SyncSnapshot {
  id: number;
  status: BlockStatus;
  expiresAt: Date | null;
}

export interface BlockAuditEntry {
  at: Date;
  actor: string;
  action: string;
  data: Record<string, unknown> | null;
}

const withServer = (db: Queryable) => db('ip_blocks as b').leftJoin('servers as s', 's.id', 'b.server_id').select('b.*', 's.name as server_name');

function sameExpiry(q: Knex.QueryBuilder, expiresAt: Date | null): Knex.QueryBuilder {
  return expiresAt ? q.where('expires_at', toDbTime(expiresAt)) : q.whereNull('expires_at');
}

/** ip_blocks: knex only. Every function takes a Knex or a transaction. */
export const blockRepository = {
  async insert(db: Queryable, b: NewBlockRow, now: Date): Promise<number> {
    return insertedId(
      await db('ip_blocks').insert({
        address: b.address,
        family: b.family,
        reason: b.reason,
        reason_text: cut(b.reasonText, widths.reasonText),
        trigger: cut(b.trigger, widths.trigger),
        evidence: toDbJson(fitEvidence(b.evidence)),
        server_id: b.serverId,
        created_by: cut(b.createdBy, widths.createdBy),
        created_at: toDbTime(now),
        expires_at: b.expiresAt ? toDbTime(b.expiresAt) : null,
        status: 'active',
        sync_state: b.syncState,
        synced_at: b.syncedAt ? toDbTime(b.syncedAt) : null,
      }),
    );
  },

  async findById(db: Queryable, id: number): Promise<IpBlock | null> {
    const row = (await withServer(db).where('b.id', id).first()) as Record<string, unknown> | undefined;
    return row ? mapBlock(row) : null;
  },

  /**
   * The active block of exactly this (canonical) address. Inside a MySQL transaction the read locks
   * the matching index range, so two adds of one address cannot both see "none" and insert twice
   * (the loser deadlocks and is retried by the service); SQLite has a single writer already.
   */
  async findActiveByAddress(db: Queryable, address: string): Promise<IpBlock | null> {
    // Lock ip_blocks only (not the joined server row), then read the block with its server's name.
    const query = db('ip_blocks').select('id').where({ address, status: 'active' }).orderBy('id', 'desc');
    const row = (await (engineOf(db) === 'mysql' && db.isTransaction ? query.forUpdate() : query).first()) as { id: unknown } | undefined;
    return row ? blockRepository.findById(db, toNumber(row.id)) : null;
  },

  /** Extends an active block: new expiry, reason, evidence; the firewall has to follow (syncState). */
  async extend(db: Queryable, id: number, c: { expiresAt: Date | null; reasonText: string | null; trigger: string | null; evidence: BlockEvidence; syncState: SyncState; syncedAt: Date | null; syncError: string | null }): Promise<void> {
    await db('ip_blocks')
      .where({ id, status: 'active' })
      .update({
        expires_at: c.expiresAt ? toDbTime(c.expiresAt) : null,
        reason_text: cut(c.reasonText, widths.reasonText),
        trigger: cut(c.trigger, widths.trigger),
        evidence: toDbJson(fitEvidence(c.evidence)),
        sync_state: c.syncState,
        sync_error: cut(c.syncError, widths.syncError),
        synced_at: c.syncedAt ? toDbTime(c.syncedAt) : null,
      });
  },

  /** Active → lifted (false if it was not active any more). */
  async lift(db: Queryable, id: number, l: { by: string; reason: string; syncState: SyncState }, now: Date): Promise<boolean> {
    const n = await db('ip_blocks')
      .where({ id, status: 'active' })
      .update({ status: 'lifted', lifted_at: toDbTime(now), lifted_by: cut(l.by, widths.createdBy), lift_reason: cut(l.reason, widths.liftReason), sync_state: l.syncState, sync_error: null });
    return toNumber(n) === 1;
  },

  /** Active and past its expiry → expired (false if something else changed it first). */
  async expire(db: Queryable, id: number, syncState: SyncState, now: Date): Promise<boolean> {
    const n = await db('ip_blocks')
      .where({ id, status: 'active' })
      .whereNotNull('expires_at')
      .where('expires_at', '<=', toDbTime(now))
      .update({ status: 'expired', sync_state: syncState, sync_error: null });
    return toNumber(n) === 1;
  },

  async dueForExpiry(db: Queryable, now: Date, limit: number): Promise<IpBlock[]> {
    const rows = (await withServer(db).where('b.status', 'active').whereNotNull('b.expires_at').where('b.expires_at', '<=', toDbTime(now)).orderBy('b.expires_at').limit(limit)) as Record<string, unknown>[];
    return rows.map(mapBlock);
  },

  /**
   * Blocks whose firewall state is behind: pending or failed, and (once a firewall is configured)
   * active blocks recorded while it was not, so turning CSF on applies the existing list.
   */
  async needingSync(db: Queryable, includeUnconfigured: boolean, limit: number): Promise<IpBlock[]> {
    const rows = (await withServer(db)
      .where((w) => {
        w.whereIn('b.sync_state', ['pending', 'failed']);
        if (includeUnconfigured) w.orWhere((a) => a.where('b.sync_state', 'not_configured').andWhere('b.status', 'active'));
      })
      // New changes first: a block csf keeps refusing must not hold up the ones behind it.
      .orderByRaw("case b.sync_state when 'pending' then 0 when 'not_configured' then 1 else 2 end")
      .orderBy('b.id')
      .limit(limit)) as Record<string, unknown>[];
    return rows.map(mapBlock);
  },

  /** Records a sync's outcome unless the block changed (status or expiry) while the firewall ran: that change has its own sync. */
  async recordSync(db: Queryable, s: SyncSnapshot, outcome: { state: SyncState; error: string | null }, now: Date): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      try {
        const q = db('ip_blocks').where({ id: s.id, status: s.status });
        const n = await sameExpiry(q, s.expiresAt).update({
          sync_state: outcome.state,
          sync_error: cut(outcome.error, widths.syncError),
          ...(outcome.state === 'synced' ? { synced_at: toDbTime(now) } : {}),
        });
        return toNumber(n) === 1;
      } catch (err) {
        // On MySQL this lone UPDATE can lose a deadlock against an add extending the same block: it is safe to repeat.
        if (!isLockConflict(err) || attempt >= 5) throw err;
      }
    }
  },

  /** Blocks of this address that were alive at some point since `since` (their blockedAt times tell when each block happened). */
  async aliveSince(db: Queryable, address: string, since: Date): Promise<IpBlock[]> {
    const at = toDbTime(since);
    const rows = (await withServer(db)
      .where('b.address', address)
      .where((w) => w.where('b.created_at', '>=', at).orWhere('b.status', 'active').orWhere('b.expires_at', '>=', at).orWhere('b.lifted_at', '>=', at))
      .orderBy('b.id')) as Record<string, unknown>[];
    return rows.map(mapBlock);
  },

  filtered(db: Queryable, f: BlockFilters): Knex.QueryBuilder {
    const query = withServer(db);
    if (f.status) query.where('b.status', f.status);
    if (f.reason) query.where('b.reason', f.reason);
    if (f.serverId) query.where('b.server_id', f.serverId);
    if (f.sync) query.where('b.sync_state', f.sync);
    if (f.q) {
      let network: string[] | null = null;
      try {
        network = networksContaining(normalizeAddress(f.q, 'q'));
      } catch {
        network = null;
      }
      if (network) query.whereIn('b.address', network);
      else query.where((w) => w.whereRaw(`b.address like ? ${LIKE_ESCAPE}`, [likePattern(f.q!)]).orWhereRaw(`b.reason_text like ? ${LIKE_ESCAPE}`, [likePattern(f.q!)]));
    }
    return query;
  },

  /** Newest first, keyset on the id. */
  async list(db: Queryable, f: BlockFilters, page: PageRequest): Promise<Page<IpBlock> & { total: number }> {
    const query = blockRepository.filtered(db, f);
    applyKeyset(query, { column: 'b.id', idColumn: 'b.id', direction: 'desc', page });
    const result = finishPage(((await query) as Record<string, unknown>[]).map(mapBlock), page, (b) => [b.id, b.id]);
    const counted = (await blockRepository.filtered(db, f).clearSelect().count({ n: '*' }).first()) as { n: unknown } | undefined;
    return { ...result, total: toNumber(counted?.n ?? 0) };
  },

  async countBySync(db: Queryable, state: SyncState): Promise<number> {
    const row = (await db('ip_blocks').where('sync_state', state).count({ n: '*' }).first()) as { n: unknown } | undefined;
    return toNumber(row?.n ?? 0);
  },

  /** The block's audit entries (added, extended, lifted, expired), oldest first. */
  async history(db: Queryable, id: number): Promise<BlockAuditEntry[]> {
    const rows = (await db('audit_log').where({ subject_type: 'ip_block', subject_id: String(id) }).orderBy('seq')) as Record<string, unknown>[];
    return rows.map((r) => ({ at: fromDbTime(r.at), actor: String(r.actor_login), action: String(r.action), data: fromDbJson<Record<string, unknown>>(r.data) }));
  },
};
