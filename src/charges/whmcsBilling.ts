import type { Knex } from 'knex';
import { auditRepository } from '../audit/auditRepository';
import type { Clock } from '../lib/clock';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../lib/errors';
import { logger } from '../lib/logger';
import type { Actor } from '../tenancy/actor';
import { chargeLedger, type ChargeView } from './chargeRepository';
import { formatAmount } from './chargeService';
import { WhmcsError, type WhmcsClient, type WhmcsInvoiceAction } from './whmcs/whmcsClient';

export interface SendResult {
  chargeId: number;
  outcome: 'sent' | 'failed' | 'unknown' | 'skipped';
  /** WHMCS billable item id when sent. */
  ref?: string;
  /** Why it failed, is unknown, or was skipped. */
  message?: string;
  /** The failure concerns WHMCS as a whole (credentials, connection), not this charge. */
  fatal?: boolean;
}

export interface SendReport {
  results: SendResult[];
  sent: number;
  failed: number;
  unknown: number;
  skipped: number;
}

/** A send still "in flight" after this long is treated as having an unknown outcome (the process may have died). */
export const staleSendMs = 10 * 60_000;
/** Charges one "send all" handles; the rest wait for the next press. */
export const maxPerSend = 200;

/**
 * Sends approved charges to WHMCS as billable items (AddBillableItem), finding the WHMCS client by the
 * account's contact email (GetClients) and checking it is billed in the charge's currency
 * (GetClientsDetails). A charge is claimed with a conditional UPDATE before the call, so two sends (two
 * admins, two instances) can never both bill it; once `billed_at` is set it is never sent again. A call
 * whose outcome is unknown (timeout, lost answer) is not retried: an admin looks in WHMCS and records
 * what is there (`resolve`).
 */
export class WhmcsBilling {
  constructor(
    private readonly db: Knex,
    private readonly clock: Clock,
    private readonly client: WhmcsClient | null,
    private readonly invoiceAction: WhmcsInvoiceAction = 'nextcron',
  ) {}

  get configured(): boolean {
    return this.client !== null;
  }

  /** Where and how charges are sent (for the pages), or null without WHMCS. */
  get target(): { host: string; invoiceAction: WhmcsInvoiceAction } | null {
    return this.client ? { host: this.client.endpoint.host, invoiceAction: this.invoiceAction } : null;
  }

  /** Approved charges that a "send all" would send now (count and sums per currency), for the confirmation page. */
  async pending(actor: Actor): Promise<{ count: number; totals: Array<{ currency: string; amountCents: number; count: number }> }> {
    this.mustBeAdmin(actor);
    const ids = await chargeLedger.sendable(this.db, maxPerSend);
    return { count: ids.length, totals: await chargeLedger.totalsOf(this.db, ids) };
  }

  /** Sends one charge, or every approved unbilled one (up to `maxPerSend`). Each attempt is audited. */
  async send(actor: Actor, which: { chargeId: number } | 'all', ip: string | null = null): Promise<SendReport> {
    this.mustBeAdmin(actor);
    const client = this.client;
    if (!client) throw new ConflictError('The WHMCS integration is not configured (WHMCS_URL, WHMCS_IDENTIFIER, WHMCS_SECRET); export approved charges as CSV instead.');
    let ids: number[];
    if (which === 'all') ids = await chargeLedger.sendable(this.db, maxPerSend);
    else {
      if (!(await chargeLedger.find(this.db, actor, which.chargeId))) throw new NotFoundError('Charge');
      ids = [which.chargeId];
    }
    const clientIds = new Map<string, Promise<number>>();
    const results: SendResult[] = [];
    for (const [i, id] of ids.entries()) {
      const result = await this.sendOne(actor, client, id, clientIds, ip);
      results.push(result);
      // WHMCS refused the credentials or cannot be reached: the rest would fail the same way; leave them untouched.
      if (result.fatal) {
        for (const rest of ids.slice(i + 1)) results.push({ chargeId: rest, outcome: 'skipped', message: `not tried: ${result.message}` });
        break;
      }
    }
    const count = (o: SendResult['outcome']) => results.filter((r) => r.outcome === o).length;
    return { results, sent: count('sent'), failed: count('failed'), unknown: count('unknown'), skipped: count('skipped') };
  }

