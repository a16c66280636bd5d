import type { Knex } from 'knex';
import { fromDbJson, fromDbTime, fromDbTimeOrNull, isUniqueViolation, numberOrNull, stringOrNull, toDbTime, toNumber, type Queryable } from '../db/dialect';
import { chunksOf } from '../lib/chunks';
import type { Actor } from '../tenancy/actor';
import { scopeToActor } from '../tenancy/scope';

export const chargeStatuses = ['proposed', 'approved', 'waived', 'disputed'] as const;
/**
 * - proposed: a valid complaint proposes one charge; nothing is billed until an admin approves
 * - approved: billable (CSV export, WHMCS)
 * - waived: not charged, with the reason (also when the complaint is later decided invalid)
 * - disputed: the customer or reseller contests it; an admin decides
 */
export type ChargeStatus = (typeof chargeStatuses)[number];

export interface Charge {
  id: number;
  complaintId: number;
  accountId: number;
  resellerAccountId: number | null;
  amountCents: number;
  currency: string;
  status: ChargeStatus;
  reason: string | null;
  decidedBy: string | null;
  decidedAt: Date | null;
  billingStatus: string | null;
  billingRef: string | null;
  billingError: string | null;
  billedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export function mapCharge(r: Record<string, unknown>): Charge {
  return {
    id: toNumber(r.id),
    complaintId: toNumber(r.complaint_id),
    accountId: toNumber(r.account_id),
    resellerAccountId: numberOrNull(r.reseller_account_id),
    amountCents: toNumber(r.amount_cents),
    currency: String(r.currency),
    status: r.status as ChargeStatus,
    reason: stringOrNull(r.reason),
    decidedBy: stringOrNull(r.decided_by),
    decidedAt: fromDbTimeOrNull(r.decided_at),
    billingStatus: stringOrNull(r.billing_status),
    billingRef: stringOrNull(r.billing_ref),
    billingError: stringOrNull(r.billing_error),
    billedAt: fromDbTimeOrNull(r.billed_at),
    createdAt: fromDbTime(r.created_at),
    updatedAt: fromDbTime(r.updated_at),
  };
}

export interface ProposedCharge {
  complaintId: number;
  accountId: number;
  resellerAccountId: number | null;
  amountCents: number;
  currency: string;
}

/** charges: one per complaint at most (unique complaint_id), so a complaint is never charged twice. */
export const chargeRepository = {
  /** Proposes the charge of a valid complaint; a complaint that already has one keeps it (a waived one is proposed again). */
  async propose(db: Queryable, c: ProposedCharge, now: Date): Promise<void> {
    await this.proposeMany(db, [c], now);
  },

  /** `propose` for many complaints: one read and one multi-row insert when none has a charge yet (the intake's case). */
  async proposeMany(db: Queryable, charges: readonly ProposedCharge[], now: Date): Promise<void> {
    const at = toDbTime(now);
    const existing = new Map<number, Record<string, unknown>>();
    for (const part of chunksOf(charges.map((c) => c.complaintId), 500)) {
      for (const row of (await db('charges').whereIn('complaint_id', part)) as Array<Record<string, unknown>>) existing.set(toNumber(row.complaint_id), row);
    }
    const fresh: Array<Record<string, unknown>> = [];
    for (const c of charges) {
      const row = existing.get(c.complaintId);
      if (!row) fresh.push({ complaint_id: c.complaintId, account_id: c.accountId, reseller_account_id: c.resellerAccountId, amount_cents: c.amountCents, currency: c.currency, status: 'proposed', created_at: at, updated_at: at });
      else if (row.status === 'waived' && row.billed_at == null) {
        await db('charges').where('id', toNumber(row.id)).update({ status: 'proposed', reason: null, decided_by: null, decided_at: null, updated_at: at });
      }
    }
    try {
      for (const part of chunksOf(fresh, 200)) await db('charges').insert(part);
    } catch (err) {
      // Another transaction proposed one of them first: that one keeps its charge.
      if (!isUniqueViolation(err)) throw err;
      for (const row of fresh) await db('charges').insert(row).onConflict('complaint_id').ignore();
    }
  },

  /** The complaint was overturned: a charge not billed yet is waived with the reason; a billed one is left for an admin (credit in billing). */
  async withdraw(db: Queryable, complaintId: number, reason: string, now: Date): Promise<void> {
    await db('charges')
      .where('complaint_id', complaintId)
      .whereIn('status', ['proposed', 'approved', 'disputed'])
      .whereNull('billed_at')
      .update({ status: 'waived', reason: reason.slice(0, 2000), decided_by: 'system', decided_at: toDbTime(now), updated_at: toDbTime(now) });
  },

  async ofComplaint(db: Queryable, complaintId: number): Promise<Charge | null> {
    const row = (await db('charges').where('complaint_id', complaintId).first()) as Record<string, unknown> | undefined;
    return row ? mapCharge(row) : null;
  },
};

export const billingStatuses = ['sending', 'sent', 'failed', 'unknown'] as const;
/**
 * Where a charge stands with WHMCS (null: never sent):
 * - sending: claimed by one send (a conditional UPDATE), the API call is in flight
 * - sent: WHMCS created billable item `billing_ref`; `billed_at` is set and the charge is never sent again
 * - failed: WHMCS certainly created nothing (error in `billing_error`); may be sent again
 * - unknown: the call timed out or its answer was lost; an admin checks WHMCS before anything else happens
 */
export type BillingStatus = (typeof billingStatuses)[number];

export interface ChargeEvent {
  at: Date;
  actor: string;
  action: string;
  data: Record<string, unknown> | null;
}

/** A charge with the names an admin reads: account, its contact email, reseller, and the complaint's status. */
export interface ChargeView extends Charge {
  accountUsername: string;
  accountEmail: string | null;
  resellerUsername: string | null;
  complaintStatus: string;
}

export function mapChargeView(r: Record<string, unknown>): ChargeView {
  return {
    ...mapCharge(r),
    accountUsername: String(r.account_username),
    accountEmail: stringOrNull(r.account_email),
    resellerUsername: stringOrNull(r.reseller_username),
    complaintStatus: String(r.complaint_status),
  };
}

/** Charges joined with their account, reseller and complaint, scoped to what the actor may see. */
export function chargeQuery(db: Queryable, actor: Actor): Knex.QueryBuilder {
  const query = db('charges as ch')
    .join('accounts as a', 'a.id', 'ch.account_id')
    .leftJoin('accounts as r', 'r.id', 'ch.reseller_account_id')
    .join('complaints as c', 'c.id', 'ch.complaint_id')
    .select('ch.*', 'a.username as account_username', 'a.contact_email as account_email', 'r.username as reseller_username', 'c.status as complaint_status');
  return scopeToActor(db, query, actor, 'ch.account_id');
}

/** Nothing has gone to WHMCS, or it certainly failed: the only states in which a charge may change or be (re)sent. */
function unbilled(q: Knex.QueryBuilder): Knex.QueryBuilder {
  return q.whereNull('billed_at').where((w) => w.whereNull('billing_status').orWhere('billing_status', 'failed'));
}

export const chargeLedger = {
  async find(db: Queryable, actor: Actor, id: number): Promise<ChargeView | null> {
    const row = (await chargeQuery(db, actor).where('ch.id', id).first()) as Record<string, unknown> | undefined;
    return row ? mapChargeView(row) : null;
  },

  /** An admin's decision, only if the charge is still in `from` and unbilled; false when it changed meanwhile. */
  async decide(db: Queryable, id: number, from: ChargeStatus, to: ChargeStatus, reason: string, by: string, now: Date): Promise<boolean> {
    const n = await unbilled(db('charges').where({ id, status: from })).update({ status: to, reason: reason.slice(0, 2000), decided_by: by.slice(0, 64), decided_at: toDbTime(now), updated_at: toDbTime(now) });
    return toNumber(n) === 1;
  },

  /** Claims an approved, unbilled charge for one send. Two concurrent sends cannot both succeed: the UPDATE is the lock. */
  async claim(db: Queryable, id: number, now: Date): Promise<boolean> {
    const n = await unbilled(db('charges').where({ id, status: 'approved' })).update({ billing_status: 'sending', billing_error: null, updated_at: toDbTime(now) });
    return toNumber(n) === 1;
  },

  /** The outcome of a claimed send. */
  async settle(db: Queryable, id: number, outcome: { status: 'sent'; ref: string } | { status: 'failed' | 'unknown'; error: string }, now: Date): Promise<void> {
    const at = toDbTime(now);
    const values =
      outcome.status === 'sent'
        ? { billing_status: 'sent', billing_ref: outcome.ref.slice(0, 64), billing_error: null, billed_at: at, updated_at: at }
        : { billing_status: outcome.status, billing_error: outcome.error.slice(0, 1000), updated_at: at };
    await db('charges').where({ id, billing_status: 'sending' }).update(values);
  },

  /**
   * An admin checked WHMCS for a send whose outcome is unknown (or that has been in flight since
   * before `staleBefore`): with the billable item id it is recorded as sent, without it as failed.
   */
  async resolve(db: Queryable, id: number, staleBefore: Date, outcome: { ref: string | null; note: string }, now: Date): Promise<boolean> {
    const at = toDbTime(now);
    const values = outcome.ref
      ? { billing_status: 'sent', billing_ref: outcome.ref.slice(0, 64), billing_error: null, billed_at: at, updated_at: at }
      : { billing_status: 'failed', billing_error: `Not billed (checked in WHMCS): ${outcome.note}`.slice(0, 1000), updated_at: at };
    const n = await db('charges')
      .where('id', id)
      .whereNull('billed_at')
      .where((w) => w.where('billing_status', 'unknown').orWhere((s) => s.where('billing_status', 'sending').andWhere('updated_at', '<', toDbTime(staleBefore))))
      .update(values);
    return toNumber(n) === 1;
  },

  /** The charge's audit entries (decisions, sends, settlements), oldest first. */
  async history(db: Queryable, id: number): Promise<ChargeEvent[]> {
    const rows = (await db('audit_log').where({ subject_type: 'charge', subject_id: String(id) }).orderBy('seq')) as Record<string, unknown>[];
    return rows.map((r) => ({ at: fromDbTime(r.at), actor: String(r.actor_login), action: String(r.action), data: fromDbJson<Record<string, unknown>>(r.data) }));
  },

  /** Count and sum per currency of the given charges. */
  async totalsOf(db: Queryable, ids: number[]): Promise<Array<{ currency: string; amountCents: number; count: number }>> {
    if (!ids.length) return [];
    const rows = (await db('charges').whereIn('id', ids).select('currency').count({ n: '*' }).sum({ cents: 'amount_cents' }).groupBy('currency').orderBy('currency')) as Array<{ currency: string; n: unknown; cents: unknown }>;
    return rows.map((r) => ({ currency: String(r.currency), amountCents: toNumber(r.cents ?? 0), count: toNumber(r.n) }));
  },

  /** Ids of approved charges that may be sent now, oldest first. */
  async sendable(db: Queryable, limit: number): Promise<number[]> {
    const rows = (await unbilled(db('charges').where('status', 'approved')).orderBy('id').limit(limit).select('id')) as Array<{ id: unknown }>;
    return rows.map((r) => toNumber(r.id));
  },
};
