import type { Knex } from 'knex';
import { fromDbJson, fromDbTime, fromDbTimeOrNull, insertedId, stringOrNull, toDbTime, toNumber, type Queryable } from '../../db/dialect';
import type { Actor } from '../../tenancy/actor';
import { scopeToActor } from '../../tenancy/scope';
import type { ConsentStatus, RecordValues } from '../types';
import type { ColumnMapping, ConsentImport, ImportMode, ImportOptions, ImportReject, ImportState, ImportStatus, StoredOptions } from './types';

/** knex only: consent_imports, consent_import_rejects, and the bulk record insert of an import. */

const time = (d: Date | null) => (d ? toDbTime(d) : null);

function mapImport(row: Record<string, unknown>): ConsentImport {
  const stored = fromDbJson<StoredOptions>(row.options) ?? { hasHeader: true, delimiter: ',', defaultMethod: 'import', sendConfirmations: false };
  const { state, ...options } = stored;
  return {
    id: toNumber(row.id),
    accountId: toNumber(row.account_id),
    listId: toNumber(row.list_id),
    listName: String(row.list_name ?? ''),
    createdBy: String(row.created_by),
    filename: String(row.filename),
    filePath: String(row.file_path),
    fileBytes: toNumber(row.file_bytes),
    fileSha256: String(row.file_sha256),
    mode: row.mode as ImportMode,
    mapping: fromDbJson<ColumnMapping>(row.mapping) ?? [],
    options: options as ImportOptions,
    state: state ?? {},
    status: row.status as ImportStatus,
    phase: stringOrNull(row.phase),
    linesDone: toNumber(row.lines_done),
    bytesDone: toNumber(row.bytes_done),
    rowsImported: toNumber(row.rows_imported),
    rowsConfirmed: toNumber(row.rows_confirmed),
    rowsPending: toNumber(row.rows_pending),
    rowsRejected: toNumber(row.rows_rejected),
    error: stringOrNull(row.error),
    leaseHolder: stringOrNull(row.lease_holder),
    heartbeatAt: fromDbTimeOrNull(row.heartbeat_at),
    startedAt: fromDbTimeOrNull(row.started_at),
    finishedAt: fromDbTimeOrNull(row.finished_at),
    createdAt: fromDbTime(row.created_at),
    updatedAt: fromDbTime(row.updated_at),
  };
}

function importQuery(db: Queryable, actor: Actor): Knex.QueryBuilder {
  const query = db('consent_imports as i').join('consent_lists as l', 'l.id', 'i.list_id').select('i.*', 'l.name as list_name');
  return scopeToActor(db, query, actor, 'i.account_id');
}

/** What a new import row is given; ConsentImport's other fields (id, status, progress, times) follow later. */
export type NewImport = Pick<ConsentImport, 'accountId' | 'listId' | 'createdBy' | 'filename' | 'filePath' | 'fileBytes' | 'fileSha256' | 'mode' | 'mapping' | 'options'>;

/** Progress written with each committed batch (counters are totals, not increments). */
export interface ImportProgress {
  linesDone: number;
  bytesDone: number;
  rowsImported?: number;
  rowsConfirmed?: number;
  rowsPending?: number;
  rowsRejected?: number;
}

/** Columns of consent_records written by an import, in this order. */
const recordColumns = [
  'list_id',
  'email',
  'status',
  'method',
  'source',
  'consent_text_version',
  'ip',
  'user_agent',
  'consented_at',
  'confirmed_at',
  'confirmed_ip',
  'revoked_at',
  'revoked_how',
  'import_event_id',
  'created_at',
  'updated_at',
] as const;

export interface ImportedRecord extends RecordValues {
  email: string;
  /** The records_imported chain event that lists the record (null: none, as in the bench's baseline). */
  importEventId?: number | null;
  /** consentedAt and confirmedAt as stored (toDbTime), when the caller already has them (the Date fields are then not read). */
  consentedAtText?: string | null;
  confirmedAtText?: string | null;
}

