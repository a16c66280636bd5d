import type { Knex } from 'knex';
import { auditRepository } from '../audit/auditRepository';
import { LIKE_ESCAPE, likePattern, numberOrNull, toDbTime, toNumber, type Queryable } from '../db/dialect';
import type { Clock } from '../lib/clock';
import { applyKeyset, finishPage, type Page, type PageRequest } from '../lib/keyset';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../lib/errors';
import { systemActor, type Actor } from '../tenancy/actor';
import { accountRepository } from '../tenancy/accountRepository';
import { domainRepository } from '../tenancy/domainRepository';
import { strikeRepository, type Strike } from '../strikes/strikeRepository';
import { complaintRepository, complaintsInReach, complaintsWithIds, inboxRowsWithIds, type InboxRow, type StoredMessage } from './complaintRepository';
import { consentBefore } from './consentLookup';
import { consequences } from './consequences';
import { InboxNumbers, inboxNumbersOf } from './inboxNumbers';
import type { IntakeOptions } from './intakeService';
import type { Complaint, ComplaintStatus, DeskStatus } from './types';
import { judge } from './validity';

export interface ComplaintFilters {
  status?: ComplaintStatus;
  deskStatus?: DeskStatus;
  /** Part of the recipient, subject, account or domain. */
  q?: string;
  accountId?: number;
  /** Account username (exact). */
  customer?: string;
  /** Sending domain (exact). */
  domain?: string;
  /** Only the statuses a reseller or customer works on: valid, awaiting evidence, review. */
  open?: boolean;
  from?: Date;
  to?: Date;
  overdue?: boolean;
}

export interface ComplaintDetail {
  complaint: Complaint;
  message: StoredMessage;
  siblings: Complaint[];
  strike: Strike | null;
}

export const complaintSorts = ['newest', 'oldest', 'due'] as const;
export type ComplaintSort = (typeof complaintSorts)[number];

/** Statuses an admin may set by decision. */
export const decisionStatuses = ['valid', 'invalid', 'not_complaint'] as const;
export type DecisionStatus = (typeof decisionStatuses)[number];

/** Reading complaints (scoped to the actor) and the admin's decisions: decide, assign, and the evidence deadline. */
export class ComplaintService {
  constructor(
    private readonly db: Knex,
    private readonly clock: Clock,
    private readonly options: IntakeOptions,
  ) {}

  /**
   * One page and the total. The page's ids come first from the complaints alone (joined only to what a
   * filter names), which the indexes answer without reading every complaint in the actor's reach; then
   * only those rows are read with their names. The total counts the same filtered complaints; both
   * queries run at once (on MariaDB on two connections; SQLite has one and runs them in turn).
   */
  async list(actor: Actor, filters: ComplaintFilters, page: PageRequest, sort: ComplaintSort = 'newest'): Promise<Page<Complaint> & { total: number }> {
    return this.listing(actor, filters, page, sort, { rowsWithIds: complaintsWithIds, map: complaintRepository.mapComplaint, cachedTotal: false });
  }

  /**
   * The inbox pages of resellers and customers: `list` with only the columns the listing shows, and a
   * total that may come from src/complaints/inboxNumbers.ts, up to `inboxNumbersMaxAgeSeconds` old for
   * complaints another process stored meanwhile (not with `overdue`, which depends on the time of the
   * request). The page itself is always read anew.
   */
  async inbox(actor: Actor, filters: ComplaintFilters, page: PageRequest, sort: ComplaintSort = 'newest'): Promise<Page<InboxRow> & { total: number }> {
    return this.listing(actor, filters, page, sort, { rowsWithIds: inboxRowsWithIds, map: complaintRepository.mapInboxRow, cachedTotal: !filters.overdue });
  }

