import type { Knex } from 'knex';
import { fromDbBool, fromDbTime, fromDbTimeOrNull, numberOrNull, stringOrNull, toDbBool, toDbTime, toNumber, type Queryable } from '../db/dialect';
import type { Actor } from '../tenancy/actor';
import { scopeToActor } from '../tenancy/scope';
import type { AttributionLevel, Complaint, ComplaintStatus, DeskStatus, IntakeChannel } from './types';

export interface NewMessage {
  sha256: string;
  raw: Buffer;
  via: IntakeChannel;
  by: string;
}

export interface MessageParse {
  parseStatus: 'parsed' | 'unparsed';
  parseError: string | null;
  format: string | null;
  feedbackType: string | null;
  reportMessageId: string | null;
  reporter: string | null;
  parsed: unknown;
}

export interface StoredMessage {
  id: number;
  sha256: string;
  sizeBytes: number;
  receivedVia: IntakeChannel;
  receivedBy: string;
  receivedAt: Date;
  parseStatus: 'pending' | 'parsed' | 'unparsed';
  parseError: string | null;
  reportMessageId: string | null;
  reporter: string | null;
}

export type NewComplaint = Omit<Complaint, 'id' | 'serverName' | 'domainName' | 'accountUsername' | 'resellerUsername' | 'createdAt' | 'updatedAt' | 'deskStatus' | 'resolution' | 'escalatedAt'> & {
  /** Same original message and recipient → same key (src/complaints/dedup.ts). */
  dedupKey: string | null;
};

function mapMessage(r: Record<string, unknown>): StoredMessage {
  return {
    id: toNumber(r.id),
    sha256: String(r.sha256),
    sizeBytes: toNumber(r.size_bytes),
    receivedVia: r.received_via as IntakeChannel,
    receivedBy: String(r.received_by),
    receivedAt: fromDbTime(r.received_at),
    parseStatus: r.parse_status as StoredMessage['parseStatus'],
    parseError: stringOrNull(r.parse_error),
    reportMessageId: stringOrNull(r.report_message_id),
    reporter: stringOrNull(r.reporter),
  };
}

/** The columns of a StoredMessage (not the raw bytes nor the parse, which can be large). */
const messageColumns = ['id', 'sha256', 'size_bytes', 'received_via', 'received_by', 'received_at', 'parse_status', 'parse_error', 'report_message_id', 'reporter'];

const str = (v: unknown) => (stringOrNull(v));
const num = (v: unknown) => (numberOrNull(v));

function mapComplaint(r: Record<string, unknown>): Complaint {
  return {
    id: toNumber(r.id),
    messageId: toNumber(r.message_id),
    recipientNo: toNumber(r.recipient_no),
    recipient: str(r.recipient),
    recipientRedaction: r.recipient_redaction as Complaint['recipientRedaction'],
    format: str(r.format),
    feedbackType: str(r.feedback_type),
    isComplaint: fromDbBool(r.is_complaint),
    spamtrap: fromDbBool(r.spamtrap),
    arrivalAt: fromDbTimeOrNull(r.arrival_at),
    receivedAt: fromDbTime(r.received_at),
    sourceIp: str(r.source_ip),
    originalMessageId: str(r.original_message_id),
    originalMailFrom: str(r.original_mail_from),
    subject: str(r.subject),
    serverId: num(r.server_id),
    serverName: str(r.server_name),
    domainId: num(r.domain_id),
    domainName: str(r.domain_name),
    accountId: num(r.account_id),
    accountUsername: str(r.account_username),
    resellerAccountId: num(r.reseller_account_id),
    resellerUsername: str(r.reseller_username),
    attribution: r.attribution as AttributionLevel,
    attributionReason: str(r.attribution_reason),
    duplicateOf: num(r.duplicate_of),
    status: r.status as ComplaintStatus,
    decisionReason: str(r.decision_reason),
    decidedBy: str(r.decided_by),
    decidedAt: fromDbTimeOrNull(r.decided_at),
    evidenceDueAt: fromDbTimeOrNull(r.evidence_due_at),
    deskStatus: r.desk_status as DeskStatus,
    dueAt: fromDbTimeOrNull(r.due_at),
    escalatedAt: fromDbTimeOrNull(r.escalated_at),
    resolution: str(r.resolution),
    createdAt: fromDbTime(r.created_at),
    updatedAt: fromDbTime(r.updated_at),
  };
}

/** Joins the names the pages show to a query over `complaints as c`, and selects them with every complaint column. */
function withNames(query: Knex.QueryBuilder): Knex.QueryBuilder {
  return query
    .leftJoin('servers as s', 's.id', 'c.server_id')
    .leftJoin('domains as d', 'd.id', 'c.domain_id')
    .leftJoin('accounts as a', 'a.id', 'c.account_id')
    .leftJoin('accounts as r', 'r.id', 'c.reseller_account_id')
    .select('c.*', 's.name as server_name', 'd.name as domain_name', 'a.username as account_username', 'r.username as reseller_username');
}

/** Complaints with the names the pages show; scoped to the actor through the complaint's account. */
export function complaintQuery(db: Queryable, actor: Actor): Knex.QueryBuilder {
  return scopeToActor(db, withNames(db('complaints as c')), actor, 'c.account_id');
}

/**
 * The actor's complaints (`complaints as c`) without the names and without a select: for counts and
 * filters that read only complaint columns, which the indexes on complaints can then answer alone.
 */
