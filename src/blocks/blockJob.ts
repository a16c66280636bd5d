import type { JobResult, JobRunner } from '../jobs/jobRunner';
import type { JobTrigger } from '../jobs/jobRunRepository';
import type { BlockService } from './blockService';

/**
 * The IP block job (every 5 minutes by default, BLOCK_SYNC_SCHEDULE; one instance at a time through
 * the job lease, each run recorded): expire blocks past their end and take them off the firewall,
 * then retry every firewall change that failed or was left pending.
 */
export function runBlockMaintenance(deps: { jobs: JobRunner; blocks: BlockService }, trigger: JobTrigger): Promise<JobResult> {
  return deps.jobs.run('ip-blocks', trigger, async () => {
    const expired = await deps.blocks.expireDue();
    const { synced, failed } = await deps.blocks.retrySync();
    return { counts: { expired, synced, failed }, error: failed ? `${failed} firewall change${failed === 1 ? '' : 's'} failed; see Admin → IP blocks (sync failed)` : null };
  });
}