  private async listing<T extends { id: number; dueAt: Date | null }>(
    actor: Actor,
    filters: ComplaintFilters,
    page: PageRequest,
    sort: ComplaintSort,
    read: { rowsWithIds: (db: Knex, ids: Knex.QueryBuilder) => Knex.QueryBuilder; map: (row: Record<string, unknown>) => T; cachedTotal: boolean },
  ): Promise<Page<T> & { total: number }> {
    const build = () => {
      const q = this.filtered(actor, filters);
      // Sorted by due date: only cases that have one.
      return sort === 'due' ? q.whereNotNull('c.due_at') : q;
    };
    const order = sort === 'due' ? ({ column: 'c.due_at', direction: 'asc' } as const) : ({ column: 'c.id', direction: sort === 'oldest' ? 'asc' : 'desc' } as const);
    const ids = applyKeyset(build().select('c.id'), { column: order.column, idColumn: 'c.id', direction: order.direction, page });
    const rows = async () => (await read.rowsWithIds(this.db, ids).orderBy(order.column, order.direction).orderBy('c.id', order.direction)) as Record<string, unknown>[];
    const count = async () => toNumber(((await build().count({ n: '*' }).first()) as { n?: unknown } | undefined)?.n ?? 0);
    // Every filter that changes the count is in the key; the cursor and the order are not, only whether cases without a due date count.
    const key = () => `total|${InboxNumbers.scopeKey(actor)}|${JSON.stringify([filters.status, filters.deskStatus, filters.q, filters.accountId, filters.customer, filters.domain, filters.open, filters.from?.getTime(), filters.to?.getTime(), filters.overdue, sort === 'due'])}`;
    const [found, total] = await Promise.all([rows(), read.cachedTotal ? inboxNumbersOf(this.db).get(key(), count) : count()]);
    const result = finishPage(found.map(read.map), page, (c) => (sort === 'due' ? [toDbTime(c.dueAt!), c.id] : [c.id, c.id]));
    return { ...result, total };
  }

  async countsByStatus(actor: Actor): Promise<Record<string, number>> {
    // No names needed: the complaints alone, so an index on complaints can answer it without reading the rows.
    const rows = (await complaintsInReach(this.db, actor).select('c.status').count({ n: '*' }).groupBy('c.status')) as Array<{ status: string; n: unknown }>;
    return Object.fromEntries(rows.map((r) => [r.status, toNumber(r.n)]));
  }

  async get(actor: Actor, id: number): Promise<ComplaintDetail> {
    const complaint = await complaintRepository.find(this.db, actor, id);
    if (!complaint) throw new NotFoundError('Complaint');
    const message = (await complaintRepository.findMessage(this.db, complaint.messageId))!;
    const siblings = (await complaintRepository.complaintsOfMessage(this.db, actor, complaint.messageId)).filter((c) => c.id !== id);
    return { complaint, message, siblings, strike: await strikeRepository.ofComplaint(this.db, id) };
  }

  /** The stored bytes of the report (admins only: they carry the complainant's address). */
  async raw(actor: Actor, id: number): Promise<{ bytes: Buffer; sha256: string }> {
    if (actor.role !== 'admin') throw new ForbiddenError('Only administrators can download the original report.');
    const { message } = await this.get(actor, id);
    return { bytes: (await complaintRepository.rawOf(this.db, message.id))!, sha256: message.sha256 };
  }

  /** An admin decides any case, with a written reason; valid records a strike, overturning a valid decision lifts it. Audited. */
  async decide(actor: Actor, id: number, status: DecisionStatus, reason: string, ip: string | null = null): Promise<void> {
    if (actor.role !== 'admin') throw new ForbiddenError('Only administrators decide complaints.');
    const complaint = await this.mustFind(actor, id);
    if (status === 'valid' && complaint.accountId === null) throw new ValidationError({ status: 'a complaint must be assigned to an account before it can be valid' });
    const now = this.clock.now();
    await this.db.transaction(async (trx) => {
      await complaintRepository.updateComplaint(trx, id, { status, decisionReason: reason, decidedBy: actor.login, decidedAt: now, evidenceDueAt: null }, now);
      await this.applyConsequences(trx, complaint, status, `Decided valid by ${actor.login}: ${reason}`, `Decided ${status} by ${actor.login}: ${reason}`, now);
      await auditRepository.append(trx, { actorUserId: actor.userId, actorLogin: actor.login, action: 'complaint.decide', subjectType: 'complaint', subjectId: id, data: { from: complaint.status, to: status, reason }, ip }, now);
    });
  }

