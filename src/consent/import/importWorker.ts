import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import type { Knex } from 'knex';
import type { Clock } from '../../lib/clock';
import { logger } from '../../lib/logger';
import { importRepository } from './importRepository';
import { ImportRun, loadRun, type RunContext } from './importRunner';
import type { ImportConfirmationSender, ImportStatus } from './types';

/**
 * Background execution of CSV imports inside the app process (started by main.ts; tests and the
 * bench call runOnce/drain). It polls for `queued` imports and for running ones whose heartbeat is
 * older than `staleAfterMs` (their process crashed), takes one with a conditional UPDATE of
 * lease_holder/heartbeat_at so one instance of a fleet runs it, and heartbeats while it runs.
 *
 * The uploaded file lives in this instance's DATA_DIR/imports: an import whose file is not here is
 * left for the instance that has it (a fleet should share DATA_DIR/imports), and failed with a clear
 * message when no instance has picked it up for `missingFileGraceMs`.
 */
export interface ImportWorkerOptions {
  db: Knex;
  clock: Clock;
  sender?: ImportConfirmationSender | null;
  pollMs?: number;
  staleAfterMs?: number;
  heartbeatMs?: number;
  batchSize?: number;
  missingFileGraceMs?: number;
  afterBatch?: RunContext['afterBatch'];
}

export class ImportWorker {
  /** This process's name in consent_imports.lease_holder. */
  readonly holder = `${os.hostname().slice(0, 30)}:${process.pid}:${crypto.randomBytes(4).toString('hex')}`;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopping = false;
  private readonly opts: Required<Omit<ImportWorkerOptions, 'sender' | 'afterBatch'>> & Pick<ImportWorkerOptions, 'sender' | 'afterBatch'>;

  constructor(options: ImportWorkerOptions) {
    this.opts = { pollMs: 2000, staleAfterMs: 60_000, heartbeatMs: 10_000, batchSize: 2000, missingFileGraceMs: 10 * 60_000, ...options };
  }

  /** Whether confirmation mails can be sent (the mapping page hides the checkbox otherwise). */
  get canSendConfirmations(): boolean {
    return !!this.opts.sender;
  }

  start(): void {
    if (this.timer) return;
    this.stopping = false;
    this.timer = setInterval(() => this.wake(), this.opts.pollMs);
    this.timer.unref();
    this.wake();
  }

  /** Looks for work now (after an import is queued) instead of at the next poll. */
  wake(): void {
    if (this.running || this.stopping || !this.timer) return;
    this.running = this.drain()
      .catch((err: unknown) => logger.error('import worker failed', { error: String((err as Error)?.stack ?? err) }))
      .finally(() => {
        this.running = null;
      });
  }

  /** Stops polling; a running import stops at its next batch boundary and is handed back for the next start to resume. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /** Runs imports until none is waiting. */
  async drain(): Promise<void> {
    while (!this.stopping && (await this.runOnce()) !== null) {
      // next
    }
  }

  /** Takes and runs one import; returns its id, or null when there was nothing to take. */
  async runOnce(): Promise<number | null> {
    const { db, clock } = this.opts;
    const now = clock.now();
    const staleBefore = new Date(now.getTime() - this.opts.staleAfterMs);
    for (const id of await importRepository.candidates(db, staleBefore)) {
      const imp = await importRepository.get(db, id);
      if (!imp) continue;
      if (!fs.existsSync(imp.filePath)) {
        if (now.getTime() - imp.updatedAt.getTime() < this.opts.missingFileGraceMs) continue;
        const previous = await importRepository.take(db, id, this.holder, now, staleBefore);
        if (!previous) continue;
        await importRepository.advance(db, id, this.holder, previous, 'failed', now, {
          error: `The uploaded file is missing on the server (${imp.filePath}); nothing more was imported${imp.rowsImported ? ` after the ${imp.rowsImported} rows already stored` : ''}. In a fleet, DATA_DIR/imports must be shared by every instance. Upload the file again.`,
        });
        return id;
      }
      const previous = await importRepository.take(db, id, this.holder, now, staleBefore);
      if (!previous) continue;
      await this.run(id, previous);
      return id;
    }
    return null;
  }

  private async run(id: number, previous: ImportStatus): Promise<void> {
    const { db, clock } = this.opts;
    const loaded = await loadRun(db, id);
    if (!loaded) return;
    const ctx: RunContext = {
      db,
      clock,
      holder: this.holder,
      batchSize: this.opts.batchSize,
      sender: this.opts.sender,
      stopping: () => this.stopping,
      afterBatch: this.opts.afterBatch,
    };
    const status = await new ImportRun(ctx, loaded.imp, loaded.list, this.opts.heartbeatMs).run(previous);
    logger.info('import run ended', { importId: id, status });
  }
}
