import { fromDbTime, fromDbTimeOrNull, insertedId, numberOrNull, stringOrNull, toDbTime, toNumber, type Queryable } from '../../db/dialect';

export const confirmationStatuses = ['sent', 'confirmed', 'expired', 'superseded'] as const;
export type ConfirmationStatus = (typeof confirmationStatuses)[number];

/** One double opt-in request: the link mailed to the address, and what became of it. */
export interface Confirmation {
  id: number;
  recordId: number;
  listId: number;
  status: ConfirmationStatus;
  /** The consent text version shown on the form when the request was made. */
  textVersion: number;
  source: string | null;
  requestedIp: string | null;
  requestedUserAgent: string | null;
  requestedAt: Date;
  expiresAt: Date;
  mailId: number | null;
  mailStatus: string | null;
  confirmedAt: Date | null;
  confirmedIp: string | null;
}

export interface NewConfirmation {
  recordId: number;
  listId: number;
  textVersion: number;
  source: string | null;
  requestedIp: string | null;
  requestedUserAgent: string | null;
  expiresAt: Date;
}

function mapConfirmation(r: Record<string, unknown>): Confirmation {
  return {
    id: toNumber(r.id),
    recordId: toNumber(r.record_id),
    listId: toNumber(r.list_id),
    status: r.status as ConfirmationStatus,
    textVersion: toNumber(r.text_version),
    source: stringOrNull(r.source),
    requestedIp: stringOrNull(r.requested_ip),
    requestedUserAgent: stringOrNull(r.requested_user_agent),
    requestedAt: fromDbTime(r.requested_at),
    expiresAt: fromDbTime(r.expires_at),
    mailId: numberOrNull(r.mail_id),
    mailStatus: stringOrNull(r.mail_status),
    confirmedAt: fromDbTimeOrNull(r.confirmed_at),
    confirmedIp: stringOrNull(r.confirmed_ip),
  };
}

const withMail = (db: Queryable) => db('consent_confirmations as c').leftJoin('mail_outbox as m', 'm.id', 'c.mail_id').select('c.*', 'm.status as mail_status');

/** consent_confirmations: double opt-in requests. Callers scope by record or list they already checked. */
export const confirmationRepository = {
  /** Inserts a request and marks the record's earlier open requests superseded. */
  async insert(db: Queryable, c: NewConfirmation, now: Date): Promise<number> {
    await db('consent_confirmations').where({ record_id: c.recordId, status: 'sent' }).update({ status: 'superseded' });
    const result = await db('consent_confirmations').insert({
      record_id: c.recordId,
      list_id: c.listId,
      status: 'sent',
      text_version: c.textVersion,
      source: c.source,
      requested_ip: c.requestedIp,
      requested_user_agent: c.requestedUserAgent,
      requested_at: toDbTime(now),
      expires_at: toDbTime(c.expiresAt),
    });
    return insertedId(result);
  },

  async setMail(db: Queryable, id: number, mailId: number): Promise<void> {
    await db('consent_confirmations').where('id', id).update({ mail_id: mailId });
  },

  async find(db: Queryable, id: number): Promise<Confirmation | null> {
    const row = (await withMail(db).where('c.id', id).first()) as Record<string, unknown> | undefined;
    return row ? mapConfirmation(row) : null;
  },

  async ofRecord(db: Queryable, recordId: number): Promise<Confirmation[]> {
    const rows = (await withMail(db).where('c.record_id', recordId).orderBy('c.id', 'desc')) as Record<string, unknown>[];
    return rows.map(mapConfirmation);
  },

  /** Marks this request confirmed and every other open request of the record superseded. */
  async markConfirmed(db: Queryable, c: Confirmation, ip: string | null, now: Date): Promise<void> {
    await db('consent_confirmations').where({ record_id: c.recordId, status: 'sent' }).whereNot('id', c.id).update({ status: 'superseded' });
    await db('consent_confirmations').where('id', c.id).update({ status: 'confirmed', confirmed_at: toDbTime(now), confirmed_ip: ip });
  },

  /** Open requests (sent or superseded) whose link has expired, oldest first. */
  async due(db: Queryable, now: Date, limit: number): Promise<Confirmation[]> {
    const rows = (await withMail(db).whereIn('c.status', ['sent', 'superseded']).andWhere('c.expires_at', '<=', toDbTime(now)).orderBy('c.id', 'asc').limit(limit)) as Record<string, unknown>[];
    return rows.map(mapConfirmation);
  },

  async markExpired(db: Queryable, ids: number[]): Promise<void> {
    if (ids.length) await db('consent_confirmations').whereIn('id', ids).whereIn('status', ['sent', 'superseded']).update({ status: 'expired' });
  },
};
