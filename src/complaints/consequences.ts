import { chargeRepository } from '../charges/chargeRepository';
import type { Queryable } from '../db/dialect';
import { applyLadder } from '../enforcement/ladderActions';
import { strikeRepository } from '../strikes/strikeRepository';

export interface ChargePolicy {
  amountCents: number;
  currency: string;
}

/**
 * What a valid complaint brings, written in the deciding transaction: one strike, which runs the
 * enforcement ladder (actions and notices queued in the same transaction), and one proposed charge
 * (both at most once per complaint). Overturning the decision lifts
 * the strike and waives a charge that was not billed yet.
 */
export const consequences = {
  async valid(trx: Queryable, c: { complaintId: number; accountId: number; resellerAccountId: number | null; reason: string }, policy: ChargePolicy, now: Date): Promise<void> {
    const strikeId = await strikeRepository.add(trx, { accountId: c.accountId, source: 'complaint', complaintId: c.complaintId, reason: c.reason }, now);
    if (strikeId !== null) await applyLadder(trx, { strikeId, accountId: c.accountId, reason: `Valid spam complaint #${c.complaintId}: ${c.reason}` }, now);
    await chargeRepository.propose(trx, { complaintId: c.complaintId, accountId: c.accountId, resellerAccountId: c.resellerAccountId, amountCents: policy.amountCents, currency: policy.currency }, now);
  },

  async overturned(trx: Queryable, complaintId: number, reason: string, now: Date): Promise<void> {
    await strikeRepository.liftForComplaint(trx, complaintId, reason, now);
    await chargeRepository.withdraw(trx, complaintId, reason, now);
  },
};