export function complaintsInReach(db: Queryable, actor: Actor): Knex.QueryBuilder {
  return scopeToActor(db, db('complaints as c'), actor, 'c.account_id');
}

/**
 * The complaints whose ids `ids` selects (a query selecting `c.id`, already scoped and limited), with
 * their names, in no particular order: a page picks its ids from the indexes first and reads only its own rows.
 */
export function complaintsWithIds(db: Queryable, ids: Knex.QueryBuilder): Knex.QueryBuilder {
  return withNames(db.from(ids.as('p')).join('complaints as c', 'c.id', 'p.id'));
}

/** What the inbox listing shows of a complaint (views/complaints/inbox.ejs), and what its cursor needs. */
export type InboxRow = Pick<Complaint, 'id' | 'receivedAt' | 'accountUsername' | 'domainName' | 'status' | 'deskStatus' | 'dueAt'>;

/**
 * Like `complaintsWithIds`, with only the inbox's columns: a page of 50 complaints with every column
 * and all the names cost more to read and convert than to find (bench/complaints-inbox.ts).
 */
export function inboxRowsWithIds(db: Queryable, ids: Knex.QueryBuilder): Knex.QueryBuilder {
  return db
    .from(ids.as('p'))
    .join('complaints as c', 'c.id', 'p.id')
    .leftJoin('domains as d', 'd.id', 'c.domain_id')
    .leftJoin('accounts as a', 'a.id', 'c.account_id')
    .select('c.id', 'c.received_at', 'c.status', 'c.desk_status', 'c.due_at', 'd.name as domain_name', 'a.username as account_username');
}

function mapInboxRow(r: Record<string, unknown>): InboxRow {
  return {
    id: toNumber(r.id),
    receivedAt: fromDbTime(r.received_at),
    accountUsername: str(r.account_username),
    domainName: str(r.domain_name),
    status: r.status as ComplaintStatus,
    deskStatus: r.desk_status as DeskStatus,
    dueAt: fromDbTimeOrNull(r.due_at),
  };
}

export const complaintColumns = (c: Partial<NewComplaint>): Record<string, unknown> => {
  const out: Record<string, unknown> = {};
  const set = (column: string, value: unknown) => {
    if (value !== undefined) out[column] = value;
  };
  const t = (d: Date | null | undefined) => (d === undefined ? undefined : d === null ? null : toDbTime(d));
  set('message_id', c.messageId);
  set('recipient_no', c.recipientNo);
  set('recipient', c.recipient);
  set('recipient_redaction', c.recipientRedaction);
  set('format', c.format);
  set('feedback_type', c.feedbackType);
  set('is_complaint', c.isComplaint === undefined ? undefined : toDbBool(c.isComplaint));
  set('spamtrap', c.spamtrap === undefined ? undefined : toDbBool(c.spamtrap));
  set('arrival_at', t(c.arrivalAt));
  set('received_at', t(c.receivedAt));
  set('source_ip', c.sourceIp);
  set('original_message_id', c.originalMessageId);
  set('original_mail_from', c.originalMailFrom);
  set('subject', c.subject);
  set('server_id', c.serverId);
  set('domain_id', c.domainId);
  set('account_id', c.accountId);
  set('reseller_account_id', c.resellerAccountId);
  set('attribution', c.attribution);
  set('attribution_reason', c.attributionReason);
  set('duplicate_of', c.duplicateOf);
  set('status', c.status);
  set('decision_reason', c.decisionReason);
  set('decided_by', c.decidedBy);
  set('decided_at', t(c.decidedAt));
  set('evidence_due_at', t(c.evidenceDueAt));
  set('due_at', t(c.dueAt));
  set('dedup_key', c.dedupKey);
  return out;
};

export const complaintRepository = {
  async findMessage(db: Queryable, id: number): Promise<StoredMessage | null> {
    const row = (await db('complaint_messages').where('id', id).select(messageColumns).first()) as Record<string, unknown> | undefined;
    return row ? mapMessage(row) : null;
  },

  async rawOf(db: Queryable, id: number): Promise<Buffer | null> {
    const row = (await db('complaint_messages').where('id', id).select('raw').first()) as { raw: unknown } | undefined;
    if (!row) return null;
    return Buffer.isBuffer(row.raw) ? row.raw : Buffer.from(row.raw as Uint8Array);
  },

  async updateComplaint(db: Queryable, id: number, changes: Partial<NewComplaint> & { deskStatus?: DeskStatus; resolution?: string | null }, now: Date): Promise<void> {
    const extra: Record<string, unknown> = {};
    if (changes.deskStatus !== undefined) extra.desk_status = changes.deskStatus;
    if (changes.resolution !== undefined) extra.resolution = changes.resolution;
    await db('complaints').where('id', id).update({ ...complaintColumns(changes), ...extra, updated_at: toDbTime(now) });
  },

  async complaintsOfMessage(db: Queryable, actor: Actor, messageId: number): Promise<Complaint[]> {
    const rows = (await complaintQuery(db, actor).where('c.message_id', messageId).orderBy('c.recipient_no')) as Record<string, unknown>[];
    return rows.map(mapComplaint);
  },

  async find(db: Queryable, actor: Actor, id: number): Promise<Complaint | null> {
    const row = (await complaintQuery(db, actor).where('c.id', id).first()) as Record<string, unknown> | undefined;
    return row ? mapComplaint(row) : null;
  },

  mapComplaint,
  mapInboxRow,
};
