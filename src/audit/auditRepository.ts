import type { Knex } from 'knex';
import { engineOf, fromDbJson, fromDbTime, LIKE_ESCAPE, numberOrNull, stringOrNull, toDbTime, toNumber, type Queryable } from '../db/dialect';
import { canonicalJson, ChainWalker, chainHash, genesisHash, type ChainBreak, type ChainLink } from '../lib/hashChain';
import { applyKeyset, finishPage, type Page, type PageRequest } from '../lib/keyset';

export interface AuditEntry {
  seq: number;
  at: Date;
  actorUserId: number | null;
  actorLogin: string;
  action: string;
  subjectType: string | null;
  subjectId: string | null;
  data: Record<string, unknown> | null;
  ip: string | null;
  prevHash: string;
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

/** Every filter narrows; `action` is a prefix ("user." matches user.create, user.login, …); `to` is exclusive. */
export interface AuditFilters {
  action?: string;
  actor?: string;
  subjectType?: string;
  subjectId?: string;
  from?: Date;
  to?: Date;
}

export interface AuditVerification {
  /** Entries examined: all of them when the chain holds, up to and including the first break otherwise. */
  checked: number;
  firstBreak: ChainBreak | null;
  /** The newest entry that checked out, to be compared with a copy kept elsewhere (the chain cannot see a cut-off tail). */
  last: { seq: number; hash: string } | null;
}

/**
 * The hashed columns of an audit row exactly as stored. The hash covers
 *   SHA-256(prev_hash + canonicalJson({ seq, at, actor_user_id, actor_login, action, subject_type, subject_id, data, ip }))
 * (src/lib/hashChain.ts, shared with the consent events). Rows written before this scheme (a plain
 * JSON.stringify of the fields without seq) do not verify; every installation so far started on this
 * scheme, so no rehashing step exists.
 */
interface AuditFields {
  seq: number;
  at: string;
  actor_user_id: number | null;
  actor_login: string;
  action: string;
  subject_type: string | null;
  subject_id: string | null;
  /** Canonical JSON text as stored (verification hashes the stored text, never a re-serialisation of it). */
  data: string | null;
  ip: string | null;
}

const str = (v: unknown): string | null => (stringOrNull(v));

function fieldsOf(row: Record<string, unknown>): AuditFields {
  return {
    seq: toNumber(row.seq),
    // mysql2 (dateStrings) and SQLite both answer the stored text; normalising keeps a driver change from breaking every hash.
    at: toDbTime(fromDbTime(row.at)),
    actor_user_id: numberOrNull(row.actor_user_id),
    actor_login: String(row.actor_login),
    action: String(row.action),
    subject_type: str(row.subject_type),
    subject_id: str(row.subject_id),
    data: str(row.data),
    ip: str(row.ip),
  };
}

function linkOf(row: Record<string, unknown>): ChainLink {
  return { seq: toNumber(row.seq), prevHash: String(row.prev_hash), hash: String(row.hash), fields: fieldsOf(row) };
}

function mapEntry(row: Record<string, unknown>): AuditEntry {
  return {
    seq: toNumber(row.seq),
    at: fromDbTime(row.at),
    actorUserId: numberOrNull(row.actor_user_id),
    actorLogin: String(row.actor_login),
    action: String(row.action),
    subjectType: str(row.subject_type),
    subjectId: str(row.subject_id),
    data: fromDbJson<Record<string, unknown>>(row.data),
    ip: str(row.ip),
    prevHash: String(row.prev_hash),
    hash: String(row.hash),
  };
}

/** `text%` with LIKE's wildcards in `text` taken literally (the escape character is LIKE_ESCAPE's "!"). */
const likePrefix = (text: string) => `${text.replace(/[!%_]/g, (c) => `!${c}`)}%`;

function filtered(db: Queryable, f: AuditFilters): Knex.QueryBuilder {
  const query = db('audit_log');
  if (f.action) query.whereRaw(`action like ? ${LIKE_ESCAPE}`, [likePrefix(f.action)]);
  if (f.actor) query.where('actor_login', f.actor);
  if (f.subjectType) query.where('subject_type', f.subjectType);
  if (f.subjectId) query.where('subject_id', f.subjectId);
  if (f.from) query.where('at', '>=', toDbTime(f.from));
  if (f.to) query.where('at', '<', toDbTime(f.to));
  return query;
}

/** Append-only log, one hash chain; each row's hash covers the previous row's hash and the row's own fields. */
export const auditRepository = {
  /** Call inside the transaction that makes the audited change: the entry commits or rolls back with it. */
  async append(db: Queryable, entry: NewAuditEntry, now: Date): Promise<void> {
    const mysql = engineOf(db) === 'mysql';
    if (mysql) {
      // Appends are serialised by a record lock on the log's first row (primary-key equality, so no gap lock).
      // Locking only the tail deadlocks under concurrency: each appender's next-key lock on the gap after the
      // tail blocks the other's insert. (The very first append, on an empty log, has no row to lock.)
      const first = await db('audit_log').min({ seq: 'seq' }).first();
      if (first?.seq != null) await db('audit_log').select('seq').where('seq', first.seq).forUpdate();
    }
    const lastQuery = db('audit_log').select('seq', 'hash').orderBy('seq', 'desc').first();
    // MySQL: a locking read sees the latest committed tail, so concurrent appends cannot fork the chain; SQLite has one writer already.
    const last = await (mysql ? lastQuery.forUpdate() : lastQuery);
    const prevHash = last ? String(last.hash) : genesisHash;
    // seq is numbered here (tail + 1), not by AUTO_INCREMENT, which leaves holes when a transaction rolls
    // back on MySQL: so the seq is hashed and a hole in it always means a deleted entry.
    const fields: AuditFields = {
      seq: last ? toNumber(last.seq) + 1 : 1,
      at: toDbTime(now),
      actor_user_id: entry.actorUserId,
      actor_login: entry.actorLogin,
      action: entry.action,
      subject_type: entry.subjectType ?? null,
      subject_id: stringOrNull(entry.subjectId),
      data: entry.data == null ? null : canonicalJson(entry.data),
      ip: entry.ip ?? null,
    };
    await db('audit_log').insert({ ...fields, prev_hash: prevHash, hash: chainHash(prevHash, fields) });
  },

  /** Newest first, keyset-paginated by seq, with the number of entries matching the filters. */
  async list(db: Queryable, filters: AuditFilters, page: PageRequest): Promise<Page<AuditEntry> & { total: number }> {
    const query = applyKeyset(filtered(db, filters), { column: 'seq', idColumn: 'seq', direction: 'desc', page });
    const result = finishPage(((await query) as Record<string, unknown>[]).map(mapEntry), page, (e) => [e.seq, e.seq]);
    const count = await filtered(db, filters).count({ n: '*' }).first();
    return { ...result, total: toNumber(count?.n ?? 0) };
  },

  /** Every entry matching the filters, newest first, `size` at a time (CSV export without the whole log in memory). */
  async *batches(db: Queryable, filters: AuditFilters, size = 1000): AsyncGenerator<AuditEntry[]> {
    let before: number | null = null;
    for (;;) {
      const query = filtered(db, filters).orderBy('seq', 'desc').limit(size);
      if (before !== null) query.where('seq', '<', before);
      const rows = ((await query) as Record<string, unknown>[]).map(mapEntry);
      if (rows.length) yield rows;
      if (rows.length < size) return;
      before = rows[rows.length - 1]!.seq;
    }
  },

  async find(db: Queryable, seq: number): Promise<AuditEntry | null> {
    const row = (await db('audit_log').where('seq', seq).first()) as Record<string, unknown> | undefined;
    return row ? mapEntry(row) : null;
  },

  /** One entry on its own: does its hash match its stored fields, and does its prev_hash match the entry before it? */
  async check(db: Queryable, seq: number): Promise<{ entry: AuditEntry; hashMatches: boolean; linkMatches: boolean } | null> {
    const row = (await db('audit_log').where('seq', seq).first()) as Record<string, unknown> | undefined;
    if (!row) return null;
    const link = linkOf(row);
    const previous = seq > 1 ? ((await db('audit_log').where('seq', seq - 1).select('hash').first()) as { hash: string } | undefined) : { hash: genesisHash };
    return { entry: mapEntry(row), hashMatches: chainHash(link.prevHash, link.fields) === link.hash, linkMatches: previous !== undefined && String(previous.hash) === link.prevHash };
  },

  /** Walks the whole chain from seq 1, `batchSize` rows at a time, and stops at the first entry that does not check out. */
  async verify(db: Queryable, batchSize = 1000): Promise<AuditVerification> {
    const walker = new ChainWalker('entry', 'entries');
    let last: AuditVerification['last'] = null;
    let after = 0;
    for (;;) {
      const rows = (await db('audit_log').where('seq', '>', after).orderBy('seq', 'asc').limit(batchSize)) as Record<string, unknown>[];
      for (const row of rows) {
        const link = linkOf(row);
        const firstBreak = walker.step(link);
        if (firstBreak) return { checked: walker.checked, firstBreak, last };
        last = { seq: link.seq, hash: link.hash };
      }
      if (rows.length < batchSize) return { checked: walker.checked, firstBreak: null, last };
      after = toNumber(rows[rows.length - 1]!.seq);
    }
  },

  /** The distinct actions and subject types recorded so far (suggestions for the filter fields). */
  async vocabulary(db: Queryable): Promise<{ actions: string[]; subjectTypes: string[] }> {
    const actions = (await db('audit_log').distinct('action').orderBy('action')) as Array<{ action: string }>;
    const types = (await db('audit_log').distinct('subject_type').whereNotNull('subject_type').orderBy('subject_type')) as Array<{ subject_type: string }>;
    return { actions: actions.map((r) => String(r.action)), subjectTypes: types.map((r) => String(r.subject_type)) };
  },

  async recent(db: Queryable, limit: number): Promise<AuditEntry[]> {
    const rows = (await db('audit_log').orderBy('seq', 'desc').limit(limit)) as Record<string, unknown>[];
    return rows.map(mapEntry);
  },
};
