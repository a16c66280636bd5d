import type { Knex } from 'knex';
import { auditRepository } from '../audit/auditRepository';
import type { JobRun } from '../jobs/jobRunRepository';
import type { Clock } from '../lib/clock';
import { ConflictError, NotFoundError } from '../lib/errors';
import type { Page, PageRequest } from '../lib/keyset';
import { enqueueNotice } from '../notices/noticeQueue';
import { noticeRepository } from '../notices/noticeRepository';
import type { Actor } from '../tenancy/actor';
import type { CheckOutcome, PostmasterCheckService } from './checkService';
import type { ReadConfirmationService } from './readConfirmation';
import { readPostmasterSettings } from './settings';
import { failingVerdicts, postmasterStatusQueries as queries, type CheckEntry, type DomainStatus, type StatusFilters, type TrendDay, type VerdictFilter } from './statusQueries';

export interface Compliance {
  /** ok or not_applicable. */
  compliant: number;
  /** Domains whose last check reached a verdict (unknown and never-checked ones are left out). */
  decided: number;
  /** Whole percent of `decided`; null when nothing is decided yet. */
  percent: number | null;
}

export interface NotifyPlan {
  domains: DomainStatus[];
  customers: number;
}

export interface NotifyResult {
  domains: number;
  customers: number;
  /** Notices queued now; the rest were already queued today (same key). */
  queued: number;
}

export interface SweepProgress {
  done: number;
  total: number;
  percent: number;
}

/** A verification mail may be asked for again only after this pause (the customer's own inbox is the target, but not a free mail cannon). */
const resendPauseMs = 5 * 60_000;

/**
 * What the postmaster pages, the API and the reseller's notify action read and do besides the lead's
 * PostmasterService: every query is scoped by the actor (statusQueries.ts).
 */
export class PostmasterStatusService {
  constructor(
    private readonly deps: { db: Knex; clock: Clock; checks: PostmasterCheckService; reads: ReadConfirmationService; notices: { kick(): Promise<unknown> } },
  ) {}

  async list(actor: Actor, filters: StatusFilters, page: PageRequest): Promise<Page<DomainStatus> & { total: number }> {
    const [listing, total] = await Promise.all([queries.list(this.deps.db, actor, filters, page), queries.count(this.deps.db, actor, filters)]);
    return { ...listing, total };
  }

  counts(actor: Actor, filters: Pick<StatusFilters, 'accountId' | 'customer'> = {}): Promise<Record<VerdictFilter, number>> {
    return queries.countsByVerdict(this.deps.db, actor, filters);
  }

  compliance(counts: Record<VerdictFilter, number>): Compliance {
    const compliant = counts.ok + counts.not_applicable;
    const decided = compliant + failingVerdicts.reduce((n, v) => n + counts[v], 0);
    return { compliant, decided, percent: decided ? Math.floor((compliant / decided) * 100) : null };
  }

  trend(actor: Actor, days = 30): Promise<TrendDay[]> {
    return queries.trend(this.deps.db, actor, this.deps.clock.now(), days);
  }

  async find(actor: Actor, domainId: number): Promise<DomainStatus> {
    const found = await queries.find(this.deps.db, actor, domainId);
    if (!found) throw new NotFoundError(`Domain #${domainId}`);
    return found;
  }

  async detail(actor: Actor, domainId: number, limit = 20): Promise<{ status: DomainStatus; checks: CheckEntry[] }> {
    const status = await this.find(actor, domainId);
    return { status, checks: await queries.history(this.deps.db, domainId, limit) };
  }

  /** Checks one domain now for anyone who may see it on these pages (a reseller: its customers' domains). */
  async checkNow(actor: Actor, domainId: number): Promise<CheckOutcome> {
    const status = await this.find(actor, domainId);
    return this.deps.checks.checkDomain(status.domain, 'manual');
  }

  /**
   * Sends the verification mail to postmaster@ again (after the customer fixed an unread mailbox, or
   * lost the mail), then checks the domain: with a fresh mail out, `unread` no longer applies.
   */
  async resendVerification(actor: Actor, domainId: number): Promise<CheckOutcome> {
    const status = await this.find(actor, domainId);
    if (!status.verdict) throw new ConflictError(`${status.domain} has not been checked yet; press "Check now" first.`);
    const now = this.deps.clock.now();
    if (status.readSentAt && now.getTime() - status.readSentAt.getTime() < resendPauseMs) {
      throw new ConflictError(`A verification mail went to postmaster@${status.domain} at ${status.readSentAt.toISOString().slice(11, 16)} UTC; wait a few minutes before asking for another one.`);
    }
    const { settings } = await readPostmasterSettings(this.deps.db);
    await this.deps.reads.send(status.domainId, status.accountId, status.domain, settings.readGraceDays);
    return this.deps.checks.checkDomain(status.domain, 'manual');
  }

  /** What "Notify failing customers" would do for these filters: the failing domains and how many customers own them. */
  async notifyPlan(actor: Actor, filters: StatusFilters): Promise<NotifyPlan> {
    const domains = await queries.failing(this.deps.db, actor, filters);
    return { domains, customers: new Set(domains.map((d) => d.accountId)).size };
  }

  /**
   * Queues the postmaster notice (customer, copy to the reseller) for every failing domain in the filter,
   * in one transaction with its audit entry. The key holds the day, so a double click, or a second press
   * the same day, sends each domain's notice once.
   */
  async notifyFailing(actor: Actor, filters: StatusFilters, ip: string | null): Promise<NotifyResult> {
    const { db, clock } = this.deps;
    const now = clock.now();
    const day = now.toISOString().slice(0, 10);
    const plan = await this.notifyPlan(actor, filters);
    if (!plan.domains.length) throw new ConflictError('No failing domain matches these filters: nobody to notify.');
    const queued = await db.transaction(async (trx) => {
      let fresh = 0;
      for (const d of plan.domains) {
        const key = `postmaster-reseller:${d.domainId}:${day}`;
        if ((await noticeRepository.idByKey(trx, key)) !== null) continue;
        await enqueueNotice(
          trx,
          {
            key,
            kind: 'postmaster_failing',
            accountId: d.accountId,
            reason: `${d.domain}: ${d.reason ?? d.verdict ?? 'postmaster@ does not work'}`,
            nextStep: `Fix postmaster@${d.domain} in your control panel (Postmaster): one click creates a forwarder to your contact address or a mailbox, and checks the domain again at once.`,
            createdBy: actor.login,
          },
          now,
        );
        fresh += 1;
      }
      await auditRepository.append(
        trx,
        { actorUserId: actor.userId, actorLogin: actor.login, action: 'postmaster.notify', subjectType: 'account', subjectId: actor.accountId ?? 'all', data: { filters: { ...filters }, domains: plan.domains.map((d) => d.domain), customers: plan.customers, queued: fresh }, ip },
        now,
      );
      return fresh;
    });
    // Delivered after the commit; the every-minute notice job retries whatever this misses.
    if (queued) void this.deps.notices.kick();
    return { domains: plan.domains.length, customers: plan.customers, queued };
  }

  /** How far a running sweep got: checks it stored since it started, of the domains in scope now. */
  async sweepProgress(run: JobRun): Promise<SweepProgress> {
    const { settings } = await readPostmasterSettings(this.deps.db);
    const [total, done] = await Promise.all([queries.sweepTotal(this.deps.db, settings.scope), queries.sweepChecksSince(this.deps.db, run.startedAt)]);
    const capped = Math.min(done, total);
    return { done: capped, total, percent: total ? Math.floor((capped / total) * 100) : 0 };
  }
}
