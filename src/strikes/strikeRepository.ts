import { fromDbTime, fromDbTimeOrNull, insertedId, isUniqueViolation, numberOrNull, stringOrNull, toDbTime, toNumber, type Queryable } from '../db/dialect';

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

/**
 * Strikes against an account: what the enforcement ladder counts. One per valid complaint at most
 * (unique complaint_id). A strike is never deleted: when its cause is overturned it is lifted with a
 * reason. accounts.strikes holds the count of active strikes for lists and filters.
 */
export const strikeRepository = {
  /** Records a strike; returns its id, or null when the complaint already has an active one. Call inside the deciding transaction. */
  async add(db: Queryable, s: { accountId: number; source: StrikeSource; complaintId: number | null; reason: string }, now: Date): Promise<number | null> {
    if (s.complaintId !== null) {
      const existing = (await db('strikes').where('complaint_id', s.complaintId).first()) as Record<string, unknown> | undefined;
      if (existing) {
        if (existing.lifted_at == null) return null;
        // Decided valid again after being overturned: the same strike counts again.
        await db('strikes').where('id', toNumber(existing.id)).update({ lifted_at: null, lifted_reason: null, reason: s.reason.slice(0, 1000) });
        await db('accounts').where('id', toNumber(existing.account_id)).increment('strikes', 1);
        return toNumber(existing.id);
      }
    }
    let id: number;
    try {
      id = insertedId(await db('strikes').insert({ account_id: s.accountId, source: s.source, complaint_id: s.complaintId, reason: s.reason.slice(0, 1000), created_at: toDbTime(now) }));
    } catch (err) {
      if (isUniqueViolation(err)) return null;
      throw err;
    }
    await db('accounts').where('id', s.accountId).increment('strikes', 1);
    return id;
  },

  /** Lifts the strike of a complaint (its decision was overturned); returns false when there is none active. */
  async liftForComplaint(db: Queryable, complaintId: number, reason: string, now: Date): Promise<boolean> {
    const existing = (await db('strikes').where('complaint_id', complaintId).whereNull('lifted_at').first()) as Record<string, unknown> | undefined;
    if (!existing) return false;
    await db('strikes').where('id', toNumber(existing.id)).update({ lifted_at: toDbTime(now), lifted_reason: reason.slice(0, 1000) });
    await db('accounts').where('id', toNumber(existing.account_id)).decrement('strikes', 1);
    return true;
  },

  /** Active strikes of an account recorded since `since` (the ladder's window). */
  async activeSince(db: Queryable, accountId: number, since: Date): Promise<number> {
    const row = (await db('strikes').where('account_id', accountId).whereNull('lifted_at').where('created_at', '>=', toDbTime(since)).count({ n: '*' }).first()) as { n: unknown } | undefined;
    return toNumber(row?.n ?? 0);
  },

  /** Active strikes of every account below a reseller, recorded since `since`. */
  async activeUnderResellerSince(db: Queryable, resellerAccountId: number, since: Date): Promise<number> {
    const row = (await db('strikes')
      .whereIn('account_id', db('account_tree').select('account_id').where('ancestor_id', resellerAccountId).where('depth', '>', 0))
      .whereNull('lifted_at')
      .where('created_at', '>=', toDbTime(since))
      .count({ n: '*' })
      .first()) as { n: unknown } | undefined;
    return toNumber(row?.n ?? 0);
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