/** Rows per INSERT statement: 16 columns × 1000 stays far below SQLite's 32766 variables and MySQL's packet size. */
export const recordsPerStatement = 1000;

export const importRepository = {
  async insert(db: Queryable, imp: NewImport, now: Date): Promise<number> {
    const at = toDbTime(now);
    return insertedId(
      await db('consent_imports').insert({
        account_id: imp.accountId,
        list_id: imp.listId,
        created_by: imp.createdBy,
        filename: imp.filename,
        file_path: imp.filePath,
        file_bytes: imp.fileBytes,
        file_sha256: imp.fileSha256,
        mode: imp.mode,
        mapping: JSON.stringify(imp.mapping),
        options: JSON.stringify(imp.options),
        status: 'uploaded',
        created_at: at,
        updated_at: at,
      }),
    );
  },

  async find(db: Queryable, actor: Actor, id: number): Promise<ConsentImport | null> {
    const row = await importQuery(db, actor).where('i.id', id).first();
    return row ? mapImport(row as Record<string, unknown>) : null;
  },

  async forList(db: Queryable, actor: Actor, listId: number, limit = 20): Promise<ConsentImport[]> {
    const rows = (await importQuery(db, actor).where('i.list_id', listId).orderBy('i.id', 'desc').limit(limit)) as Record<string, unknown>[];
    return rows.map(mapImport);
  },

  /** Confirms the mapping of an uploaded import and queues it; false when it is no longer `uploaded`. */
  async queue(db: Queryable, id: number, change: { mode: ImportMode; mapping: ColumnMapping; options: StoredOptions }, now: Date): Promise<boolean> {
    const n = await db('consent_imports')
      .where({ id, status: 'uploaded' })
      .update({ mode: change.mode, mapping: JSON.stringify(change.mapping), options: JSON.stringify(change.options), status: 'queued', updated_at: toDbTime(now) });
    return toNumber(n) === 1;
  },

  /** Sets `status` when the current one is among `from`; false when it was not. */
  async transition(db: Queryable, id: number, from: readonly ImportStatus[], to: ImportStatus, now: Date, extra: Record<string, unknown> = {}): Promise<boolean> {
    const n = await db('consent_imports')
      .where('id', id)
      .whereIn('status', from as ImportStatus[])
      .update({ status: to, updated_at: toDbTime(now), ...extra });
    return toNumber(n) === 1;
  },

  /** Ids worth trying to take: queued or running, with no heartbeat or one older than `staleBefore` (a crashed worker). Oldest first, one per list. */
  async candidates(db: Queryable, staleBefore: Date, limit = 10): Promise<number[]> {
    const rows = (await db('consent_imports as i')
      .whereIn('i.status', ['queued', 'validating', 'importing'])
      .andWhere((h) => h.whereNull('i.heartbeat_at').orWhere('i.heartbeat_at', '<', toDbTime(staleBefore)))
      // Imports of one list run one at a time, in order: each checks the list against what the earlier one stored.
      .whereNotExists(db('consent_imports as o').select('o.id').whereRaw('o.list_id = i.list_id and o.id < i.id').whereIn('o.status', ['queued', 'validating', 'importing']))
      .orderBy('i.id', 'asc')
      .limit(limit)
      .select('i.id')) as Array<{ id: unknown }>;
    return rows.map((r) => toNumber(r.id));
  },

  /**
   * Takes the lease of one import with a conditional UPDATE, so one worker of the fleet runs it.
   * Returns the import's status before it was taken (queued, or the phase a crashed worker left), or null when another worker won.
   */
  async take(db: Queryable, id: number, holder: string, now: Date, staleBefore: Date): Promise<ImportStatus | null> {
    const row = (await db('consent_imports').where('id', id).select('status').first()) as { status: ImportStatus } | undefined;
    if (!row || !['queued', 'validating', 'importing'].includes(row.status)) return null;
    const at = toDbTime(now);
    // The heartbeat condition makes a second taker lose: the winner has just set heartbeat_at to now.
    const n = await db('consent_imports')
      .where({ id, status: row.status })
      .andWhere((h) => h.whereNull('heartbeat_at').orWhere('heartbeat_at', '<', toDbTime(staleBefore)))
      .update({ lease_holder: holder, heartbeat_at: at, updated_at: at });
    return toNumber(n) === 1 ? row.status : null;
  },

  async get(db: Queryable, id: number): Promise<ConsentImport | null> {
    const row = await importQuery(db, { userId: null, login: 'system', role: 'admin', accountId: null }).where('i.id', id).first();
    return row ? mapImport(row as Record<string, unknown>) : null;
  },

  /** Writes progress (and anything in `extra`) if this worker still holds the lease and the status is `status`; false otherwise (cancelled, or taken over). */
  async progress(db: Queryable, id: number, holder: string, status: ImportStatus, p: ImportProgress, now: Date, extra: Record<string, unknown> = {}): Promise<boolean> {
    const at = toDbTime(now);
    const n = await db('consent_imports')
      .where({ id, lease_holder: holder, status })
      .update({
        lines_done: p.linesDone,
        bytes_done: p.bytesDone,
        ...(p.rowsImported !== undefined ? { rows_imported: p.rowsImported } : {}),
        ...(p.rowsConfirmed !== undefined ? { rows_confirmed: p.rowsConfirmed } : {}),
        ...(p.rowsPending !== undefined ? { rows_pending: p.rowsPending } : {}),
        ...(p.rowsRejected !== undefined ? { rows_rejected: p.rowsRejected } : {}),
        heartbeat_at: at,
        updated_at: at,
        ...extra,
      });
    return toNumber(n) === 1;
  },

  async heartbeat(db: Queryable, id: number, holder: string, now: Date): Promise<boolean> {
    const at = toDbTime(now);
    const n = await db('consent_imports').where({ id, lease_holder: holder }).whereIn('status', ['validating', 'importing']).update({ heartbeat_at: at });
    return toNumber(n) === 1;
  },

  /** Moves the import on (a phase change or its end) if this worker holds the lease. */
  async advance(db: Queryable, id: number, holder: string, from: ImportStatus, to: ImportStatus, now: Date, extra: Record<string, unknown> = {}): Promise<boolean> {
    const at = toDbTime(now);
    const final = ['done', 'rejected', 'failed', 'cancelled'].includes(to);
    const n = await db('consent_imports')
      .where({ id, lease_holder: holder, status: from })
      .update({ status: to, updated_at: at, heartbeat_at: at, ...(final ? { finished_at: at, lease_holder: null } : {}), ...extra });
    return toNumber(n) === 1;
  },

  async setState(db: Queryable, id: number, options: ImportOptions, state: ImportState, now: Date): Promise<void> {
    await db('consent_imports').where('id', id).update({ options: JSON.stringify({ ...options, state }), updated_at: toDbTime(now) });
  },

  async insertRejects(db: Queryable, importId: number, rejects: ImportReject[]): Promise<void> {
    for (let i = 0; i < rejects.length; i += 500) {
      await db('consent_import_rejects').insert(
        rejects.slice(i, i + 500).map((r) => ({ import_id: importId, line: r.line, email: r.email && r.email.length <= 254 ? r.email : null, reason: r.reason.slice(0, 500), raw: r.raw === null ? null : r.raw.slice(0, 1000) })),
      );
    }
  },

  async deleteRejects(db: Queryable, importId: number): Promise<void> {
    await db('consent_import_rejects').where('import_id', importId).delete();
  },

  /** Rejects in line order, after (line, id) `after`, for the streamed report. */
  async rejects(db: Queryable, importId: number, limit: number, after?: { line: number; id: number }): Promise<Array<ImportReject & { id: number }>> {
    const query = db('consent_import_rejects').where('import_id', importId);
    if (after) query.andWhere((w) => w.where('line', '>', after.line).orWhere((e) => e.where('line', after.line).andWhere('id', '>', after.id)));
    const rows = (await query.orderBy('line', 'asc').orderBy('id', 'asc').limit(limit)) as Array<Record<string, unknown>>;
    return rows.map((r) => ({ id: toNumber(r.id), line: toNumber(r.line), email: stringOrNull(r.email), reason: String(r.reason), raw: stringOrNull(r.raw) }));
  },

  /** Which of `emails` (normalised) already have a record in the list, with their status. */
  async existing(db: Queryable, listId: number, emails: string[]): Promise<Map<string, ConsentStatus>> {
    const out = new Map<string, ConsentStatus>();
    for (let i = 0; i < emails.length; i += 5000) {
      const rows = (await db('consent_records').where('list_id', listId).whereIn('email', emails.slice(i, i + 5000)).select('email', 'status')) as Array<{ email: string; status: ConsentStatus }>;
      for (const r of rows) out.set(r.email, r.status);
    }
    return out;
  },

  /** The account's last consent chain seq (0 when it has no event). */
  async lastSeq(db: Queryable, accountId: number): Promise<number> {
    const row = (await db('consent_events').where('account_id', accountId).orderBy('seq', 'desc').select('seq').first()) as { seq: unknown } | undefined;
    return row ? toNumber(row.seq) : 0;
  },

  /** Whether an event other than a records_imported one touched the list after chain seq `afterSeq`. */
  async listChanged(db: Queryable, accountId: number, listId: number, afterSeq: number): Promise<boolean> {
    const row = await db('consent_events').where('account_id', accountId).where('seq', '>', afterSeq).where('list_id', listId).whereNot('type', 'records_imported').select('id').first();
    return !!row;
  },

  async listHasRecords(db: Queryable, listId: number): Promise<boolean> {
    return !!(await db('consent_records').where('list_id', listId).select('id').first());
  },

  /** Multi-row INSERTs of imported records (one statement per `recordsPerStatement` rows). */
  async insertRecords(db: Queryable, listId: number, records: ImportedRecord[], now: Date): Promise<void> {
    const at = toDbTime(now);
    const row = `(${recordColumns.map(() => '?').join(',')})`;
    for (let i = 0; i < records.length; i += recordsPerStatement) {
      const chunk = records.slice(i, i + recordsPerStatement);
      const bindings: unknown[] = [];
      for (const r of chunk) {
        const consentedAt = r.consentedAtText !== undefined ? r.consentedAtText : time(r.consentedAt);
        const confirmedAt = r.confirmedAtText !== undefined ? r.confirmedAtText : r.confirmedAt === r.consentedAt ? consentedAt : time(r.confirmedAt);
        bindings.push(listId, r.email, r.status, r.method, r.source, r.consentTextVersion, r.ip, r.userAgent, consentedAt, confirmedAt, r.confirmedIp, time(r.revokedAt), r.revokedHow, r.importEventId ?? null, at, at);
      }
      await db.raw(`insert into consent_records (${recordColumns.join(',')}) values ${Array(chunk.length).fill(row).join(',')}`, bindings as Knex.RawBinding[]);
    }
  },

  async maxEventId(db: Queryable): Promise<number> {
    const row = (await db('consent_events').max({ m: 'id' }).first()) as { m: unknown } | undefined;
    return row?.m === null || row?.m === undefined ? 0 : toNumber(row.m);
  },

  /** Ids of the list's pending records written by import events above `eventsAfter`. */
  async pendingImported(db: Queryable, listId: number, eventsAfter: number): Promise<number[]> {
    const rows = (await db('consent_records').where({ list_id: listId, status: 'pending' }).where('import_event_id', '>', eventsAfter).orderBy('id').select('id')) as Array<{ id: unknown }>;
    return rows.map((r) => toNumber(r.id));
  },
};
