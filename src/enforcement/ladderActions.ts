import { auditRepository } from '../audit/auditRepository';
import { numberOrNull, toDbTime, toNumber, type Queryable } from '../db/dialect';
import { enqueueNotice } from '../notices/noticeQueue';
import { strikeRepository } from '../strikes/strikeRepository';
import { decideLadder } from './ladder';
import { panelActionRepository } from './panelActionRepository';
import { dedicatedServerOf, proposeServerSuspension } from './serverSuspension';
import type { EnforcementSettings } from './settings';
import { readEnforcementSettings } from './settingsStore';

const ladderActor = 'policy-ladder';
const dayMs = 86_400_000;

export interface NewStrike {
  strikeId: number;
  accountId: number;
  reason: string;
}

interface LadderAccount {
  id: number;
  serverId: number;
  username: string;
  status: string;
  ownerAccountId: number | null;
}

const nextSteps = {
  warning: 'Outgoing mail from the account is suspended. Remove the cause, reply to this notice with what you changed, and we will review the suspension. Another valid complaint leads to termination.',
  termination_pending: 'A second violation leads to termination of the account. Outgoing mail is suspended now; the termination waits for review by our abuse team. Reply now if you dispute the complaints.',
} as const;

/** Runs the policy ladder for one strike just recorded (see applyLadderToStrikes). */
export async function applyLadder(trx: Queryable, strike: NewStrike, now: Date): Promise<void> {
  await applyLadderToStrikes(trx, [strike], now);
}

/**
 * Runs the policy ladder for strikes just recorded (in order), in the same transaction: panel actions
 * go to the outbox (executed after commit by the worker), notices are queued, the reseller is warned
 * when its customers reach the threshold, and a dedicated server's suspension is proposed when its owner
 * keeps collecting strikes. Nothing here calls the panel or sends mail.
 *
 * The ladder acts when a strike moves the account to a higher rung. Further strikes on the same rung
 * are recorded and counted but queue nothing again: a spam run brings hundreds of complaints about one
 * account within minutes, and its owner should get one termination notice, not hundreds.
 * Counts are read once after the strikes were recorded, so the n-th of m new strikes of an account
 * sees the count it had when it was added.
 */
export async function applyLadderToStrikes(trx: Queryable, strikes: readonly NewStrike[], now: Date): Promise<void> {
  if (!strikes.length) return;
  const { settings } = await readEnforcementSettings(trx);
  const accounts = await ladderAccounts(trx, strikes.map((s) => s.accountId));
  const live = strikes.filter((s) => accounts.get(s.accountId) && accounts.get(s.accountId)!.status !== 'terminated');
  if (!live.length) return;

  const accountCounts = await countsBefore(live.map((s) => s.accountId), (ids) => strikeRepository.activeSinceMany(trx, ids, new Date(now.getTime() - settings.strikeWindowDays * dayMs)));
  const resellerOf = (s: NewStrike) => accounts.get(s.accountId)!.ownerAccountId;
  const resellerCounts =
    settings.resellerWarnAt > 0
      ? await countsBefore(
          live.flatMap((s) => (resellerOf(s) === null ? [] : [resellerOf(s)!])),
          (ids) => strikeRepository.activeUnderResellersSince(trx, ids, new Date(now.getTime() - settings.resellerWindowDays * dayMs)),
        )
      : null;
  const serversProposed = new Set<number>();

  for (const strike of live) {
    const account = accounts.get(strike.accountId)!;
    const count = accountCounts.next(strike.accountId);
    await climbLadder(trx, strike, account, count, settings, now);

    const ownerId = account.ownerAccountId;
    if (resellerCounts && ownerId !== null) {
      // Warned when the count reaches the threshold, not again for every strike after it.
      const underReseller = resellerCounts.next(ownerId);
      if (underReseller === settings.resellerWarnAt) await warnReseller(trx, ownerId, underReseller, account, strike, settings, now);
    }

    if (settings.serverSuspendAt > 0 && count >= settings.serverSuspendAt) {
      const serverId = await dedicatedServerOf(trx, strike.accountId);
      if (serverId !== null && !serversProposed.has(serverId)) {
        serversProposed.add(serverId);
        await proposeServerSuspension(
          trx,
          { serverId, reason: `The owner of this dedicated server, ${account.username}, has ${count} strikes (threshold ${settings.serverSuspendAt}): ${strike.reason}`, requestedBy: ladderActor, origin: 'ladder', key: `server:${serverId}:strike:${strike.strikeId}` },
          settings,
          now,
        );
      }
    }
  }
}

