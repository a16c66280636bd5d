import crypto from 'node:crypto';
import os from 'node:os';
import type { Knex } from 'knex';
import type { Clock } from '../lib/clock';
import { logger } from '../lib/logger';
import type { Mailer } from '../mail/mailer';
import { noticeRepository } from './noticeRepository';
import { noticeSettingsRepository } from './noticeSettings';

export interface NoticeSenderOptions {
  /** How long a claimed notice is reserved for this sender; longer than one SMTP conversation with all its timeouts. */
  leaseMs?: number;
  /** Attempts before a notice is given up as failed. */
  maxAttempts?: number;
  /** Wait after the first failure; doubles after each further one, up to maxDelayMs. */
  baseDelayMs?: number;
  maxDelayMs?: number;
}

export interface NoticeDeliveryReport {
  claimed: number;
  sent: number;
  captured: number;
  /** Failed this time, tried again later. */
  retrying: number;
  /** Failed for the last allowed time. */
  failed: number;
}

const defaults: Required<NoticeSenderOptions> = { leaseMs: 5 * 60_000, maxAttempts: 8, baseDelayMs: 60_000, maxDelayMs: 4 * 3600_000 };

/** Wait before the next attempt after `attempts` failures: 1, 2, 4 … minutes, capped. */
export function retryDelayMs(attempts: number, options: Pick<Required<NoticeSenderOptions>, 'baseDelayMs' | 'maxDelayMs'> = defaults): number {
  return Math.min(options.baseDelayMs * 2 ** Math.max(0, attempts - 1), options.maxDelayMs);
}

/**
 * Delivers pending notices through the Mailer (so every attempt is a mail_outbox row). Each notice is
 * claimed with a conditional UPDATE on its lease columns, so any number of senders, in one process or
 * across a fleet, never send the same notice at the same time. Delivery is at least once: a process
 * that dies after the SMTP server accepted a notice but before recording it sends it again once the
 * lease expires (the outbox shows both).
 */
export class NoticeSender {
  readonly holder = `${os.hostname()}:${process.pid}:${crypto.randomBytes(4).toString('hex')}`;
  private readonly options: Required<NoticeSenderOptions>;

  constructor(
    private readonly deps: { db: Knex; clock: Clock; mailer: Mailer },
    options: NoticeSenderOptions = {},
  ) {
    this.options = { ...defaults, ...options };
  }

  /** Whether any notice is due now (a cheap check, so the every-minute job records a run only when it has work). */
  async hasDue(): Promise<boolean> {
    return (await noticeRepository.dueIds(this.deps.db, this.deps.clock.now(), 1)).length > 0;
  }

  async sendDue(limit = 50): Promise<NoticeDeliveryReport> {
    const { db, clock } = this.deps;
    const report: NoticeDeliveryReport = { claimed: 0, sent: 0, captured: 0, retrying: 0, failed: 0 };
    const ids = await noticeRepository.dueIds(db, clock.now(), limit);
    if (!ids.length) return report;
    // Read once per run: the abuse desk in force now answers replies, even for a notice rendered earlier.
    const settings = await noticeSettingsRepository.get(db);
    for (const id of ids) {
      const now = clock.now();
      if (!(await noticeRepository.claim(db, id, this.holder, now, new Date(now.getTime() + this.options.leaseMs)))) continue;
      report.claimed++;
      const outcome = await this.deliver(id, settings.abuseAddress);
      report[outcome]++;
    }
    return report;
  }

  /**
   * For callers that just committed a decision: delivers what is due now without making them wait
   * for or handle a failure (the every-minute job tries again). Resolves to null when it failed.
   */
  async kick(limit = 50): Promise<NoticeDeliveryReport | null> {
    try {
      return await this.sendDue(limit);
    } catch (err) {
      logger.warn('notice delivery failed; the scheduled job retries', { error: err instanceof Error ? err.message : String(err) });
      return null;
    }
  }

  private async deliver(id: number, replyTo: string | null): Promise<'sent' | 'captured' | 'retrying' | 'failed'> {
    const { db, clock, mailer } = this.deps;
    const notice = await db('notices').where('id', id).first() as Record<string, unknown> | undefined;
    if (!notice) return 'failed';
    const attempts = Number(notice.attempts) + 1;
    const to = notice.to_address ? String(notice.to_address) : null;
    if (!to) {
      // Only reachable if a row was edited by hand: nothing to send to, so nothing to retry.
      await noticeRepository.finishAttempt(db, id, this.holder, { status: 'failed', attempts, mailId: null, error: 'The notice has no recipient address.', nextAttemptAt: null, sentAt: null });
      return 'failed';
    }
    let result: { id: number | null; status: string; error: string | null };
    try {
      result = await mailer.send({
        accountId: Number(notice.account_id),
        kind: 'enforcement_notice',
        to,
        cc: notice.cc_address ? String(notice.cc_address) : undefined,
        subject: String(notice.subject),
        text: String(notice.body),
        headers: { ...(replyTo ? { 'Reply-To': replyTo } : {}), 'X-Antispam-Notice': `${id} ${String(notice.kind)}` },
      });
    } catch (err) {
      // The outbox row itself could not be written (database trouble): count it as a failed attempt.
      result = { id: null, status: 'failed', error: err instanceof Error ? err.message : String(err) };
    }
    const now = clock.now();
    if (result.status === 'sent' || result.status === 'captured') {
      await noticeRepository.finishAttempt(db, id, this.holder, { status: result.status, attempts, mailId: result.id, error: null, nextAttemptAt: null, sentAt: now });
      return result.status;
    }
    const giveUp = attempts >= this.options.maxAttempts;
    const error = `Attempt ${attempts} of ${this.options.maxAttempts}: ${result.error ?? 'the mail was not accepted'}`;
    await noticeRepository.finishAttempt(db, id, this.holder, {
      status: giveUp ? 'failed' : 'pending',
      attempts,
      mailId: result.id ?? (notice.mail_id == null ? null : Number(notice.mail_id)),
      error,
      nextAttemptAt: giveUp ? null : new Date(now.getTime() + retryDelayMs(attempts, this.options)),
      sentAt: null,
    });
    if (giveUp) logger.warn('notice given up', { id, attempts, error });
    return giveUp ? 'failed' : 'retrying';
  }
}
