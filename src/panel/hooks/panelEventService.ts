import type { Knex } from 'knex';
import { auditRepository } from '../../audit/auditRepository';
import { toDbTime } from '../../db/dialect';
import type { Clock } from '../../lib/clock';
import { logger } from '../../lib/logger';
import type { AccountSyncService } from '../sync/accountSync';
import { panelEventRepository, type PanelEventStatus } from './panelEventRepository';

interface HookEvent {
  context?: { category?: unknown; event?: unknown; stage?: unknown };
  data?: Record<string, unknown>;
}

/** Keys whose values are secrets in panel events (Accounts::Create `pass`, Email::add_pop `password`). */
const secretKey = /pass|secret|token/i;

function stripSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripSecrets);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, secretKey.test(k) ? '[removed]' : stripSecrets(v)]));
  }
  return value;
}

const statusChanges: Record<string, 'suspended' | 'active' | 'terminated'> = {
  'Accounts::suspendacct': 'suspended',
  'Accounts::unsuspendacct': 'active',
  'Accounts::Remove': 'terminated',
};

/**
 * What a panel hook tells us: suspensions and removals are applied to the account at once; new and
 * changed accounts start a sync (the scheduled sync stays the backstop); mailbox changes are recorded.
 * Nothing here calls the panel back, so an action taken in WHM never echoes.
 */
export class PanelEventService {
  constructor(
    private readonly db: Knex,
    private readonly clock: Clock,
    private readonly sync: AccountSyncService,
  ) {}

  async receive(body: unknown): Promise<{ id: number; status: PanelEventStatus; result: string }> {
    const event = (body ?? {}) as HookEvent;
    const category = String(event.context?.category ?? 'unknown').slice(0, 32);
    const name = String(event.context?.event ?? 'unknown').slice(0, 64);
    const data = event.data ?? {};
    const rawUser = data.user ?? data.username;
    const username = typeof rawUser === 'string' ? rawUser.toLowerCase().slice(0, 32) : null;
    const id = await panelEventRepository.insert(this.db, { category, event: name, username, payload: JSON.stringify(stripSecrets(body)) }, this.clock.now());
    const [status, result] = await this.apply(name, username);
    await panelEventRepository.finish(this.db, id, status, result);
    return { id, status, result };
  }

  private async apply(event: string, username: string | null): Promise<[PanelEventStatus, string]> {
    const newStatus = statusChanges[event];
    if (newStatus) {
      if (!username) return ['failed', 'the event names no user'];
      // Terminated accounts are gone from the panel: a late (hooks are not ordered) suspend or unsuspend
      // must not bring one back, and a username reused on another server must still match its live account.
      const matches = (await this.db('accounts as a')
        .join('servers as s', 's.id', 'a.server_id')
        .where('a.username', username)
        .where('s.status', 'active')
        .whereNot('a.status', 'terminated')
        .select('a.id')) as Array<{ id: number }>;
      if (matches.length !== 1) return ['unmatched', matches.length ? `${matches.length} servers have an account "${username}"; the next sync decides` : `no account "${username}" yet; the next sync adds it`];
      const now = this.clock.now();
      // Recorded as the panel's doing (actor "whm"), in the enforcement history and the audit log; never sent back.
      await this.db.transaction(async (trx) => {
        await trx('accounts').where('id', matches[0]!.id).update({ status: newStatus, updated_at: toDbTime(now) });
        await auditRepository.append(trx, { actorUserId: null, actorLogin: 'whm', action: `whm.${event.replace('Accounts::', '').toLowerCase()}`, subjectType: 'account', subjectId: matches[0]!.id, data: { username, status: newStatus, via: 'panel hook' } }, now);
      });
      return ['applied', `${username} is now ${newStatus}`];
    }
    if (event === 'Accounts::Create' || event === 'Accounts::Modify') {
      // Not awaited: the hook must answer at once; the sync records its own run.
      void this.sync.syncAll('hook').catch((err) => logger.warn('hook-triggered sync failed', { error: String(err) }));
      return ['sync_started', 'a sync of every server was started'];
    }
    return ['recorded', 'recorded'];
  }
}
