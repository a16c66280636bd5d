import crypto from 'node:crypto';
import os from 'node:os';
import type { Knex } from 'knex';
import type { Clock } from '../lib/clock';
import { logger } from '../lib/logger';
import { jobRunRepository, type JobRun, type JobTrigger } from './jobRunRepository';

export interface JobOutcome {
  counts: Record<string, number>;
  /** Set when the job finished but part of it failed (e.g. one of several servers). */
  error?: string | null;
}

export type JobResult = { ran: true; run: JobRun } | { ran: false; reason: 'busy' };

/** Width of job_leases.job. */
const leaseNameMax = 64;

/**
 * The lease name of a job and subject: "job:subject", or, when that does not fit the column (a server
 * name may have 191 characters), a readable prefix plus a hash of the whole name.
 */
export function leaseNameOf(job: string, subject: string | null): string {
  const name = subject ? `${job}:${subject}` : job;
  if (name.length <= leaseNameMax) return name;
  const hash = crypto.createHash('sha256').update(name).digest('hex').slice(0, 32);
  return `${name.slice(0, leaseNameMax - hash.length - 1)}#${hash}`;
}

/**
 * Runs a job at most once at a time across all app instances (a database lease), and records every
 * run with its counts and error. A run that throws is recorded as failed and rethrown.
 */
export class JobRunner {
  readonly holder = `${os.hostname()}:${process.pid}:${crypto.randomBytes(3).toString('hex')}`;

  constructor(
    private readonly db: Knex,
    private readonly clock: Clock,
    private readonly leaseMs = 15 * 60_000,
  ) {}

  async run(job: string, trigger: JobTrigger, fn: () => Promise<JobOutcome>, subject: string | null = null): Promise<JobResult> {
    const leaseName = leaseNameOf(job, subject);
    if (!(await jobRunRepository.tryAcquire(this.db, leaseName, this.holder, this.clock.now(), this.leaseMs))) return { ran: false, reason: 'busy' };
    let id: number;
    try {
      id = await jobRunRepository.start(this.db, { job, subject, trigger }, this.clock.now());
    } catch (err) {
      // Without a run row there is nothing to finish, but the lease must not stay taken until it expires.
      await jobRunRepository.release(this.db, leaseName, this.holder);
      throw err;
    }
    try {
      const outcome = await fn();
      await jobRunRepository.finish(this.db, id, { status: outcome.error ? 'failed' : 'ok', counts: outcome.counts, error: outcome.error ?? null }, this.clock.now());
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      await jobRunRepository.finish(this.db, id, { status: 'failed', counts: null, error: message }, this.clock.now());
      logger.warn('job failed', { job, subject, error: message });
      throw err;
    } finally {
      await jobRunRepository.release(this.db, leaseName, this.holder);
    }
    return { ran: true, run: (await jobRunRepository.findById(this.db, id))! };
  }

  recent(limit = 50, job?: string): Promise<JobRun[]> {
    return jobRunRepository.recent(this.db, limit, job);
  }
}
