import { toNumber, type Queryable } from '../db/dialect';
import { enqueueNotice } from '../notices/noticeQueue';
import { panelActionRepository, type PanelAction } from './panelActionRepository';
import { readEnforcementSettings } from './settingsStore';

/**
 * What a finished action sets off, in the transaction that records it as done: the customer hears
 * that the account was terminated or unsuspended, and a server suspension becomes one suspend_account
 * action per account on the server (each in the outbox, each applied once).
 */
export const followUps = {
  async afterDone(trx: Queryable, action: PanelAction, now: Date): Promise<void> {
    if (action.kind === 'terminate_account' && action.accountId !== null) {
      await enqueueNotice(trx, { key: `action:${action.id}:terminated`, kind: 'terminated', accountId: action.accountId, reason: action.reason, createdBy: action.requestedBy }, now);
    }
    if (action.kind === 'unsuspend_account' && action.accountId !== null) {
      await enqueueNotice(trx, { key: `action:${action.id}:unsuspended`, kind: 'unsuspended', accountId: action.accountId, reason: action.reason, createdBy: action.requestedBy }, now);
    }
    if (action.kind === 'suspend_server') {
      const { settings } = await readEnforcementSettings(trx);
      const accounts = (await trx('accounts').where('server_id', action.serverId).whereNot('status', 'terminated').select('id', 'username')) as Array<{ id: unknown; username: string }>;
      for (const a of accounts) {
        await panelActionRepository.enqueue(
          trx,
          { key: `action:${action.id}:suspend:${toNumber(a.id)}`, kind: 'suspend_account', serverId: action.serverId, accountId: toNumber(a.id), username: a.username, params: { disallowResellerUnsuspend: true }, reason: action.reason, origin: 'server_suspension', requestedBy: action.approvedBy ?? action.requestedBy, needsApproval: false, maxAttempts: settings.maxAttempts },
          now,
        );
      }
    }
    if ((action.kind === 'suspend_server' || action.kind === 'provider_command' || action.kind === 'provider_webhook')) {
      const owner = (await trx('servers').where('id', action.serverId).first('owner_account_id')) as { owner_account_id: unknown } | undefined;
      if (owner?.owner_account_id != null) {
        await enqueueNotice(trx, { key: `action:${action.id}:server_suspension`, kind: 'server_suspension', accountId: toNumber(owner.owner_account_id), reason: action.reason, createdBy: action.requestedBy }, now);
      }
    }
  },
};
