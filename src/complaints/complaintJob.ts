import type { JobResult, JobRunner } from '../jobs/jobRunner';
import type { JobTrigger } from '../jobs/jobRunRepository';
import type { CaseService } from './caseService';
import type { ComplaintService } from './complaintService';
import type { ComplaintIntakeService } from './intakeService';

/**
 * The complaints housekeeping job (every 15 minutes, one instance at a time): finish messages stored
 * but never processed (a crash between storing and parsing), apply evidence deadlines, and escalate
 * overdue cases to the admins.
 */
export function runComplaintHousekeeping(deps: { jobs: JobRunner; complaints: ComplaintService; complaintIntake: ComplaintIntakeService; cases: CaseService }, trigger: JobTrigger): Promise<JobResult> {
  return deps.jobs.run('complaints-housekeeping', trigger, async () => {
    const processed = await deps.complaintIntake.processPending();
    const evidence = await deps.complaints.expireEvidence();
    const escalated = await deps.cases.escalateOverdue();
    return { counts: { processed, becameValid: evidence.valid, toReview: evidence.review, escalated } };
  });
}