  /** Assigns a complaint to an account (the admin queue of unattributed ones), then judges it again. Audited. */
  async assign(actor: Actor, id: number, input: { username: string; domain?: string; reason: string }, ip: string | null = null): Promise<Complaint> {
    if (actor.role !== 'admin') throw new ForbiddenError('Only administrators assign complaints.');
    const complaint = await this.mustFind(actor, id);
    if (complaint.status === 'unparsed' || !complaint.isComplaint) throw new ConflictError('Only complaints can be assigned to an account; decide this message instead.');
    const account = await accountRepository.findByUsername(this.db, systemActor, input.username.trim().toLowerCase());
    if (!account) throw new ValidationError({ username: `no account named "${input.username}"` });
    let domainId: number | null = null;
    if (input.domain?.trim()) {
      const domain = await domainRepository.findByName(this.db, systemActor, input.domain);
      if (!domain || domain.accountId !== account.id) throw new ValidationError({ domain: `is not a domain of ${account.username}` });
      domainId = domain.id;
    }
    const now = this.clock.now();
    await this.db.transaction(async (trx) => {
      const attributionReason = `Assigned by ${actor.login}: ${input.reason}`.slice(0, 1000);
      await complaintRepository.updateComplaint(
        trx,
        id,
        { accountId: account.id, resellerAccountId: account.ownerAccountId, domainId, serverId: account.serverId, attribution: 'high', attributionReason, dueAt: new Date(now.getTime() + this.options.responseHours * 3600_000) },
        now,
      );
      await this.rejudge(trx, id, now);
      await auditRepository.append(trx, { actorUserId: actor.userId, actorLogin: actor.login, action: 'complaint.assign', subjectType: 'complaint', subjectId: id, data: { account: account.username, domain: input.domain ?? null, reason: input.reason }, ip }, now);
    });
    return (await complaintRepository.find(this.db, actor, id))!;
  }

  /** Evidence deadlines: with evidence attached an admin decides; without, the complaint becomes valid. */
  async expireEvidence(): Promise<{ valid: number; review: number }> {
    const now = this.clock.now();
    const due = (await this.db('complaints').where('status', 'awaiting_evidence').andWhere('evidence_due_at', '<=', toDbTime(now)).orderBy('id').limit(1000).select('id', 'account_id', 'reseller_account_id')) as Array<{
      id: unknown;
      account_id: unknown;
      reseller_account_id: unknown;
    }>;
    const counts = { valid: 0, review: 0 };
    for (const row of due) {
      const id = toNumber(row.id);
      await this.db.transaction(async (trx) => {
        const evidence = await trx('complaint_notes').where({ complaint_id: id, kind: 'evidence' }).count({ n: '*' }).first();
        if (toNumber(evidence?.n ?? 0) > 0) {
          await complaintRepository.updateComplaint(trx, id, { status: 'review', decisionReason: 'The customer attached evidence: an admin decides.', evidenceDueAt: null }, now);
          counts.review += 1;
        } else {
          const reason = `No evidence was attached within ${this.options.evidenceDays} days: valid (no record means no permission).`;
          await complaintRepository.updateComplaint(trx, id, { status: 'valid', decisionReason: reason, decidedBy: 'system', decidedAt: now, evidenceDueAt: null }, now);
          await consequences.valid(trx, { complaintId: id, accountId: toNumber(row.account_id), resellerAccountId: numberOrNull(row.reseller_account_id), reason }, this.options, now);
          counts.valid += 1;
        }
      });
    }
    return counts;
  }

