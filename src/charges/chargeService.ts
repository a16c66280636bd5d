import type { Knex } from 'knex';
import { auditRepository } from '../audit/auditRepository';
import { toDbTime, toNumber } from '../db/dialect';
import type { Clock } from '../lib/clock';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../lib/errors';
import { applyKeyset, finishPage, type Page, type PageRequest } from '../lib/keyset';
import type { Actor } from '../tenancy/actor';
import { chargeLedger, chargeQuery, mapChargeView, type BillingStatus, type ChargeEvent, type ChargeStatus, type ChargeView } from './chargeRepository';

export interface ChargeFilters {
  status?: ChargeStatus;
  /** Account username (exact). */
  account?: string;
  /** Reseller username: charges of every account it owns, directly or through sub-resellers. */
  reseller?: string;
  /** Proposed on or after / before (created_at). */
  from?: Date;
  to?: Date;
  /** Billing status; "none" = never sent. */
  billing?: BillingStatus | 'none';
}

export interface ChargeTotal {
  currency: string;
  status: ChargeStatus;
  count: number;
  amountCents: number;
}

export interface ChargeListing extends Page<ChargeView> {
  total: number;
  /** Sums per currency and status over every charge the filters select (not only this page). */
  totals: ChargeTotal[];
}

/** Decisions an admin may take; the audit action is `charge.<verb>`. */
export const chargeDecisions = ['approved', 'waived', 'disputed'] as const;
export type ChargeDecision = (typeof chargeDecisions)[number];
const decisionVerb: Record<ChargeDecision, string> = { approved: 'approve', waived: 'waive', disputed: 'dispute' };

/** Shortest reason accepted for a decision (it is kept in the audit log and shown on the charge). */
export const minReasonLength = 10;

