import crypto from 'node:crypto';
import os from 'node:os';
import type { Knex } from 'knex';
import { auditRepository } from '../audit/auditRepository';
import { retryOnLockConflict, toDbTime } from '../db/dialect';
import type { Clock } from '../lib/clock';
import { logger } from '../lib/logger';
import { PanelApiError, isPanelError } from '../panel/errors';
import type { PanelAccount, PanelAdapter } from '../panel/panelAdapter';
import type { PanelRegistry } from '../panel/panelRegistry';
import { fullJitterDelay, type RetryPolicy } from '../panel/whm/backoff';
import { serverRepository } from '../tenancy/serverRepository';
import { actionLabels, alreadyApplied, isAccountAction, localEffect, performAccountAction, type AccountActionKind } from './actionKinds';
import { followUps } from './followUps';
import { panelActionRepository, type PanelAction } from './panelActionRepository';
import type { ProviderHooks } from './providerHooks';

export interface ActionWorkerOptions {
  /** Actions claimed per round (they run concurrently; each server's client bounds its own requests). */
  batchSize?: number;
  /** How long a claim lasts; longer than a call's timeout, so only a dead worker's claim runs out. */
  leaseMs?: number;
  /** Backoff between attempts: full jitter, doubled per attempt. */
  retry?: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>;
  random?: () => number;
}

export interface WorkerRound {
  done: number;
  retrying: number;
  failed: number;
}

/** A definite "no" from the panel: nothing was applied, and sending it again will not change the answer. */
function isRefusal(err: unknown): boolean {
  return err instanceof PanelApiError || (isPanelError(err) && !err.retryable);
}

/**
 * Executes the outbox. Each claimed action makes its one panel call; the panel's answer is recorded,
 * with the account's new state and an audit entry, in one transaction. Failures that may pass (timeouts,
 * HTTP 5xx, connection errors) are retried with exponential backoff and jitter until max_attempts;
 * refusals fail at once for an admin to look at. Whenever a previous attempt's outcome is unknown, the
 * panel's current state is read first and a call already applied is not sent again.
 */
export class PanelActionWorker {
  readonly holder = `${os.hostname()}:${process.pid}:${crypto.randomBytes(3).toString('hex')}`;
  private readonly batchSize: number;
  private readonly leaseMs: number;
  private readonly retry: RetryPolicy;
  private readonly random: () => number;

  constructor(
    private readonly deps: { db: Knex; clock: Clock; panels: PanelRegistry; providers: ProviderHooks },
    opts: ActionWorkerOptions = {},
  ) {
    this.batchSize = opts.batchSize ?? 32;
    this.leaseMs = opts.leaseMs ?? 5 * 60_000;
    this.retry = { retries: 0, baseDelayMs: opts.retry?.baseDelayMs ?? 10_000, maxDelayMs: opts.retry?.maxDelayMs ?? 30 * 60_000 };
    this.random = opts.random ?? Math.random;
  }

  /**
   * Runs until nothing is due: actions are executed as a continuous stream (up to `batchSize` at once),
   * and the next batch is claimed while the current one is still running, so the panel connections
   * never sit idle between batches. `maxClaims` bounds the number of claims (tests).
   */
  async runDue(maxClaims = Number.POSITIVE_INFINITY): Promise<WorkerRound> {
    const total: WorkerRound = { done: 0, retrying: 0, failed: 0 };
    const queue: PanelAction[] = [];
    const running = new Set<Promise<void>>();
    let claims = 0;
    let exhausted = false;
    for (;;) {
      if (!exhausted && queue.length < this.batchSize / 2 && claims < maxClaims) {
        const claimed = await retryOnLockConflict(() => panelActionRepository.claim(this.deps.db, this.holder, this.batchSize, this.leaseMs, this.deps.clock.now()));
        claims += 1;
        queue.push(...claimed);
        if (!claimed.length || claims >= maxClaims) exhausted = true;
      }
      while (running.size < this.batchSize && queue.length) {
        const task: Promise<void> = this.execute(queue.shift()!).then((outcome) => {
          total[outcome] += 1;
          running.delete(task);
        });
        running.add(task);
      }
      if (!running.size) break;
      await Promise.race(running);
    }
    return total;
  }

  private async execute(action: PanelAction): Promise<keyof WorkerRound> {
    try {
      const result = isAccountAction(action.kind) ? await this.executeAccountAction(action, action.kind) : await this.executeServerAction(action);
      await this.complete(action, result);
      return 'done';
    } catch (err) {
      return this.recordFailure(action, err);
    }
  }

  private async executeAccountAction(action: PanelAction, kind: AccountActionKind): Promise<string> {
    const adapter = await this.adapterOf(action);
    const username = action.username ?? '';
    if (action.outcomeUnknown) {
      // The last attempt may have reached the panel: its state decides whether to send again.
      if (alreadyApplied(kind, await this.panelState(adapter, username))) return 'already applied on the panel (found after an attempt with no answer); not sent again';
    }
    try {
      await performAccountAction(adapter, kind, username, action.reason, action.params);
    } catch (err) {
      // A refusal because the effect is already there ("already suspended", account gone) is success.
      if (err instanceof PanelApiError) {
        const state = await this.panelState(adapter, username).catch(() => 'unreadable' as const);
        if (state !== 'unreadable' && alreadyApplied(kind, state)) return `the panel answered "${err.reason}"; the account already shows the effect`;
      }
      throw err;
    }
    return `${actionLabels[kind]}: applied by ${action.serverName}`;
  }

