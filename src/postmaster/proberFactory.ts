import type { Knex } from 'knex';
import type { AppConfig } from '../config/schema';
import type { Clock } from '../lib/clock';
import type { DomainProber } from './checkService';
import { ProbeService } from './probe/probeService';
import type { PostmasterSettings } from './settings';

export type ProberFor = (settings: PostmasterSettings) => DomainProber | null;

/**
 * The SMTP prober for the settings in force: connection facts come from the configuration (port,
 * EHLO name, source address, DNS servers), limits and cache times from the admin's settings. One
 * prober per distinct settings, so its MX cache and host locks are shared by every check meanwhile.
 */
export function proberFactory(deps: { db: Knex; clock: Clock }, config: AppConfig['postmaster']): ProberFor {
  if (!config.probe) return () => null;
  let cached: { key: string; prober: ProbeService } | null = null;
  return (settings) => {
    const key = `${settings.probeConcurrency}:${settings.positiveCacheHours}:${settings.negativeCacheHours}`;
    if (cached?.key !== key) {
      cached = {
        key,
        prober: new ProbeService(deps, {
          port: config.probePort,
          heloName: config.heloName,
          localAddress: config.probeSource,
          dnsServers: config.dnsServers,
          globalConcurrency: settings.probeConcurrency,
          positiveTtlMs: settings.positiveCacheHours * 3600_000,
          negativeTtlMs: settings.negativeCacheHours * 3600_000,
        }),
      };
    }
    return cached.prober;
  };
}
