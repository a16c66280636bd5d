import { canonicalJson, ChainWalker, chainHash, genesisHash } from '../lib/hashChain';

/**
 * The per-account consent hash chain, on the shared mechanism of src/lib/hashChain.ts. Each event's hash is
 *   SHA-256(prev_hash + canonicalJson(fields))
 * where `fields` are the stored columns below (account_id, seq, record_id, list_id, type, at, actor, data)
 * and canonicalJson sorts object keys at every level. The first event of an account has prev_hash = 64 zeros.
 */
export { canonicalJson, genesisHash };

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

export function eventHash(prevHash: string, fields: ChainFields): string {
  return chainHash(prevHash, fields);
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

/** Exactly the hashed columns of a stored event (the row also carries id, prev_hash and hash). */
function fieldsOf(e: StoredEvent): ChainFields {
  return { account_id: e.account_id, seq: e.seq, record_id: e.record_id, list_id: e.list_id, type: e.type, at: e.at, actor: e.actor, data: e.data };
}

/** Checks one account's events (in seq order); returns the first break, or null when the chain holds. */
export function verifyEvents(accountId: number, events: StoredEvent[]): ChainBreak | null {
  const walker = new ChainWalker('event');
  for (const e of events) {
    const broken = walker.step({ seq: e.seq, prevHash: e.prev_hash, hash: e.hash, fields: fieldsOf(e) });
    if (broken) return { accountId, seq: broken.seq, eventId: e.id, reason: broken.reason };
  }
  return null;
}
