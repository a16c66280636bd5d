import type { Knex } from 'knex';
import type { AppConfig } from '../config/schema';
import type { Clock } from '../lib/clock';
import { BlockService } from './blockService';
import { BlockSync } from './blockSync';
import { CsfFirewall } from './csfFirewall';
import { CsfRunner } from './csfRunner';
import type { FirewallAdapter } from './firewall';

/** The firewall FIREWALL names: CSF through its command, or none (blocks are recorded only). */
export function firewallFrom(config: AppConfig['blocks']): FirewallAdapter | null {
  return config.firewall === 'csf' ? new CsfFirewall(new CsfRunner(config.csfPath), config.csfConf) : null;
}

/** The block list as the server and the CLI build it (same settings, same firewall). */
export function buildBlockService(deps: { db: Knex; clock: Clock; config: AppConfig['blocks']; firewall?: FirewallAdapter | null }): BlockService {
  const firewall = deps.firewall === undefined ? firewallFrom(deps.config) : deps.firewall;
  return new BlockService(deps.db, deps.clock, new BlockSync(deps.db, deps.clock, firewall), { repeatCount: deps.config.repeatCount, repeatHours: deps.config.repeatHours });
}