  private async executeServerAction(action: PanelAction): Promise<string> {
    const req = { actionId: action.id, idempotencyKey: action.idempotencyKey, server: action.serverName, reason: action.reason };
    switch (action.kind) {
      case 'suspend_server':
        // Expanded in complete(): one suspend_account action per account on the server, each in the outbox.
        return 'every account on the server is queued for suspension';
      case 'provider_command':
        return this.deps.providers.runCommand(req);
      case 'provider_webhook':
        return this.deps.providers.callWebhook(req);
      default:
        throw new Error(`unknown action kind ${action.kind}`);
    }
  }

  private async adapterOf(action: PanelAction): Promise<PanelAdapter> {
    const server = await serverRepository.findById(this.deps.db, action.serverId);
    if (!server) throw new Error(`server ${action.serverId} no longer exists`);
    return this.deps.panels.adapterFor(server);
  }

  /** The account as the panel shows it now; null when the panel says it does not exist. */
  private async panelState(adapter: PanelAdapter, username: string): Promise<PanelAccount | null> {
    try {
      return await adapter.accountSummary(username);
    } catch (err) {
      if (err instanceof PanelApiError) return null;
      throw err;
    }
  }

  /**
   * Records a finished action. Completions are group-committed: those that finish while a commit is
   * under way go together in the next transaction, so a busy worker does not pay one commit per
   * action. If the process dies before the commit, the action's claim runs out and the next attempt
   * finds the effect on the panel (outcome unknown → state read), so nothing is applied twice.
   */
  private complete(action: PanelAction, result: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.completions.push({ action, result, resolve, reject });
      if (!this.flushing) this.flushing = this.flushCompletions().finally(() => (this.flushing = null));
    });
  }

  private completions: Array<{ action: PanelAction; result: string; resolve: () => void; reject: (err: unknown) => void }> = [];
  private flushing: Promise<void> | null = null;

  private async flushCompletions(): Promise<void> {
    while (this.completions.length) {
      // In id order: every transaction touching several actions locks them in the same order.
      const batch = this.completions.splice(0).sort((a, b) => a.action.id - b.action.id);
      const now = this.deps.clock.now();
      try {
        await retryOnLockConflict(() =>
          this.deps.db.transaction(async (trx) => {
            for (const c of batch) await this.recordDone(trx, c.action, c.result, now);
          }),
        );
        for (const c of batch) c.resolve();
      } catch (err) {
        for (const c of batch) c.reject(err);
      }
    }
  }

  private async recordDone(trx: Knex.Transaction, action: PanelAction, result: string, now: Date): Promise<void> {
    if (!(await panelActionRepository.finishDone(trx, action.id, result, now))) return; // another worker took it over
    if (isAccountAction(action.kind) && action.accountId !== null) {
      const effect = localEffect(action.kind);
      const update: Record<string, unknown> = { updated_at: toDbTime(now) };
      if (effect.status) update.status = effect.status;
      if (effect.outgoingMail) update.outgoing_mail = effect.outgoingMail;
      await trx('accounts').where('id', action.accountId).update(update);
    }
    await auditRepository.append(
      trx,
      { actorUserId: null, actorLogin: action.requestedBy, action: `panel.${action.kind}`, subjectType: action.accountId ? 'account' : 'server', subjectId: action.accountId ?? action.serverId, data: { actionId: action.id, server: action.serverName, username: action.username, reason: action.reason, attempts: action.attempts, result } },
      now,
    );
    await followUps.afterDone(trx, action, now);
  }

  private async recordFailure(action: PanelAction, err: unknown): Promise<keyof WorkerRound> {
    const now = this.deps.clock.now();
    const message = err instanceof Error ? err.message : String(err);
    // A refusal applied nothing; anything else (timeout, 5xx, reset) may have been applied.
    const unknown = action.outcomeUnknown || !isRefusal(err);
    const retryable = !isRefusal(err) && action.attempts < action.maxAttempts;
    if (retryable) {
      const delay = fullJitterDelay(this.retry, action.attempts - 1, this.random);
      await retryOnLockConflict(() => panelActionRepository.scheduleRetry(this.deps.db, action.id, message, unknown, new Date(now.getTime() + delay), now));
      return 'retrying';
    }
    logger.warn('panel action failed', { id: action.id, kind: action.kind, error: message });
    await retryOnLockConflict(() => this.deps.db.transaction(async (trx) => {
      await panelActionRepository.finishFailed(trx, action.id, message, unknown, now);
      await auditRepository.append(
        trx,
        { actorUserId: null, actorLogin: action.requestedBy, action: 'panel.failed', subjectType: action.accountId ? 'account' : 'server', subjectId: action.accountId ?? action.serverId, data: { actionId: action.id, kind: action.kind, server: action.serverName, username: action.username, attempts: action.attempts, error: message } },
        now,
      );
    }));
    return 'failed';
  }
}
