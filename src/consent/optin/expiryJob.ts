import type { HitRateLimiter } from '../../http/hitRateLimiter';
import type { JobResult, JobRunner } from '../../jobs/jobRunner';
import type { JobTrigger } from '../../jobs/jobRunRepository';
import type { OptInService } from './optInService';

/** Longest rate-limit window in use (a day) plus a margin: older hits count for nothing. */
const hitRetentionMinutes = 25 * 60;

/** The scheduled job: expire unconfirmed double opt-in requests and forget old rate-limit hits; one instance at a time (job lease). */
export function runOptInExpiry(deps: { jobs: JobRunner; optIn: OptInService; limiter: HitRateLimiter }, trigger: JobTrigger): Promise<JobResult> {
  return deps.jobs.run('optin-expiry', trigger, async () => ({
    counts: { expired: await deps.optIn.expireDue(), rateLimitHitsPruned: await deps.limiter.prune(hitRetentionMinutes) },
  }));
}
