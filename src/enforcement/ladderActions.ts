import { auditRepository } from '../audit/auditRepository';
import { numberOrNull, toDbTime, toNumber, type Queryable } from '../db/dialect';
import { enqueueNotice } from '../notices/noticeQueue';
import { strikeRepository } from '../strikes/strikeRepository';
import { decideLadder } from './ladder';
import { panelActionRepository } from './panelActionRepository';
import { dedicatedServerOf, proposeServerSuspension } from './serverSuspension';
import { readEnforcementSettings } from './settingsStore';

const ladderActor = 'policy-ladder';
const dayMs = 86_400_000;

export interface NewStrike {
  strikeId: number;
  accountId: number;
  reason: string;
}

const nextSteps = {
  warning: 'Outgoing mail from the account is suspended. Remove the cause, reply to this notice with what you changed, and we will review the suspension. Another valid complaint leads to termination.',
  termination_pending: 'A second violation leads to termination of the account. Outgoing mail is suspended now; the termination waits for review by our abuse team. Reply now if you dispute the complaints.',
} as const;

/**
 * Runs the policy ladder for a strike just recorded, in the same transaction: panel actions go to the
 * outbox (executed after commit by the worker), notices are queued, the reseller is warned when its
 * customers cross the threshold, and a dedicated server's suspension is proposed when its owner keeps
 * collecting strikes. Nothing here calls the panel or sends mail.
 */
export async function applyLadder(trx: Queryable, strike: NewStrike, now: Date): Promise<void> {
  const { settings } = await readEnforcementSettings(trx);
  const account = (await trx('accounts').where('id', strike.accountId).first('id', 'server_id', 'username', 'status', 'owner_account_id')) as Record<string, unknown> | undefined;
  if (!account || account.status === 'terminated') return;
  const since = new Date(now.getTime() - settings.strikeWindowDays * dayMs);
  const strikes = await strikeRepository.activeSince(trx, strike.accountId, since);
  const decision = decideLadder({ strikes, settings });
  const reason = `${strike.reason} (strike ${strikes}; the policy terminates at ${settings.terminateAt})`;
  const actionIds: number[] = [];
  for (const step of decision.steps) {
    const { id } = await panelActionRepository.enqueue(
      trx,
      { key: `strike:${strike.strikeId}:${step.kind}`, kind: step.kind, serverId: toNumber(account.server_id), accountId: strike.accountId, username: String(account.username), params: step.kind === 'suspend_account' ? { disallowResellerUnsuspend: settings.lockSuspensions } : {}, reason, origin: 'ladder', strikeId: strike.strikeId, requestedBy: ladderActor, needsApproval: step.needsApproval, maxAttempts: settings.maxAttempts },
      now,
    );
    actionIds.push(id);
  }
  if (decision.notice) {
    const complaintIds = (await trx('strikes').where('account_id', strike.accountId).whereNull('lifted_at').where('created_at', '>=', toDbTime(since)).whereNotNull('complaint_id').pluck('complaint_id')).map(toNumber);
    await enqueueNotice(trx, { key: `strike:${strike.strikeId}:${decision.notice}`, kind: decision.notice, accountId: strike.accountId, reason: strike.reason, complaintIds, nextStep: nextSteps[decision.notice], createdBy: ladderActor }, now);
  }
  await auditRepository.append(trx, { actorUserId: null, actorLogin: ladderActor, action: 'enforcement.ladder', subjectType: 'account', subjectId: strike.accountId, data: { strikeId: strike.strikeId, strikes, rung: decision.rung, explanation: decision.explanation, actionIds, notice: decision.notice } }, now);

  const ownerId = numberOrNull(account.owner_account_id);
  if (ownerId !== null && settings.resellerWarnAt > 0) {
    const underReseller = await strikeRepository.activeUnderResellerSince(trx, ownerId, new Date(now.getTime() - settings.resellerWindowDays * dayMs));
    // Warned when the count reaches the threshold, not again for every strike after it.
    if (underReseller === settings.resellerWarnAt) {
      await enqueueNotice(
        trx,
        { key: `reseller:${ownerId}:strike:${strike.strikeId}`, kind: 'reseller_warning', accountId: ownerId, reason: `Your customers collected ${underReseller} strikes within ${settings.resellerWindowDays} days (latest: ${String(account.username)}: ${strike.reason})`, nextStep: 'Investigate the complaints about your customers now, as the policy requires, and tell us what you have done.', createdBy: ladderActor },
        now,
      );
    }
  }

  if (settings.serverSuspendAt > 0 && strikes >= settings.serverSuspendAt) {
    const serverId = await dedicatedServerOf(trx, strike.accountId);
    if (serverId !== null) {
      await proposeServerSuspension(trx, { serverId, reason: `The owner of this dedicated server, ${String(account.username)}, has ${strikes} strikes (threshold ${settings.serverSuspendAt}): ${strike.reason}`, requestedBy: ladderActor, origin: 'ladder', key: `server:${serverId}:strike:${strike.strikeId}` }, settings, now);
    }
  }
}
