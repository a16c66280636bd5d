import type { Knex } from 'knex';
import type { Clock } from '../lib/clock';
import { logger } from '../lib/logger';
import { blockRepository } from './blockRepository';
import { FirewallError, type FirewallAdapter } from './firewall';
import { blockReasonLabels, minTtlSeconds, type IpBlock, type SyncState } from './types';

export interface SyncOutcome {
  state: SyncState;
  error: string | null;
  /** The firewall could not be run at all (see FirewallError.unavailable). */
  unavailable?: boolean;
}

/** The comment the firewall keeps with the block, so an admin reading csf.deny knows where it came from. */
export function firewallComment(block: IpBlock): string {
  return `#${block.id} ${blockReasonLabels[block.reason]}${block.reasonText ? `: ${block.reasonText}` : ''}`;
}

/**
 * Brings the firewall in line with a block after its change was committed: applies an active block,
 * removes an expired or lifted one, and records the outcome (synced, or failed with the firewall's
 * output). Without a firewall (FIREWALL=none) nothing runs and blocks stay `not_configured`.
 * Every step is idempotent (csf answers "already blocked" / "not found"), so a retry after a crash
 * or a race with the job does no harm.
 */
export class BlockSync {
  constructor(
    private readonly db: Knex,
    private readonly clock: Clock,
    readonly firewall: FirewallAdapter | null,
  ) {}

  get configured(): boolean {
    return this.firewall !== null;
  }

  /** The sync state a change starts in. */
  get initialState(): SyncState {
    return this.firewall ? 'pending' : 'not_configured';
  }

  async apply(block: IpBlock): Promise<SyncOutcome> {
    if (!this.firewall) return { state: block.syncState, error: block.syncError };
    const now = this.clock.now();
    const snapshot = { id: block.id, status: block.status, expiresAt: block.expiresAt };
    let outcome: SyncOutcome;
    try {
      if (block.status === 'active') {
        if (block.expiresAt && block.expiresAt.getTime() <= now.getTime()) {
          // Already past its end: the expiry job removes it; applying it now would block for the minimum TTL.
          return { state: block.syncState, error: block.syncError };
        }
        const expiry = block.expiresAt
          ? { permanent: false as const, ttlSeconds: Math.max(minTtlSeconds, Math.ceil((block.expiresAt.getTime() - now.getTime()) / 1000)) }
          : { permanent: true as const };
        await this.firewall.block({ address: block.address, expiry, comment: firewallComment(block) });
      } else {
        await this.firewall.unblock({ address: block.address, permanent: block.expiresAt === null });
      }
      outcome = { state: 'synced', error: null };
    } catch (err) {
      const message = err instanceof FirewallError ? [err.message, err.output && !err.message.includes(err.output) ? err.output : ''].filter(Boolean).join('\n') : `unexpected error: ${err instanceof Error ? err.message : String(err)}`;
      if (!(err instanceof FirewallError)) logger.warn('firewall sync failed unexpectedly', { block: block.id, error: String(err) });
      outcome = { state: 'failed', error: message };
      await blockRepository.recordSync(this.db, snapshot, outcome, this.clock.now());
      return { ...outcome, unavailable: !(err instanceof FirewallError) || err.unavailable };
    }
    await blockRepository.recordSync(this.db, snapshot, outcome, this.clock.now());
    return outcome;
  }

  /**
   * Retries what is behind (pending, failed, and active blocks recorded before a firewall was
   * configured). A firewall that cannot be run `giveUpAfter` times in a row is left alone until the
   * next run: with a hanging csf, hundreds of 30-second timeouts would outlast the job's lease.
   * (A refusal of one address does not count: it says nothing about the next.)
   */
  async retry(limit = 200, giveUpAfter = 3): Promise<{ synced: number; failed: number }> {
    if (!this.firewall) return { synced: 0, failed: 0 };
    let synced = 0;
    let failed = 0;
    let inARow = 0;
    for (const block of await blockRepository.needingSync(this.db, true, limit)) {
      if (inARow >= giveUpAfter) break;
      const outcome = await this.apply(block);
      if (outcome.state === 'synced') synced++;
      else if (outcome.state === 'failed') failed++;
      inARow = outcome.unavailable ? inARow + 1 : 0;
    }
    return { synced, failed };
  }
}
