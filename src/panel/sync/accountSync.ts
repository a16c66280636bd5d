import type { Knex } from 'knex';
import type { JobRunner } from '../../jobs/jobRunner';
import type { JobTrigger } from '../../jobs/jobRunRepository';
import type { Clock } from '../../lib/clock';
import { NotFoundError } from '../../lib/errors';
import { serverRepository } from '../../tenancy/serverRepository';
import type { Server } from '../../tenancy/types';
import type { PanelRegistry } from '../panelRegistry';
import { reconcileServer, type SyncCounts } from './reconcile';

export const accountSyncJob = 'account-sync';

export type ServerSyncResult =
  | { server: string; status: 'ok'; counts: SyncCounts }
  | { server: string; status: 'failed'; error: string }
  | { server: string; status: 'busy' };

/**
 * Reads each server's resellers, accounts and domains (three panel calls, whatever the number of
 * accounts) and reconciles them into the database in one transaction per server. Each server's run
 * is recorded; a failing server does not stop the others.
 */
export class AccountSyncService {
  constructor(
    private readonly db: Knex,
    private readonly clock: Clock,
    private readonly panels: PanelRegistry,
    private readonly jobs: JobRunner,
  ) {}

  async syncServer(server: Server, trigger: JobTrigger): Promise<ServerSyncResult> {
    try {
      const result = await this.jobs.run(
        accountSyncJob,
        trigger,
        async () => {
          const adapter = this.panels.adapterFor(server);
          const [resellers, accounts, domains] = await Promise.all([adapter.listResellers(), adapter.listAccounts(), adapter.listDomains()]);
          const counts = await this.db.transaction((trx) => reconcileServer(trx, server.id, { resellers, accounts, domains }, this.clock.now()));
          await serverRepository.recordSync(this.db, server.id, { at: this.clock.now(), status: 'ok', error: null });
          return { counts: { ...counts } };
        },
        server.name,
      );
      if (!result.ran) return { server: server.name, status: 'busy' };
      return { server: server.name, status: 'ok', counts: result.run.counts as unknown as SyncCounts };
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      await serverRepository.recordSync(this.db, server.id, { at: this.clock.now(), status: 'failed', error });
      return { server: server.name, status: 'failed', error };
    }
  }

  /** Every active server (or the one named), servers in parallel. */
  async syncAll(trigger: JobTrigger, name?: string): Promise<ServerSyncResult[]> {
    const servers = (await serverRepository.list(this.db)).filter((s) => s.status === 'active');
    const chosen = name ? servers.filter((s) => s.name === name.toLowerCase()) : servers;
    if (name && !chosen.length) throw new NotFoundError(`Active server "${name}"`);
    return Promise.all(chosen.map((s) => this.syncServer(s, trigger)));
  }
}
