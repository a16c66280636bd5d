import type { Knex } from 'knex';
import { JobRunner } from '../jobs/jobRunner';
import type { Clock } from '../lib/clock';
import { PanelRegistry, type PanelRegistryOptions } from './panelRegistry';
import { ServerService } from './serverService';
import { AccountSyncService } from './sync/accountSync';

/** The panel side of the composition root, shared by the server (container.ts) and the CLI. */
export function buildPanelServices(input: { db: Knex; clock: Clock; dataDir: string; panel?: PanelRegistryOptions }) {
  const panels = new PanelRegistry(input.panel);
  const jobs = new JobRunner(input.db, input.clock);
  return {
    panels,
    jobs,
    servers: new ServerService(input.db, input.clock, input.dataDir, panels),
    accountSync: new AccountSyncService(input.db, input.clock, panels, jobs),
  };
}

export type PanelServices = ReturnType<typeof buildPanelServices>;