  private async rejudge(trx: Queryable, id: number, now: Date): Promise<void> {
    const c = (await complaintRepository.find(trx, systemActor, id))!;
    const address = c.recipientRedaction === 'none' ? c.recipient : null;
    const arrival = c.arrivalAt ?? c.receivedAt;
    const consent = c.accountId !== null && address ? await consentBefore(trx, { accountId: c.accountId, domainId: c.domainId, recipient: address, before: arrival }) : null;
    const verdict = judge(
      { isComplaint: c.isComplaint, feedbackType: c.feedbackType, duplicateOf: c.duplicateOf, attribution: c.attribution, spamtrap: c.spamtrap, recipient: address, redaction: c.recipientRedaction, domainName: c.domainName, arrival, consent },
      this.options,
      now,
    );
    const decided = verdict.status === 'valid' || verdict.status === 'invalid';
    await complaintRepository.updateComplaint(trx, id, { status: verdict.status, decisionReason: verdict.reason, decidedBy: decided ? 'system' : null, decidedAt: decided ? now : null, evidenceDueAt: verdict.evidenceDueAt }, now);
    await this.applyConsequences(trx, c, verdict.status, verdict.reason, `Judged ${verdict.status} again: ${verdict.reason}`, now);
  }

  private async applyConsequences(trx: Queryable, c: Complaint, status: ComplaintStatus, validReason: string, overturnReason: string, now: Date): Promise<void> {
    if (status === 'valid' && c.accountId !== null) await consequences.valid(trx, { complaintId: c.id, accountId: c.accountId, resellerAccountId: c.resellerAccountId, reason: validReason }, this.options, now);
    else await consequences.overturned(trx, c.id, overturnReason, now);
  }

  private async mustFind(actor: Actor, id: number): Promise<Complaint> {
    const complaint = await complaintRepository.find(this.db, actor, id);
    if (!complaint) throw new NotFoundError('Complaint');
    return complaint;
  }

  /** The actor's complaints matching the filters, without a select: `c` joined only to the accounts (`a`) and domains (`d`) a filter names. */
  private filtered(actor: Actor, f: ComplaintFilters) {
    const query = complaintsInReach(this.db, actor);
    if (f.customer || f.q) query.leftJoin('accounts as a', 'a.id', 'c.account_id');
    if (f.domain || f.q) query.leftJoin('domains as d', 'd.id', 'c.domain_id');
    if (f.status) query.where('c.status', f.status);
    if (f.deskStatus) query.where('c.desk_status', f.deskStatus);
    if (f.accountId) query.where('c.account_id', f.accountId);
    if (f.customer) query.where('a.username', f.customer.toLowerCase());
    if (f.domain) query.where('d.name', f.domain.toLowerCase());
    if (f.open) query.whereIn('c.status', ['valid', 'awaiting_evidence', 'review']);
    if (f.from) query.where('c.received_at', '>=', toDbTime(f.from));
    if (f.to) query.where('c.received_at', '<', toDbTime(f.to));
    if (f.overdue) query.where('c.due_at', '<', toDbTime(this.clock.now())).whereNot('c.desk_status', 'resolved');
    if (f.q) {
      const pattern = likePattern(f.q.trim().toLowerCase());
      query.where((w) =>
        w
          .whereRaw(`lower(c.recipient) like ? ${LIKE_ESCAPE}`, [pattern])
          .orWhereRaw(`lower(c.subject) like ? ${LIKE_ESCAPE}`, [pattern])
          .orWhereRaw(`a.username like ? ${LIKE_ESCAPE}`, [pattern])
          .orWhereRaw(`d.name like ? ${LIKE_ESCAPE}`, [pattern]),
      );
    }
    return query;
  }
}
