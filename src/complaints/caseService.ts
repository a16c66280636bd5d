import type { Knex } from 'knex';
import { toDbBool, toDbTime, toNumber } from '../db/dialect';
import type { Clock } from '../lib/clock';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../lib/errors';
import type { Mailer } from '../mail/mailer';
import { systemActor, type Actor } from '../tenancy/actor';
import { accountRepository } from '../tenancy/accountRepository';
import type { ConsentService } from '../consent/consentService';
import { complaintRepository, complaintsInReach } from './complaintRepository';
import { InboxNumbers, inboxNumbersOf } from './inboxNumbers';
import { noteRepository } from './noteRepository';
import type { Complaint, ComplaintNote, DeskStatus, NoteKind } from './types';

/** What each role reads of a case's notes: customers never see the reseller's internal notes. */
const visibleKinds: Record<Actor['role'], readonly NoteKind[]> = {
  admin: ['note', 'message', 'evidence', 'system'],
  reseller: ['note', 'message', 'evidence', 'system'],
  customer: ['message', 'evidence'],
};

/** Statuses a reseller or customer works on; the rest (duplicates, non-complaints) need nothing from them. */
const openStatuses = ['valid', 'awaiting_evidence', 'review'] as const;

export interface TrendPoint {
  /** Monday of the week, UTC. */
  week: Date;
  count: number;
}

/**
 * The work on a case after intake: the reseller's desk (investigating, forwarded, resolved with a
 * resolution text), notes, forwarding to the customer by mail, the customer's reply and evidence,
 * the weekly trend, and escalation of overdue cases to the admins.
 */
export class CaseService {
  constructor(
    private readonly db: Knex,
    private readonly clock: Clock,
    private readonly consent: ConsentService,
    private readonly mailer: Mailer,
    private readonly links: { publicUrl(path: string): string },
  ) {}

  async notes(actor: Actor, complaintId: number): Promise<ComplaintNote[]> {
    const complaint = await this.mustFind(actor, complaintId);
    return noteRepository.ofComplaint(this.db, complaint.id, visibleKinds[actor.role]);
  }

  /** A note: internal for resellers and admins, a reply (seen by the reseller) for customers. */
  async addNote(actor: Actor, complaintId: number, body: string): Promise<void> {
    const complaint = await this.mustFind(actor, complaintId);
    const kind: NoteKind = actor.role === 'customer' ? 'message' : 'note';
    await noteRepository.add(this.db, { complaintId: complaint.id, author: actor.login, authorRole: actor.role, kind, body, consentRecordId: null }, this.clock.now());
  }

  /** Sends the case to the customer's contact address (our wording plus the reseller's message) and marks it forwarded. */
  async forward(actor: Actor, complaintId: number, message: string): Promise<{ to: string; status: string }> {
    if (actor.role === 'customer') throw new ForbiddenError('Customers cannot forward complaints.');
    const complaint = await this.mustFind(actor, complaintId);
    const account = await accountRepository.findById(this.db, systemActor, complaint.accountId!);
    if (!account?.contactEmail) throw new ConflictError(`${complaint.accountUsername} has no contact address in the panel: the case cannot be mailed. Add a note instead and contact the customer another way.`);
    const link = this.links.publicUrl(`/customer/complaints/${complaint.id}`);
    const text = [
      `Hello ${account.username},`,
      '',
      `We received a spam complaint about mail from ${complaint.domainName ?? 'your account'}${complaint.arrivalAt ? ` that arrived on ${complaint.arrivalAt.toISOString().slice(0, 10)}` : ''}.`,
      `Subject of the reported message: ${complaint.subject ?? '(unknown)'}`,
      `Current status: ${complaint.status.replace(/_/g, ' ')}. ${complaint.decisionReason ?? ''}`,
      '',
      `Message from ${actor.login}:`,
      message,
      '',
      `Please answer, and attach your consent evidence for this recipient if you have it, here: ${link}`,
      complaint.dueAt ? `Please respond before ${complaint.dueAt.toISOString().slice(0, 16).replace('T', ' ')} UTC.` : '',
    ].join('\n');
    const sent = await this.mailer.send({ accountId: account.id, kind: 'complaint_forward', to: account.contactEmail, subject: `Spam complaint #${complaint.id} about ${complaint.domainName ?? account.username}`, text });
    const now = this.clock.now();
    await this.db.transaction(async (trx) => {
      await noteRepository.add(trx, { complaintId: complaint.id, author: actor.login, authorRole: actor.role, kind: 'message', body: message, consentRecordId: null }, now);
      if (complaint.deskStatus !== 'resolved') await complaintRepository.updateComplaint(trx, complaint.id, { deskStatus: 'forwarded' }, now);
    });
    return { to: account.contactEmail, status: sent.status };
  }

