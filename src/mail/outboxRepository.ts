import { fromDbJson, fromDbTime, fromDbTimeOrNull, insertedId, LIKE_ESCAPE, likePattern, numberOrNull, stringOrNull, toDbTime, toNumber, type Queryable } from '../db/dialect';
import { applyKeyset, finishPage, type Page, type PageRequest } from '../lib/keyset';

export const mailStatuses = ['queued', 'sent', 'failed', 'captured'] as const;
export type MailStatus = (typeof mailStatuses)[number];

/** What the app sends; each kind has its own wording and audience. */
export const mailKinds = ['optin_confirmation', 'complaint_forward', 'complaint_escalation', 'enforcement_notice', 'postmaster_verification'] as const;
export type MailKind = (typeof mailKinds)[number];

export interface MailRecord {
  id: number;
  accountId: number | null;
  kind: MailKind;
  to: string;
  from: string;
  subject: string;
  text: string;
  headers: Record<string, string>;
  transport: 'smtp' | 'capture';
  status: MailStatus;
  response: string | null;
  error: string | null;
  createdAt: Date;
  sentAt: Date | null;
}

export interface MailFilters {
  kind?: MailKind;
  status?: MailStatus;
  /** Part of the recipient address or subject. */
  q?: string;
}

function mapMail(r: Record<string, unknown>): MailRecord {
  return {
    id: toNumber(r.id),
    accountId: numberOrNull(r.account_id),
    kind: r.kind as MailKind,
    to: String(r.to_address),
    from: String(r.from_address),
    subject: String(r.subject),
    text: String(r.text_body),
    headers: fromDbJson<Record<string, string>>(r.headers) ?? {},
    transport: r.transport as MailRecord['transport'],
    status: r.status as MailStatus,
    response: stringOrNull(r.response),
    error: stringOrNull(r.error),
    createdAt: fromDbTime(r.created_at),
    sentAt: fromDbTimeOrNull(r.sent_at),
  };
}

/** The mail_outbox table: every message the app sends or captures, with the transport's answer. */
export const outboxRepository = {
  async insert(db: Queryable, mail: Omit<MailRecord, 'id' | 'sentAt' | 'response' | 'error' | 'createdAt'>, now: Date): Promise<number> {
    const result = await db('mail_outbox').insert({
      account_id: mail.accountId,
      kind: mail.kind,
      to_address: mail.to,
      from_address: mail.from,
      subject: mail.subject,
      text_body: mail.text,
      headers: Object.keys(mail.headers).length ? JSON.stringify(mail.headers) : null,
      transport: mail.transport,
      status: mail.status,
      created_at: toDbTime(now),
    });
    return insertedId(result);
  },

  async finish(db: Queryable, id: number, outcome: { status: MailStatus; response?: string | null; error?: string | null }, now: Date): Promise<void> {
    await db('mail_outbox')
      .where('id', id)
      .update({ status: outcome.status, response: outcome.response ?? null, error: outcome.error ?? null, sent_at: outcome.status === 'sent' ? toDbTime(now) : null });
  },

  async find(db: Queryable, id: number): Promise<MailRecord | null> {
    const row = (await db('mail_outbox').where('id', id).first()) as Record<string, unknown> | undefined;
    return row ? mapMail(row) : null;
  },

  async list(db: Queryable, filters: MailFilters, page: PageRequest): Promise<Page<MailRecord>> {
    const query = db('mail_outbox').select('*');
    if (filters.kind) query.where('kind', filters.kind);
    if (filters.status) query.where('status', filters.status);
    if (filters.q) {
      const pattern = likePattern(filters.q.toLowerCase());
      query.where((w) => w.whereRaw(`lower(to_address) like ? ${LIKE_ESCAPE}`, [pattern]).orWhereRaw(`lower(subject) like ? ${LIKE_ESCAPE}`, [pattern]));
    }
    const rows = (await applyKeyset(query, { column: 'id', idColumn: 'id', direction: 'desc', page })) as Record<string, unknown>[];
    return finishPage(rows.map(mapMail), page, (m) => [m.id, m.id]);
  },

  /** Messages of one kind to one address since a time: the rate limit of public forms. */
  async countRecent(db: Queryable, kind: MailKind, to: string, since: Date): Promise<number> {
    const row = await db('mail_outbox').where({ kind, to_address: to }).andWhere('created_at', '>', toDbTime(since)).count({ n: '*' }).first();
    return toNumber(row?.n ?? 0);
  },
};