/** The rung for `count` strikes, acted on only when it is higher than the rung of the count before. */
async function climbLadder(trx: Queryable, strike: NewStrike, account: LadderAccount, count: number, settings: EnforcementSettings, now: Date): Promise<void> {
  const decision = decideLadder({ strikes: count, settings });
  if (decision.rung === 'none' || decision.rung === decideLadder({ strikes: count - 1, settings }).rung) return;
  const reason = `${strike.reason} (strike ${count}; the policy terminates at ${settings.terminateAt})`;
  const actionIds: number[] = [];
  for (const step of decision.steps) {
    const { id } = await panelActionRepository.enqueue(
      trx,
      { key: `strike:${strike.strikeId}:${step.kind}`, kind: step.kind, serverId: account.serverId, accountId: account.id, username: account.username, params: step.kind === 'suspend_account' ? { disallowResellerUnsuspend: settings.lockSuspensions } : {}, reason, origin: 'ladder', strikeId: strike.strikeId, requestedBy: ladderActor, needsApproval: step.needsApproval, maxAttempts: settings.maxAttempts },
      now,
    );
    actionIds.push(id);
  }
  if (decision.notice) {
    const since = new Date(now.getTime() - settings.strikeWindowDays * dayMs);
    const complaintIds = (await trx('strikes').where('account_id', account.id).whereNull('lifted_at').where('created_at', '>=', toDbTime(since)).whereNotNull('complaint_id').pluck('complaint_id')).map(toNumber);
    await enqueueNotice(trx, { key: `strike:${strike.strikeId}:${decision.notice}`, kind: decision.notice, accountId: account.id, reason: strike.reason, complaintIds, nextStep: nextSteps[decision.notice], createdBy: ladderActor }, now);
  }
  await auditRepository.append(trx, { actorUserId: null, actorLogin: ladderActor, action: 'enforcement.ladder', subjectType: 'account', subjectId: account.id, data: { strikeId: strike.strikeId, strikes: count, rung: decision.rung, explanation: decision.explanation, actionIds, notice: decision.notice } }, now);
}

async function warnReseller(trx: Queryable, ownerId: number, underReseller: number, account: LadderAccount, strike: NewStrike, settings: EnforcementSettings, now: Date): Promise<void> {
  await enqueueNotice(
    trx,
    { key: `reseller:${ownerId}:strike:${strike.strikeId}`, kind: 'reseller_warning', accountId: ownerId, reason: `Your customers collected ${underReseller} strikes within ${settings.resellerWindowDays} days (latest: ${account.username}: ${strike.reason})`, nextStep: 'Investigate the complaints about your customers now, as the policy requires, and tell us what you have done.', createdBy: ladderActor },
    now,
  );
}

async function ladderAccounts(trx: Queryable, ids: number[]): Promise<Map<number, LadderAccount>> {
  const rows = (await trx('accounts').whereIn('id', [...new Set(ids)]).select('id', 'server_id', 'username', 'status', 'owner_account_id')) as Array<Record<string, unknown>>;
  return new Map(rows.map((r) => [toNumber(r.id), { id: toNumber(r.id), serverId: toNumber(r.server_id), username: String(r.username), status: String(r.status), ownerAccountId: numberOrNull(r.owner_account_id) }]));
}

/**
 * Running counts per key for strikes recorded in one go: `read` gives the counts after all of them;
 * `next(key)` walks from the count before the first new one up, one strike at a time.
 */
async function countsBefore(keys: number[], read: (ids: number[]) => Promise<Map<number, number>>): Promise<{ next(key: number): number }> {
  const added = new Map<number, number>();
  for (const key of keys) added.set(key, (added.get(key) ?? 0) + 1);
  const after = await read([...added.keys()]);
  const running = new Map([...added].map(([key, n]) => [key, (after.get(key) ?? 0) - n]));
  return {
    next(key: number) {
      const value = running.get(key)! + 1;
      running.set(key, value);
      return value;
    },
  };
}
