import crypto from 'node:crypto';
import { engineOf, fromDbJson, fromDbTime, toDbJson, toDbTime, toNumber, type Queryable } from '../db/dialect';

export interface AuditEntry {
  seq: number;
  at: Date;
  actorLogin: string;
  action: string;
  subjectType: string | null;
  subjectId: string | null;
  data: Record<string, unknown> | null;
  ip: string | null;
  hash: string;
}

export interface NewAuditEntry {
  actorUserId: number | null;
  actorLogin: string;
  action: string;
  subjectType?: string;
  subjectId?: string | number;
  data?: Record<string, unknown>;
  ip?: string | null;
}

const genesis = '0'.repeat(64);

function entryHash(prevHash: string, fields: Record<string, unknown>): string {
  return crypto.createHash('sha256').update(prevHash).update(JSON.stringify(fields)).digest('hex');
}

/** Append-only log; each row's hash covers the previous hash and the row's own fields. */
export const auditRepository = {
  async append(db: Queryable, entry: NewAuditEntry, now: Date): Promise<void> {
    const mysql = engineOf(db) === 'mysql';
    if (mysql) {
      // Appends are serialised by a record lock on the log's first row (primary-key equality, so no gap lock).
      // Locking only the tail deadlocks under concurrency: each appender's next-key lock on the gap after the
      // tail blocks the other's insert. (The very first append, on an empty log, has no row to lock.)
      const first = await db('audit_log').min({ seq: 'seq' }).first();
      if (first?.seq != null) await db('audit_log').select('seq').where('seq', first.seq).forUpdate();
    }
    const lastQuery = db('audit_log').select('hash').orderBy('seq', 'desc').first();
    // MySQL: a locking read sees the latest committed tail, so concurrent appends cannot fork the chain; SQLite has one writer already.
    const last = await (mysql ? lastQuery.forUpdate() : lastQuery);
    const prevHash = last ? String(last.hash) : genesis;
    const fields = {
      at: toDbTime(now),
      actor_user_id: entry.actorUserId,
      actor_login: entry.actorLogin,
      action: entry.action,
      subject_type: entry.subjectType ?? null,
      subject_id: entry.subjectId == null ? null : String(entry.subjectId),
      data: toDbJson(entry.data),
      ip: entry.ip ?? null,
    };
    await db('audit_log').insert({ ...fields, prev_hash: prevHash, hash: entryHash(prevHash, fields) });
  },

  async recent(db: Queryable, limit: number): Promise<AuditEntry[]> {
    const rows = (await db('audit_log').orderBy('seq', 'desc').limit(limit)) as Record<string, unknown>[];
    return rows.map((row) => ({
      seq: toNumber(row.seq),
      at: fromDbTime(row.at),
      actorLogin: String(row.actor_login),
      action: String(row.action),
      subjectType: (row.subject_type as string | null) ?? null,
      subjectId: (row.subject_id as string | null) ?? null,
      data: fromDbJson<Record<string, unknown>>(row.data),
      ip: (row.ip as string | null) ?? null,
      hash: String(row.hash),
    }));
  },
};