/** "3000.00" from 300000 cents. */
export function formatAmount(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

/** The charges ledger: listing with filters and totals, one charge with its history, and the admin's decisions. */
export class ChargeService {
  constructor(
    private readonly db: Knex,
    private readonly clock: Clock,
  ) {}

  /** Every charge (admins only). */
  async list(actor: Actor, filters: ChargeFilters, page: PageRequest): Promise<ChargeListing> {
    this.mustBeAdmin(actor, 'Only administrators see the charges ledger.');
    return this.listing(actor, filters, page);
  }

  /** The charges of a reseller's customers (scoped by src/tenancy/scope.ts); not yet shown in the reseller panel. */
  async listForReseller(actor: Actor, filters: ChargeFilters, page: PageRequest): Promise<ChargeListing> {
    if (actor.role !== 'reseller') throw new ForbiddenError('Only resellers list the charges of their customers.');
    return this.listing(actor, filters, page);
  }

  async get(actor: Actor, id: number): Promise<{ charge: ChargeView; history: ChargeEvent[] }> {
    this.mustBeAdmin(actor, 'Only administrators see charges.');
    const charge = await chargeLedger.find(this.db, actor, id);
    if (!charge) throw new NotFoundError('Charge');
    return { charge, history: await chargeLedger.history(this.db, id) };
  }

  async ofComplaint(actor: Actor, complaintId: number): Promise<ChargeView | null> {
    this.mustBeAdmin(actor, 'Only administrators see charges.');
    const row = (await chargeQuery(this.db, actor).where('ch.complaint_id', complaintId).first()) as Record<string, unknown> | undefined;
    return row ? mapChargeView(row) : null;
  }

  /**
   * Approve, waive or dispute a charge, with a written reason; audited in the same transaction.
   * Refused (409): anything once the charge went to WHMCS (credit it there instead), the same state
   * again, and approving or disputing a charge whose complaint is no longer valid.
   */
  async decide(actor: Actor, id: number, to: ChargeDecision, reason: string, ip: string | null = null): Promise<ChargeView> {
    this.mustBeAdmin(actor, 'Only administrators decide charges.');
    const why = reason.trim();
    if (why.length < minReasonLength) throw new ValidationError({ reason: `is required: write why (at least ${minReasonLength} characters); it is kept with the charge and in the audit log` });
    if (!(chargeDecisions as readonly string[]).includes(to)) throw new ValidationError({ status: 'expects approved, waived or disputed' });
    const now = this.clock.now();
    await this.db.transaction(async (trx) => {
      const charge = await chargeLedger.find(trx, actor, id);
      if (!charge) throw new NotFoundError('Charge');
      if (charge.billedAt || charge.billingStatus === 'sent') throw new ConflictError(`Charge #${id} was sent to WHMCS (billable item ${charge.billingRef ?? '?'}) and cannot change here; credit or remove the item in WHMCS.`);
      if (charge.billingStatus === 'sending' || charge.billingStatus === 'unknown') throw new ConflictError(`Charge #${id} is being sent to WHMCS, or its send has an unknown outcome; settle that first.`);
      if (charge.status === to) throw new ConflictError(`Charge #${id} is already ${to}.`);
      if (to !== 'waived' && charge.complaintStatus !== 'valid') {
        throw new ConflictError(`Charge #${id} cannot be ${to}: complaint #${charge.complaintId} is ${charge.complaintStatus.replace(/_/g, ' ')}, not valid. Waive it, or decide the complaint again first.`);
      }
      if (!(await chargeLedger.decide(trx, id, charge.status, to, why, actor.login, now))) throw new ConflictError(`Charge #${id} changed while you were deciding; reload it and decide again.`);
      await auditRepository.append(trx, { actorUserId: actor.userId, actorLogin: actor.login, action: `charge.${decisionVerb[to]}`, subjectType: 'charge', subjectId: id, data: { from: charge.status, to, reason: why, complaintId: charge.complaintId, amountCents: charge.amountCents, currency: charge.currency }, ip }, now);
    });
    return (await chargeLedger.find(this.db, actor, id))!;
  }

  /** Approved charges matching the filters, in id order, a batch at a time (for the CSV export). */
  async *approved(actor: Actor, filters: ChargeFilters, batchSize = 500): AsyncGenerator<ChargeView[]> {
    this.mustBeAdmin(actor, 'Only administrators export charges.');
    let cursor: string | undefined;
    do {
      const query = this.filtered(actor, { ...filters, status: 'approved' });
      applyKeyset(query, { column: 'ch.id', idColumn: 'ch.id', direction: 'asc', page: { limit: batchSize, cursor } });
      const page = finishPage(((await query) as Record<string, unknown>[]).map(mapChargeView), { limit: batchSize, cursor }, (c) => [c.id, c.id]);
      if (page.items.length) yield page.items;
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
  }

  private async listing(actor: Actor, filters: ChargeFilters, page: PageRequest): Promise<ChargeListing> {
    const query = this.filtered(actor, filters);
    applyKeyset(query, { column: 'ch.id', idColumn: 'ch.id', direction: 'desc', page });
    const result = finishPage(((await query) as Record<string, unknown>[]).map(mapChargeView), page, (c) => [c.id, c.id]);
    const sums = (await this.filtered(actor, filters)
      .clearSelect()
      .select('ch.currency', 'ch.status')
      .count({ n: '*' })
      .sum({ cents: 'ch.amount_cents' })
      .groupBy('ch.currency', 'ch.status')
      .orderBy('ch.currency')
      .orderBy('ch.status')) as Array<{ currency: string; status: string; n: unknown; cents: unknown }>;
    const totals = sums.map((s) => ({ currency: s.currency, status: s.status as ChargeStatus, count: toNumber(s.n), amountCents: toNumber(s.cents ?? 0) }));
    return { ...result, total: totals.reduce((n, t) => n + t.count, 0), totals };
  }

  private filtered(actor: Actor, f: ChargeFilters): Knex.QueryBuilder {
    const query = chargeQuery(this.db, actor);
    if (f.status) query.where('ch.status', f.status);
    if (f.account) query.where('a.username', f.account.trim().toLowerCase());
    if (f.reseller) {
      const owners = this.db('accounts').select('id').where('username', f.reseller.trim().toLowerCase());
      // Owned at depth ≥ 1: the reseller's own account is not its customer.
      query.whereIn('ch.account_id', this.db('account_tree').select('account_id').whereIn('ancestor_id', owners).andWhere('depth', '>', 0));
    }
    if (f.from) query.where('ch.created_at', '>=', toDbTime(f.from));
    if (f.to) query.where('ch.created_at', '<', toDbTime(f.to));
    if (f.billing === 'none') query.whereNull('ch.billing_status');
    else if (f.billing) query.where('ch.billing_status', f.billing);
    return query;
  }

  private mustBeAdmin(actor: Actor, message: string): void {
    if (actor.role !== 'admin') throw new ForbiddenError(message);
  }
}