  /** The reseller's own track: investigating, or resolved with a resolution text the customer also sees. */
  async setDesk(actor: Actor, complaintId: number, status: Exclude<DeskStatus, 'new' | 'forwarded'>, resolution: string | null): Promise<void> {
    if (actor.role === 'customer') throw new ForbiddenError('Customers cannot change the status of a case.');
    const complaint = await this.mustFind(actor, complaintId);
    if (status === 'resolved' && !resolution?.trim()) throw new ValidationError({ resolution: 'is required: say what was found and done' });
    await complaintRepository.updateComplaint(this.db, complaint.id, { deskStatus: status, resolution: status === 'resolved' ? resolution!.trim() : complaint.resolution }, this.clock.now());
  }

  /**
   * The customer's evidence: a text, optionally one of their consent records. On a case waiting for
   * evidence it goes to an admin at once; on a decided case it is there for the admin to review.
   */
  async attachEvidence(actor: Actor, complaintId: number, input: { text: string; consentRecordId?: number }): Promise<void> {
    if (actor.role !== 'customer') throw new ForbiddenError('Evidence comes from the customer whose mail it was.');
    const complaint = await this.mustFind(actor, complaintId);
    let body = input.text.trim();
    if (input.consentRecordId !== undefined) {
      const record = await this.consent.getRecord(actor, input.consentRecordId).catch(() => null);
      if (!record) throw new ValidationError({ consentRecordId: 'is not one of your consent records' });
      body = `${body}\n\nConsent record #${record.id}: ${record.email}, ${record.status}, list "${record.listName}" (${record.domainName}), method ${record.method}, confirmed ${record.confirmedAt ? record.confirmedAt.toISOString() : 'never'}.`.trim();
    }
    if (!body) throw new ValidationError({ text: 'is required: describe your evidence' });
    const now = this.clock.now();
    await this.db.transaction(async (trx) => {
      await noteRepository.add(trx, { complaintId: complaint.id, author: actor.login, authorRole: actor.role, kind: 'evidence', body, consentRecordId: input.consentRecordId ?? null }, now);
      if (complaint.status === 'awaiting_evidence') {
        await complaintRepository.updateComplaint(trx, complaint.id, { status: 'review', decisionReason: `The customer attached evidence on ${now.toISOString().slice(0, 10)}: an admin decides.`, evidenceDueAt: null }, now);
      }
    });
  }

