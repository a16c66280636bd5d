import crypto from 'node:crypto';

/**
 * The per-account consent hash chain. Each event's hash is
 *   SHA-256(prev_hash + canonicalJson(fields))
 * where `fields` are the stored columns below (account_id, seq, record_id, list_id, type, at, actor, data)
 * and canonicalJson sorts object keys at every level. The first event of an account has prev_hash = 64 zeros.
 */
export const genesisHash = '0'.repeat(64);

export interface ChainFields {
  account_id: number;
  seq: number;
  record_id: number | null;
  list_id: number;
  type: string;
  /** As stored: "YYYY-MM-DD HH:MM:SS.mmm" UTC. */
  at: string;
  actor: string;
  /** As stored: canonical JSON text, or null. */
  data: string | null;
}

/** JSON with object keys sorted at every level; arrays keep their order. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  // Plain loops (no intermediate arrays): a CSV import hashes events listing hundreds of records.
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i ? ',' : '') + canonicalJson(value[i]);
    return `${out}]`;
  }
  const obj = value as Record<string, unknown>;
  // The default sort compares UTF-16 code units, as `a < b` does.
  const keys = Object.keys(obj).sort();
  let out = '{';
  for (const k of keys) {
    const v = obj[k];
    if (v === undefined) continue;
    out += (out.length > 1 ? ',' : '') + JSON.stringify(k) + ':' + canonicalJson(v);
  }
  return `${out}}`;
}

export function eventHash(prevHash: string, fields: ChainFields): string {
  return crypto.createHash('sha256').update(prevHash).update(canonicalJson(fields)).digest('hex');
}

export interface StoredEvent extends ChainFields {
  id: number;
  prev_hash: string;
  hash: string;
}

export interface ChainBreak {
  accountId: number;
  seq: number;
  eventId: number;
  reason: string;
}

/** Checks one account's events (in seq order); returns the first break, or null when the chain holds. */
export function verifyEvents(accountId: number, events: StoredEvent[]): ChainBreak | null {
  let prev = genesisHash;
  let expectedSeq = 1;
  for (const e of events) {
    const at = (reason: string): ChainBreak => ({ accountId, seq: e.seq, eventId: e.id, reason });
    if (e.seq !== expectedSeq) return at(`sequence gap: expected seq ${expectedSeq}`);
    if (e.prev_hash !== prev) return at('prev_hash does not match the previous event\'s hash');
    const fields: ChainFields = {
      account_id: e.account_id,
      seq: e.seq,
      record_id: e.record_id,
      list_id: e.list_id,
      type: e.type,
      at: e.at,
      actor: e.actor,
      data: e.data,
    };
    if (eventHash(prev, fields) !== e.hash) return at('hash does not match the event\'s contents');
    prev = e.hash;
    expectedSeq += 1;
  }
  return null;
}
