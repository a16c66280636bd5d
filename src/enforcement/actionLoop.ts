import type { JobResult, JobRunner } from '../jobs/jobRunner';
import type { JobTrigger } from '../jobs/jobRunRepository';
import type { Clock } from '../lib/clock';
import { logger } from '../lib/logger';
import type { PanelActionWorker } from './actionWorker';
import { panelActionRepository } from './panelActionRepository';
import type { Knex } from 'knex';

/** One recorded run of the outbox worker: everything due, until nothing is. */
export function runPanelActions(deps: { jobs: JobRunner; worker: PanelActionWorker }, trigger: JobTrigger): Promise<JobResult> {
  return deps.jobs.run('panel-actions', trigger, async () => {
    const round = await deps.worker.runDue();
    return { counts: { ...round } };
  });
}

/**
 * Keeps the outbox moving in a running app: a cheap check every `pollMs` for due actions (retries
 * come due by themselves), and an immediate run when a decision commits (`nudge`). Runs are recorded
 * only when there was work; the job's lease keeps instances of a fleet from running it twice at once
 * (the claim would keep them from doubling an action anyway).
 */
export class PanelActionLoop {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;

  constructor(
    private readonly deps: { db: Knex; clock: Clock; jobs: JobRunner; worker: PanelActionWorker },
    private readonly pollMs = 5000,
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.nudge(), this.pollMs);
    this.timer.unref();
    this.nudge();
  }

  /** Runs the worker soon; does nothing until start() (tests and the CLI drive the worker directly). */
  nudge(): void {
    if (!this.timer) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.tick().finally(() => {
      this.running = null;
      if (this.again) {
        this.again = false;
        this.nudge();
      }
    });
  }

  private async tick(): Promise<void> {
    try {
      const due = await panelActionRepository.nextDueAt(this.deps.db);
      const stale = await panelActionRepository.hasExpiredLease(this.deps.db, this.deps.clock.now());
      if ((due && due <= this.deps.clock.now()) || stale) await runPanelActions(this.deps, 'schedule');
    } catch (err) {
      logger.warn('panel action worker failed', { error: String(err) });
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }
}
