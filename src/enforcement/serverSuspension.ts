import { toNumber, type Queryable } from '../db/dialect';
import type { ServerActionKind } from './actionKinds';
import { panelActionRepository } from './panelActionRepository';
import type { EnforcementSettings } from './settings';

const kindOfMode: Record<EnforcementSettings['serverSuspensionMode'], ServerActionKind> = {
  suspend_accounts: 'suspend_server',
  command: 'provider_command',
  webhook: 'provider_webhook',
};

/**
 * Proposes suspending a whole (dedicated) server. It always waits for an admin's approval: it takes
 * every site on the machine offline. At most one proposal is open per server at a time.
 * Returns the action id, or null when one is already open.
 */
export async function proposeServerSuspension(
  trx: Queryable,
  input: { serverId: number; reason: string; requestedBy: string; origin: 'ladder' | 'admin'; key: string },
  settings: EnforcementSettings,
  now: Date,
): Promise<number | null> {
  const kinds = Object.values(kindOfMode);
  const open = await trx('panel_actions').where('server_id', input.serverId).whereIn('kind', kinds).whereIn('status', ['awaiting_approval', 'pending', 'running']).first('id');
  if (open) return null;
  const { id, created } = await panelActionRepository.enqueue(
    trx,
    { key: input.key, kind: kindOfMode[settings.serverSuspensionMode], serverId: input.serverId, accountId: null, username: null, reason: input.reason, origin: input.origin === 'ladder' ? 'server_suspension' : 'admin', requestedBy: input.requestedBy, needsApproval: true, maxAttempts: settings.maxAttempts },
    now,
  );
  return created ? id : null;
}

/** The dedicated server an account owns (servers.owner_account_id), if any. */
export async function dedicatedServerOf(trx: Queryable, accountId: number): Promise<number | null> {
  const row = (await trx('servers').where('owner_account_id', accountId).where('kind', 'dedicated').where('status', 'active').first('id')) as { id: unknown } | undefined;
  return row ? toNumber(row.id) : null;
}
