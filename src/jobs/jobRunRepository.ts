import { fromDbJson, fromDbTime, fromDbTimeOrNull, insertedId, isUniqueViolation, toDbJson, toDbTime, toNumber, type Queryable } from '../db/dialect';

export type JobTrigger = 'schedule' | 'manual' | 'startup' | 'hook';
export type JobStatus = 'running' | 'ok' | 'failed';

export interface JobRun {
  id: number;
  job: string;
  subject: string | null;
  trigger: JobTrigger;
  startedAt: Date;
  finishedAt: Date | null;
  status: JobStatus;
  counts: Record<string, number> | null;
  error: string | null;
}

function mapRun(row: Record<string, unknown>): JobRun {
  return {
    id: toNumber(row.id),
    job: String(row.job),
    subject: (row.subject as string | null) ?? null,
    trigger: row.trigger as JobTrigger,
    startedAt: fromDbTime(row.started_at),
    finishedAt: fromDbTimeOrNull(row.finished_at),
    status: row.status as JobStatus,
    counts: fromDbJson<Record<string, number>>(row.counts),
    error: (row.error as string | null) ?? null,
  };
}

/** Job runs (history) and job leases (one runner at a time across every app instance). */
export const jobRunRepository = {
  async start(db: Queryable, input: { job: string; subject: string | null; trigger: JobTrigger }, now: Date): Promise<number> {
    return insertedId(await db('job_runs').insert({ ...input, started_at: toDbTime(now), status: 'running' }));
  },

  async finish(db: Queryable, id: number, result: { status: 'ok' | 'failed'; counts: Record<string, number> | null; error: string | null }, now: Date): Promise<void> {
    await db('job_runs').where({ id }).update({ status: result.status, counts: toDbJson(result.counts), error: result.error, finished_at: toDbTime(now) });
  },

  async findById(db: Queryable, id: number): Promise<JobRun | null> {
    const row = await db('job_runs').where({ id }).first();
    return row ? mapRun(row) : null;
  },

  async recent(db: Queryable, limit: number, job?: string): Promise<JobRun[]> {
    const query = db('job_runs').orderBy('id', 'desc').limit(limit);
    if (job) query.where({ job });
    return ((await query) as Record<string, unknown>[]).map(mapRun);
  },

  /**
   * Takes the lease when it is free or expired: an insert for a new job name, else an update guarded by
   * the expiry, so of two instances racing exactly one sees an affected row.
   */
  async tryAcquire(db: Queryable, job: string, holder: string, now: Date, ttlMs: number): Promise<boolean> {
    const expires = toDbTime(new Date(now.getTime() + ttlMs));
    const taken = await db('job_leases').where('job', job).andWhere('expires_at', '<', toDbTime(now)).update({ holder, expires_at: expires });
    if (taken > 0) return true;
    const existing = await db('job_leases').where('job', job).first();
    if (existing) return false;
    try {
      await db('job_leases').insert({ job, holder, expires_at: expires });
      return true;
    } catch (err) {
      if (isUniqueViolation(err)) return false; // another instance inserted it first
      throw err; // anything else is a real failure, not "busy"
    }
  },

  async release(db: Queryable, job: string, holder: string): Promise<void> {
    await db('job_leases').where({ job, holder }).delete();
  },
};
