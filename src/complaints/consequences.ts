import { chargeRepository } from '../charges/chargeRepository';
import type { Queryable } from '../db/dialect';
import { applyLadderToStrikes, type NewStrike } from '../enforcement/ladderActions';
import { strikeRepository } from '../strikes/strikeRepository';

export interface ChargePolicy {
  amountCents: number;
  currency: string;
}

export interface ValidComplaint {
  complaintId: number;
  accountId: number;
  resellerAccountId: number | null;
  reason: string;
}

/**
 * What a valid complaint brings, written in the deciding transaction: one strike, which runs the
 * enforcement ladder (actions and notices queued in the same transaction), and one proposed charge
 * (both at most once per complaint). Overturning the decision lifts
 * the strike and waives a charge that was not billed yet.
 */
export const consequences = {
  async valid(trx: Queryable, c: ValidComplaint, policy: ChargePolicy, now: Date): Promise<void> {
    await this.validMany(trx, [c], policy, now);
  },

  /** `valid` for complaints decided together (in order): a batch of intake costs a few statements, not a few per complaint. */
  async validMany(trx: Queryable, complaints: readonly ValidComplaint[], policy: ChargePolicy, now: Date): Promise<void> {
    if (!complaints.length) return;
    const strikeIds = await strikeRepository.addMany(trx, complaints.map((c) => ({ accountId: c.accountId, source: 'complaint', complaintId: c.complaintId, reason: c.reason })), now);
    const strikes: NewStrike[] = complaints.flatMap((c, i) => (strikeIds[i] == null ? [] : [{ strikeId: strikeIds[i]!, accountId: c.accountId, reason: `Valid spam complaint #${c.complaintId}: ${c.reason}` }]));
    await applyLadderToStrikes(trx, strikes, now);
    await chargeRepository.proposeMany(trx, complaints.map((c) => ({ complaintId: c.complaintId, accountId: c.accountId, resellerAccountId: c.resellerAccountId, amountCents: policy.amountCents, currency: policy.currency })), now);
  },

  async overturned(trx: Queryable, complaintId: number, reason: string, now: Date): Promise<void> {
    await strikeRepository.liftForComplaint(trx, complaintId, reason, now);
    await chargeRepository.withdraw(trx, complaintId, reason, now);
  },
};
