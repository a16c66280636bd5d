import { Semaphore } from '../../panel/whm/semaphore';
import { runSmtpSession, type RecipientOutcome, type SessionSettings, type SessionTarget } from './smtpSession';
import type { TranscriptEntry } from './transcript';

/**
 * The politeness rules of the probe:
 *  - one queue per MX *address* (ip:port), drained by a single worker, so a server never sees two
 *    of our sessions at once. Keyed by address rather than MX name because on a hosting server each
 *    domain is usually its own MX name (MX 0 example.com) and hundreds of names point at one Exim;
 *  - recipients waiting for the same address share a session, up to `maxPerSession`;
 *  - a global semaphore bounds the sessions open over all hosts.
 * Postmaster and catch-all recipients never share a session: a random address in the same session
 * can change how a server answers the real one (AfterShip/email-verifier #72).
 */
export type TaskKind = 'postmaster' | 'catchall';

export interface ProbeTask {
  recipient: string;
  kind: TaskKind;
  target: SessionTarget;
  /** Alone in its session: the retry of an address refused for "too many recipients". */
  solo?: boolean;
}

export interface TaskResult {
  outcome: RecipientOutcome;
  /** This recipient's view of the session transcript. */
  entries: TranscriptEntry[];
  /** How many recipients the session carried, and where this one was (0-based). */
  sessionSize: number;
  position: number;
}

interface Queued {
  task: ProbeTask;
  resolve: (result: TaskResult) => void;
  reject: (err: unknown) => void;
}

export type SessionRunner = typeof runSmtpSession;

export class ProbeScheduler {
  private readonly queues = new Map<string, Queued[]>();
  private readonly global: Semaphore;

  constructor(
    globalConcurrency: number,
    private readonly maxPerSession: number,
    private readonly settings: SessionSettings,
    private readonly runSession: SessionRunner = runSmtpSession,
  ) {
    this.global = new Semaphore(globalConcurrency);
  }

  /** Sessions running now, over all hosts. */
  get activeSessions(): number {
    return this.global.inUse;
  }

  run(task: ProbeTask): Promise<TaskResult> {
    const key = `[${task.target.ip}]:${task.target.port}`;
    return new Promise((resolve, reject) => {
      const queue = this.queues.get(key);
      if (queue) {
        queue.push({ task, resolve, reject });
        return;
      }
      this.queues.set(key, [{ task, resolve, reject }]);
      // Started on the next turn, so tasks submitted in the same synchronous burst join one batch.
      setImmediate(() => void this.drain(key));
    });
  }

  private async drain(key: string): Promise<void> {
    const queue = this.queues.get(key);
    if (!queue) return;
    while (queue.length > 0) {
      const release = await this.global.acquire();
      const batch = this.takeBatch(queue);
      try {
        const first = batch[0]!.task;
        const session = await this.runSession(first.target, batch.map((q) => q.task.recipient), this.settings);
        batch.forEach((queued, position) => {
          const outcome = session.outcomes[position];
          if (!outcome) throw new Error(`session returned no outcome for recipient ${position}`);
          queued.resolve({ outcome, entries: session.transcript.forRecipient(position), sessionSize: batch.length, position });
        });
      } catch (err) {
        for (const queued of batch) queued.reject(err);
      } finally {
        release();
      }
    }
    this.queues.delete(key);
  }

  private takeBatch(queue: Queued[]): Queued[] {
    const first = queue.shift()!;
    const batch = [first];
    if (first.task.solo) return batch;
    for (let i = 0; i < queue.length && batch.length < this.maxPerSession; ) {
      const candidate = queue[i]!;
      if (candidate.task.kind === first.task.kind && !candidate.task.solo) {
        batch.push(candidate);
        queue.splice(i, 1);
      } else {
        i++;
      }
    }
    return batch;
  }
}
