import { fromDbTime, fromDbTimeOrNull, insertedId, isUniqueViolation, numberOrNull, stringOrNull, toDbTime, toNumber, type Queryable } from '../db/dialect';
import { chunksOf } from '../lib/chunks';

export const strikeSources = ['complaint', 'postmaster', 'manual'] as const;
export type StrikeSource = (typeof strikeSources)[number];

export interface Strike {
  id: number;
  accountId: number;
  source: StrikeSource;
  complaintId: number | null;
  reason: string;
  createdAt: Date;
  liftedAt: Date | null;
  liftedReason: string | null;
}

function mapStrike(r: Record<string, unknown>): Strike {
  return {
    id: toNumber(r.id),
    accountId: toNumber(r.account_id),
    source: r.source as StrikeSource,
    complaintId: numberOrNull(r.complaint_id),
    reason: String(r.reason),
    createdAt: fromDbTime(r.created_at),
    liftedAt: fromDbTimeOrNull(r.lifted_at),
    liftedReason: stringOrNull(r.lifted_reason),
  };
}

export interface NewStrikeInput {
  accountId: number;
  source: StrikeSource;
  complaintId: number | null;
  reason: string;
}

async function insertUnlessRecorded(db: Queryable, row: Record<string, unknown>): Promise<void> {
  try {
    await db('strikes').insert(row);
  } catch (err) {
    if (!isUniqueViolation(err)) throw err;
  }
}

/**
 * Strikes against an account: what the enforcement ladder counts. One per valid complaint at most
 * (unique complaint_id). A strike is never deleted: when its cause is overturned it is lifted with a
 * reason. accounts.strikes holds the count of active strikes for lists and filters.
 */
export const strikeRepository = {
  /** Records a strike; returns its id, or null when the complaint already has an active one. Call inside the deciding transaction. */
  async add(db: Queryable, s: NewStrikeInput, now: Date): Promise<number | null> {
    return (await this.addMany(db, [s], now))[0] ?? null;
  },

  /**
   * Records strikes (for complaints: at most one active per complaint) and returns, per input in order,
   * the strike's id or null when its complaint already had an active one. A strike of a complaint that
   * was overturned and is now valid again is the same strike, counted again. Fresh complaints (the
   * intake's case) cost one read and one multi-row insert for any number of strikes.
   */
  async addMany(db: Queryable, items: readonly NewStrikeInput[], now: Date): Promise<Array<number | null>> {
    const result: Array<number | null> = items.map(() => null);
    const complaintIds = items.flatMap((s) => (s.complaintId === null ? [] : [s.complaintId]));
    const existing = new Map<number, Record<string, unknown>>();
    for (const part of chunksOf(complaintIds, 500)) {
      for (const row of (await db('strikes').whereIn('complaint_id', part)) as Array<Record<string, unknown>>) existing.set(toNumber(row.complaint_id), row);
    }
    const fresh: number[] = [];
    for (const [i, s] of items.entries()) {
      const row = s.complaintId === null ? undefined : existing.get(s.complaintId);
      if (!row) fresh.push(i);
      else if (row.lifted_at != null) {
        await db('strikes').where('id', toNumber(row.id)).update({ lifted_at: null, lifted_reason: null, reason: s.reason.slice(0, 1000) });
        await db('accounts').where('id', toNumber(row.account_id)).increment('strikes', 1);
        result[i] = toNumber(row.id);
      }
    }
    const at = toDbTime(now);
    const rowOf = (s: NewStrikeInput) => ({ account_id: s.accountId, source: s.source, complaint_id: s.complaintId, reason: s.reason.slice(0, 1000), created_at: at });
    const ofComplaints = fresh.filter((i) => items[i]!.complaintId !== null);
    try {
      for (const part of chunksOf(ofComplaints, 200)) await db('strikes').insert(part.map((i) => rowOf(items[i]!)));
    } catch (err) {
      // Another transaction recorded one of them first: add them one by one, skipping those.
      if (!isUniqueViolation(err)) throw err;
      for (const i of ofComplaints) await insertUnlessRecorded(db, rowOf(items[i]!));
    }
    const ids = new Map<number, number>();
    for (const part of chunksOf(ofComplaints.map((i) => items[i]!.complaintId!), 500)) {
      for (const row of (await db('strikes').whereIn('complaint_id', part).select('id', 'complaint_id')) as Array<Record<string, unknown>>) ids.set(toNumber(row.complaint_id), toNumber(row.id));
    }
    for (const i of fresh) {
      const s = items[i]!;
      result[i] = s.complaintId === null ? insertedId(await db('strikes').insert(rowOf(s))) : (ids.get(s.complaintId) ?? null);
    }
    const perAccount = new Map<number, number>();
    for (const i of fresh) if (result[i] !== null) perAccount.set(items[i]!.accountId, (perAccount.get(items[i]!.accountId) ?? 0) + 1);
    for (const [accountId, n] of perAccount) await db('accounts').where('id', accountId).increment('strikes', n);
    return result;
  },

  /** Lifts the strike of a complaint (its decision was overturned); returns false when there is none active. */
  async liftForComplaint(db: Queryable, complaintId: number, reason: string, now: Date): Promise<boolean> {
    const existing = (await db('strikes').where('complaint_id', complaintId).whereNull('lifted_at').first()) as Record<string, unknown> | undefined;
    if (!existing) return false;
    await db('strikes').where('id', toNumber(existing.id)).update({ lifted_at: toDbTime(now), lifted_reason: reason.slice(0, 1000) });
    await db('accounts').where('id', toNumber(existing.account_id)).decrement('strikes', 1);
    return true;
  },

  /** Active strikes per account recorded since `since` (the ladder's window); accounts without any are absent. */
  async activeSinceMany(db: Queryable, accountIds: readonly number[], since: Date): Promise<Map<number, number>> {
    const counts = new Map<number, number>();
    for (const part of chunksOf(accountIds, 500)) {
      const rows = (await db('strikes').whereIn('account_id', part).whereNull('lifted_at').where('created_at', '>=', toDbTime(since)).groupBy('account_id').select('account_id').count({ n: '*' })) as Array<{ account_id: unknown; n: unknown }>;
      for (const r of rows) counts.set(toNumber(r.account_id), toNumber(r.n));
    }
    return counts;
  },

  /** Active strikes of every account below each reseller, recorded since `since`. */
  async activeUnderResellersSince(db: Queryable, resellerAccountIds: readonly number[], since: Date): Promise<Map<number, number>> {
    const counts = new Map<number, number>();
    for (const part of chunksOf(resellerAccountIds, 500)) {
      const rows = (await db('strikes as s')
        .join('account_tree as t', 't.account_id', 's.account_id')
        .whereIn('t.ancestor_id', part)
        .where('t.depth', '>', 0)
        .whereNull('s.lifted_at')
        .where('s.created_at', '>=', toDbTime(since))
        .groupBy('t.ancestor_id')
        .select('t.ancestor_id')
        .count({ n: '*' })) as Array<{ ancestor_id: unknown; n: unknown }>;
      for (const r of rows) counts.set(toNumber(r.ancestor_id), toNumber(r.n));
    }
    return counts;
  },

  async ofAccount(db: Queryable, accountId: number): Promise<Strike[]> {
    const rows = (await db('strikes').where('account_id', accountId).orderBy('id', 'desc')) as Record<string, unknown>[];
    return rows.map(mapStrike);
  },

  async ofComplaint(db: Queryable, complaintId: number): Promise<Strike | null> {
    const row = (await db('strikes').where('complaint_id', complaintId).first()) as Record<string, unknown> | undefined;
    return row ? mapStrike(row) : null;
  },
};
