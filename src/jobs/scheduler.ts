import cron from 'node-cron';
import { logger } from '../lib/logger';

export interface ScheduledJob {
  name: string;
  schedule: string;
  run(): Promise<unknown>;
}

/** node-cron with overlap prevention in this process; the JobRunner's database lease covers other instances. */
export function startScheduler(jobs: ScheduledJob[]): { stop(): void } {
  const tasks = jobs.map((job) => {
    if (!cron.validate(job.schedule)) throw new Error(`The schedule of ${job.name} is not a valid cron expression: "${job.schedule}"`);
    let running = false;
    return cron.schedule(job.schedule, async () => {
      if (running) return;
      running = true;
      try {
        await job.run();
      } catch (err) {
        logger.warn('scheduled job failed', { job: job.name, error: String(err) });
      } finally {
        running = false;
      }
    });
  });
  return { stop: () => tasks.forEach((t) => void t.stop()) };
}