  /**
   * Complaints per week (Monday, UTC) over the last `weeks` weeks, for the actor's reach and optionally one account.
   * `cached` (the inbox pages): the counts may come from src/complaints/inboxNumbers.ts, up to
   * `inboxNumbersMaxAgeSeconds` old for complaints another process stored meanwhile.
   */
  async trend(actor: Actor, input: { accountId?: number; customer?: string; weeks?: number; cached?: boolean } = {}): Promise<TrendPoint[]> {
    const weeks = input.weeks ?? 12;
    const now = this.clock.now();
    const monday = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - ((now.getUTCDay() + 6) % 7)));
    const start = new Date(monday.getTime() - (weeks - 1) * 7 * 86_400_000);
    if (!input.cached) return this.countWeeks(actor, input, weeks, start);
    // The weeks' start is in the key: a new week starts a new entry. The points are copied, so a caller cannot change the kept ones.
    const key = `trend|${InboxNumbers.scopeKey(actor)}|${JSON.stringify([start.getTime(), weeks, input.accountId, input.customer])}`;
    const points = await inboxNumbersOf(this.db).get(key, () => this.countWeeks(actor, input, weeks, start));
    return points.map((p) => ({ week: new Date(p.week), count: p.count }));
  }

  private async countWeeks(actor: Actor, input: { accountId?: number; customer?: string }, weeks: number, start: Date): Promise<TrendPoint[]> {
    // The complaints alone (no names), counted per day in the database: an index on complaints can answer it without reading the rows.
    const query = complaintsInReach(this.db, actor).where('c.is_complaint', toDbBool(true)).whereNot('c.status', 'duplicate').andWhere('c.received_at', '>=', toDbTime(start));
    if (input.accountId) query.where('c.account_id', input.accountId);
    if (input.customer) query.join('accounts as a', 'a.id', 'c.account_id').where('a.username', input.customer.toLowerCase());
    const points = Array.from({ length: weeks }, (_, i) => ({ week: new Date(start.getTime() + i * 7 * 86_400_000), count: 0 }));
    const days = (await query.select(this.db.raw('date(c.received_at) as day')).count({ n: '*' }).groupByRaw('date(c.received_at)')) as Array<{ day: unknown; n: unknown }>;
    for (const row of days) {
      // A UTC day ('YYYY-MM-DD'); weeks start on a UTC midnight, so a day falls in one week.
      const day = row.day instanceof Date ? row.day.getTime() : Date.parse(`${String(row.day).slice(0, 10)}T00:00:00Z`);
      const index = Math.floor((day - start.getTime()) / (7 * 86_400_000));
      if (points[index]) points[index].count += toNumber(row.n);
    }
    return points;
  }

  /** Overdue open cases (due date passed, not resolved) are escalated once: a system note, and a mail to every admin with an address. */
  async escalateOverdue(): Promise<number> {
    const now = this.clock.now();
    const rows = (await this.db('complaints')
      .whereIn('status', openStatuses as unknown as string[])
      .whereNot('desk_status', 'resolved')
      .whereNull('escalated_at')
      .andWhere('due_at', '<', toDbTime(now))
      .orderBy('id')
      .limit(500)
      .select('id')) as Array<{ id: unknown }>;
    if (!rows.length) return 0;
    const admins = ((await this.db('users').where({ role: 'admin', disabled: toDbBool(false) }).whereNotNull('email').select('email')) as Array<{ email: string }>).map((u) => u.email);
    for (const row of rows) {
      const id = toNumber(row.id);
      await this.db.transaction(async (trx) => {
        await trx('complaints').where('id', id).update({ escalated_at: toDbTime(now) });
        await noteRepository.add(trx, { complaintId: id, author: 'system', authorRole: 'admin', kind: 'system', body: 'Overdue: no resolution by the due date, escalated to the administrators.', consentRecordId: null }, now);
      });
    }
    const list = rows.map((r) => `#${toNumber(r.id)}: ${this.links.publicUrl(`/admin/complaints/${toNumber(r.id)}`)}`).join('\n');
    for (const to of admins) {
      await this.mailer.send({ accountId: null, kind: 'complaint_escalation', to, subject: `${rows.length} overdue complaint case${rows.length === 1 ? '' : 's'} escalated`, text: `These cases passed their due date without a resolution by the reseller:\n\n${list}\n` });
    }
    return rows.length;
  }

  private async mustFind(actor: Actor, id: number): Promise<Complaint> {
    const complaint = await complaintRepository.find(this.db, actor, id);
    if (!complaint) throw new NotFoundError('Complaint');
    return complaint;
  }
}
