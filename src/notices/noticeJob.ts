import type { JobResult, JobRunner } from '../jobs/jobRunner';
import type { JobTrigger } from '../jobs/jobRunRepository';
import type { NoticeSender } from './noticeSender';

/**
 * The notice delivery job (every minute, one instance at a time): sends the notices decisions left
 * pending, and the retries that came due. Decisions may also call sender.sendDue() right after they
 * commit; the per-notice lease keeps the two from sending one notice twice.
 */
export function runNoticeDelivery(deps: { jobs: JobRunner; sender: NoticeSender }, trigger: JobTrigger): Promise<JobResult> {
  return deps.jobs.run('notice-delivery', trigger, async () => {
    const report = await deps.sender.sendDue();
    return { counts: { ...report } };
  });
}
