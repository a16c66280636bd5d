import { updateEachById } from '../db/bulk';
import { engineOf, fromDbTime, insertedId, toDbTime, toNumber, type Queryable } from '../db/dialect';
import { chunksOf } from '../lib/chunks';
import { complaintColumns, type MessageParse, type NewComplaint, type NewMessage } from './complaintRepository';

export interface StoredRaw {
  id: number;
  parseStatus: 'pending' | 'parsed' | 'unparsed';
  receivedAt: Date;
}

/** Rows per multi-row insert of raw messages, and their bytes (the SQL text carries them: packet limits). */
const rawsPerInsert = 200;
const rawBytesPerInsert = 4 * 1024 * 1024;

const parseColumns = ['parse_status', 'parse_error', 'format', 'feedback_type', 'report_message_id', 'reporter', 'parsed'];

/** A complaint's place: its message and recipient number (unique). */
export const complaintPlace = (messageId: number, recipientNo: number) => `${messageId}:${recipientNo}`;

/**
 * The intake's writes, each for many messages at once: raw messages stored before parsing, parses
 * saved (which claims a message), complaints inserted, and the first complaints new ones may duplicate.
 */
export const intakeRepository = {
  /** The stored messages with these SHA-256 digests: sha256 → message. */
  async messagesBySha(db: Queryable, digests: readonly string[]): Promise<Map<string, StoredRaw>> {
    const found = new Map<string, StoredRaw>();
    for (const part of chunksOf([...new Set(digests)], 500)) {
      const rows = (await db('complaint_messages').whereIn('sha256', part).select('id', 'sha256', 'parse_status', 'received_at')) as Array<Record<string, unknown>>;
      for (const r of rows) found.set(String(r.sha256), { id: toNumber(r.id), parseStatus: r.parse_status as StoredRaw['parseStatus'], receivedAt: fromDbTime(r.received_at) });
    }
    return found;
  },

  /**
   * Stores raw messages as `pending` (each statement commits on its own: the bytes are kept before
   * anything is parsed). Bytes already stored, also by a concurrent request, are skipped.
   */
  async storeRaws(db: Queryable, messages: readonly NewMessage[], now: Date): Promise<void> {
    const at = toDbTime(now);
    let batch: Array<Record<string, unknown>> = [];
    let bytes = 0;
    const flush = async () => {
      if (batch.length) await db('complaint_messages').insert(batch).onConflict('sha256').ignore();
      batch = [];
      bytes = 0;
    };
    for (const m of messages) {
      if (batch.length >= rawsPerInsert || (batch.length && bytes + m.raw.length > rawBytesPerInsert)) await flush();
      batch.push({ sha256: m.sha256, size_bytes: m.raw.length, raw: m.raw, received_via: m.via, received_by: m.by.slice(0, 64), received_at: at, parse_status: 'pending' });
      bytes += m.raw.length;
    }
    await flush();
  },

  /**
   * Saves the parses of messages still `pending`, which claims them, and returns the ids claimed.
   * A message already processed (by another request or worker) is left as it is and not returned.
   */
  async claimWithParses(db: Queryable, parses: ReadonlyMap<number, MessageParse>): Promise<Set<number>> {
    const claimed = new Set<number>();
    for (const part of chunksOf([...parses.keys()], 200)) {
      const query = db('complaint_messages').whereIn('id', part).where('parse_status', 'pending').select('id');
      // MySQL: lock them until commit, so a concurrent processor waits and then finds them processed.
      if (engineOf(db) === 'mysql') query.forUpdate();
      const ids = ((await query) as Array<{ id: unknown }>).map((r) => toNumber(r.id));
      await updateEachById(
        db,
        'complaint_messages',
        parseColumns,
        ids.map((id) => ({ id, values: parseValues(parses.get(id)!) })),
      );
      for (const id of ids) claimed.add(id);
    }
    return claimed;
  },

  /** Inserts complaints (several statements for many) and returns their ids by place (complaintPlace). */
  async insertComplaints(db: Queryable, complaints: readonly NewComplaint[], now: Date): Promise<Map<string, number>> {
    const at = toDbTime(now);
    const ids = new Map<string, number>();
    if (complaints.length === 1) {
      const c = complaints[0]!;
      ids.set(complaintPlace(c.messageId, c.recipientNo), insertedId(await db('complaints').insert({ ...complaintColumns(c), desk_status: 'new', created_at: at, updated_at: at })));
      return ids;
    }
    for (const part of chunksOf(complaints, 100)) await db('complaints').insert(part.map((c) => ({ ...complaintColumns(c), desk_status: 'new', created_at: at, updated_at: at })));
    const wanted = new Set(complaints.map((c) => complaintPlace(c.messageId, c.recipientNo)));
    for (const part of chunksOf([...new Set(complaints.map((c) => c.messageId))], 500)) {
      const rows = (await db('complaints').whereIn('message_id', part).select('id', 'message_id', 'recipient_no')) as Array<Record<string, unknown>>;
      for (const r of rows) {
        const place = complaintPlace(toNumber(r.message_id), toNumber(r.recipient_no));
        if (wanted.has(place)) ids.set(place, toNumber(r.id));
      }
    }
    return ids;
  },

  /** The first complaint (not itself a duplicate) with each of these dedup keys: key → id. */
  async firstsByKey(db: Queryable, keys: readonly string[]): Promise<Map<string, number>> {
    const found = new Map<string, number>();
    for (const part of chunksOf([...new Set(keys)], 500)) {
      const rows = (await db('complaints').whereIn('dedup_key', part).whereNull('duplicate_of').groupBy('dedup_key').select('dedup_key').min({ id: 'id' })) as Array<{ dedup_key: unknown; id: unknown }>;
      for (const r of rows) found.set(String(r.dedup_key), toNumber(r.id));
    }
    return found;
  },

  /**
   * The first complaint (not itself a duplicate) at each recipient position of messages carrying these
   * report Message-IDs: `lower(report id)\nrecipientNo` → id.
   */
  async firstsByReport(db: Queryable, reportMessageIds: readonly string[]): Promise<Map<string, number>> {
    const found = new Map<string, number>();
    for (const part of chunksOf([...new Set(reportMessageIds)], 500)) {
      const rows = (await db('complaints as c')
        .join('complaint_messages as m', 'm.id', 'c.message_id')
        .whereIn('m.report_message_id', part)
        .whereNull('c.duplicate_of')
        .groupBy('m.report_message_id', 'c.recipient_no')
        .select('m.report_message_id', 'c.recipient_no')
        .min({ id: 'c.id' })) as Array<{ report_message_id: unknown; recipient_no: unknown; id: unknown }>;
      for (const r of rows) {
        const key = reportPositionKey(String(r.report_message_id), toNumber(r.recipient_no));
        const id = toNumber(r.id);
        if (!found.has(key) || found.get(key)! > id) found.set(key, id);
      }
    }
    return found;
  },

  /** Messages stored but not processed (the process stopped in between), oldest first. */
  async pendingRaws(db: Queryable, receivedBefore: Date, limit: number): Promise<Array<StoredRaw & { raw: Buffer }>> {
    const rows = (await db('complaint_messages').where('parse_status', 'pending').andWhere('received_at', '<', toDbTime(receivedBefore)).orderBy('id').limit(limit).select('id', 'raw', 'parse_status', 'received_at')) as Array<Record<string, unknown>>;
    return rows.map((r) => ({ id: toNumber(r.id), parseStatus: 'pending', receivedAt: fromDbTime(r.received_at), raw: Buffer.isBuffer(r.raw) ? r.raw : Buffer.from(r.raw as Uint8Array) }));
  },
};

/** Report Message-IDs compare without case (MySQL's collation does; SQLite's would not). */
export const reportPositionKey = (reportMessageId: string, recipientNo: number) => `${reportMessageId.toLowerCase()}\n${recipientNo}`;

function parseValues(p: MessageParse): Record<string, unknown> {
  return {
    parse_status: p.parseStatus,
    parse_error: p.parseError?.slice(0, 500) ?? null,
    format: p.format,
    feedback_type: p.feedbackType,
    report_message_id: p.reportMessageId?.slice(0, 255) ?? null,
    reporter: p.reporter?.slice(0, 255) ?? null,
    parsed: p.parsed === null ? null : JSON.stringify(p.parsed),
  };
}