  /**
   * After checking WHMCS for a send with an unknown outcome (or one in flight for over 10 minutes):
   * `billableId` records it as sent; without it the charge is marked not billed and may be sent again.
   */
  async resolve(actor: Actor, id: number, input: { billableId?: string; note: string }, ip: string | null = null): Promise<ChargeView> {
    this.mustBeAdmin(actor);
    const note = input.note.trim();
    if (note.length < 10) throw new ValidationError({ note: 'is required: say what you found in WHMCS (at least 10 characters)' });
    const ref = input.billableId?.trim() || null;
    if (ref !== null && !/^\d{1,20}$/.test(ref)) throw new ValidationError({ billableId: 'expects the numeric id of the billable item in WHMCS' });
    const now = this.clock.now();
    await this.db.transaction(async (trx) => {
      const charge = await chargeLedger.find(trx, actor, id);
      if (!charge) throw new NotFoundError('Charge');
      if (!(await chargeLedger.resolve(trx, id, new Date(now.getTime() - staleSendMs), { ref, note }, now))) {
        throw new ConflictError(`Charge #${id} has no send to settle: only an unknown outcome, or a send in flight for over ${staleSendMs / 60_000} minutes, can be settled by hand.`);
      }
      await auditRepository.append(trx, { actorUserId: actor.userId, actorLogin: actor.login, action: 'charge.billing_resolve', subjectType: 'charge', subjectId: id, data: { from: charge.billingStatus, billableId: ref, note }, ip }, now);
    });
    return (await chargeLedger.find(this.db, actor, id))!;
  }

  private async sendOne(actor: Actor, client: WhmcsClient, id: number, clientIds: Map<string, Promise<number>>, ip: string | null): Promise<SendResult> {
    if (!(await chargeLedger.claim(this.db, id, this.clock.now()))) {
      const c = await chargeLedger.find(this.db, actor, id);
      const why = !c ? 'not found' : c.billedAt ? `already sent (billable item ${c.billingRef})` : c.status !== 'approved' ? `not approved (${c.status})` : c.billingStatus === 'sending' ? 'being sent by another request' : `outcome of an earlier send unknown: ${c.billingError ?? ''}`;
      return { chargeId: id, outcome: 'skipped', message: why };
    }
    const charge = (await chargeLedger.find(this.db, actor, id))!;
    let result: SendResult;
    try {
      const email = charge.accountEmail?.trim().toLowerCase();
      if (!email) throw new WhmcsError('api', `account ${charge.accountUsername} has no contact email to find its WHMCS client by`, 'GetClients');
      let lookup = clientIds.get(email);
      if (!lookup) {
        lookup = this.clientFor(client, email);
        clientIds.set(email, lookup);
      }
      const clientId = await lookup;
      const currency = await client.clientCurrency(clientId);
      if (currency && currency !== charge.currency) throw new WhmcsError('api', `WHMCS client #${clientId} (${email}) is billed in ${currency}, this charge is in ${charge.currency}: not sent`, 'GetClientsDetails');
      const ref = await client.addBillableItem({
        clientId,
        description: `Anti-spam policy charge #${charge.id}: valid spam complaint #${charge.complaintId} (account ${charge.accountUsername})`,
        amount: formatAmount(charge.amountCents),
        invoiceAction: this.invoiceAction,
      });
      result = { chargeId: id, outcome: 'sent', ref };
    } catch (err) {
      if (!(err instanceof WhmcsError)) {
        // A bug or the database: leave the claim for an admin to settle rather than risk a second bill.
        await chargeLedger.settle(this.db, id, { status: 'unknown', error: `internal error during the send: ${String(err)}` }, this.clock.now()).catch(() => undefined);
        throw err;
      }
      // A failed lookup never reached AddBillableItem, so it is a plain failure whatever its kind.
      const unknown = !err.notApplied && err.action === 'AddBillableItem';
      result = { chargeId: id, outcome: unknown ? 'unknown' : 'failed', fatal: err.kind === 'auth' || err.kind === 'unreachable', message: unknown ? `${err.message}. WHMCS may have created the item: look for "Anti-spam policy charge #${id}" in WHMCS, then settle this charge.` : err.message };
      logger.warn('charge not billed', { chargeId: id, outcome: result.outcome, error: err.message });
    }
    const now = this.clock.now();
    await this.db.transaction(async (trx) => {
      await chargeLedger.settle(trx, id, result.outcome === 'sent' ? { status: 'sent', ref: result.ref! } : { status: result.outcome as 'failed' | 'unknown', error: result.message! }, now);
      await auditRepository.append(trx, { actorUserId: actor.userId, actorLogin: actor.login, action: 'charge.bill', subjectType: 'charge', subjectId: id, data: { outcome: result.outcome, billableId: result.ref ?? null, error: result.message ?? null, amountCents: charge.amountCents, currency: charge.currency }, ip }, now);
    });
    return result;
  }

  private async clientFor(client: WhmcsClient, email: string): Promise<number> {
    const found = await client.findClientsByEmail(email);
    if (found.length === 0) throw new WhmcsError('api', `no WHMCS client has the email ${email} (the account's contact email); add it in WHMCS or correct the contact email`, 'GetClients');
    if (found.length > 1) throw new WhmcsError('api', `${found.length} WHMCS clients have the email ${email} (#${found.map((c) => c.id).join(', #')}): not sent, bill it by hand`, 'GetClients');
    return found[0]!.id;
  }

  private mustBeAdmin(actor: Actor): void {
    if (actor.role !== 'admin') throw new ForbiddenError('Only administrators send charges to WHMCS.');
  }
}
