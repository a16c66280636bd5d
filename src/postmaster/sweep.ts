import type { Knex } from 'knex';
import type { JobResult, JobRunner } from '../jobs/jobRunner';
import type { JobTrigger } from '../jobs/jobRunRepository';
import type { PostmasterCheckService } from './checkService';
import { postmasterRepository, type CheckTarget } from './postmasterRepository';
import { readPostmasterSettings } from './settings';
import { verdicts } from './verdict';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A sweep over every domain in scope, as one recorded job run (the database lease makes one fire run
 * once across app instances). Servers are swept side by side, each starting after a random delay of
 * up to the jitter setting, so a fleet's mail servers are not all probed in the same second.
 */
export function runPostmasterSweep(deps: { db: Knex; jobs: JobRunner; checks: PostmasterCheckService; random?: () => number }, trigger: JobTrigger, opts: { jitter?: boolean } = {}): Promise<JobResult> {
  return deps.jobs.run('postmaster-sweep', trigger, async () => {
    const { settings } = await readPostmasterSettings(deps.db);
    const targets = await postmasterRepository.targets(deps.db, { scope: settings.scope });
    const byServer = new Map<number, CheckTarget[]>();
    for (const t of targets) byServer.set(t.serverId, [...(byServer.get(t.serverId) ?? []), t]);
    const random = deps.random ?? Math.random;
    // Accounts in random order within a server: a slow account does not always hold up the same customers.
    for (const list of byServer.values()) {
      for (let i = list.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [list[i], list[j]] = [list[j]!, list[i]!];
      }
    }
    const jitterMs = opts.jitter === false ? 0 : settings.jitterSeconds * 1000;
    const results = await Promise.all(
      [...byServer.values()].map(async (list) => {
        if (jitterMs) await sleep(Math.floor(random() * jitterMs));
        return deps.checks.checkTargets(list, 'sweep');
      }),
    );
    const counts: Record<string, number> = { domains: targets.length, servers: byServer.size };
    for (const v of verdicts) counts[v] = 0;
    for (const o of results.flat()) counts[o.verdict] = (counts[o.verdict] ?? 0) + 1;
    return { counts };
  });
}
