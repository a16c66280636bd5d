import crypto from 'node:crypto';

/**
 * The one hash-chain mechanism of the product, shared by the consent events (one chain per account,
 * src/consent/chain.ts) and the audit log (one chain, src/audit/). Each link's hash is
 *   SHA-256(prev_hash + canonicalJson(fields))
 * where `fields` are the link's stored columns (as stored: times as "YYYY-MM-DD HH:MM:SS.mmm" UTC,
 * JSON data as its text) and the first link's prev_hash is the genesis hash (64 zeros).
 * src/consent/verify-bundle.mjs repeats canonicalJson and this formula on purpose: it is handed to
 * third parties as one self-contained file.
 */
export const genesisHash = '0'.repeat(64);

/** JSON with object keys sorted at every level; arrays keep their order; undefined values are left out. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  // Plain loops (no intermediate arrays): a CSV import hashes events listing hundreds of records.
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i ? ',' : '') + canonicalJson(value[i]);
    return `${out}]`;
  }
  const obj = value as Record<string, unknown>;
  // The default sort compares UTF-16 code units, as `a < b` does (and as the standalone verifier does).
  const keys = Object.keys(obj).sort();
  let out = '{';
  for (const k of keys) {
    const v = obj[k];
    if (v === undefined) continue;
    out += (out.length > 1 ? ',' : '') + JSON.stringify(k) + ':' + canonicalJson(v);
  }
  return `${out}}`;
}

/** The hash of a link whose predecessor's hash is `prevHash`. */
export function chainHash(prevHash: string, fields: object): string {
  return crypto.createHash('sha256').update(prevHash).update(canonicalJson(fields)).digest('hex');
}

/** One stored link as the walker needs it: its position, its two hashes and the fields its hash covers. */
export interface ChainLink {
  seq: number;
  prevHash: string;
  hash: string;
  fields: object;
}

export interface ChainBreak {
  /** The seq of the first link that does not check out (the one after a gap when links are missing). */
  seq: number;
  reason: string;
}

/**
 * Walks a chain link by link, in seq order, remembering only the previous hash, so a caller can feed
 * it a batch at a time (the audit log is verified without loading it whole). Seq must run 1, 2, 3, …:
 * both chains number their links themselves under a lock, so a gap means a deleted or renumbered link.
 */
export class ChainWalker {
  private prev = genesisHash;
  private expectedSeq = 1;
  private broken: ChainBreak | null = null;
  /** Links examined, the breaking one included (the walk stops there). */
  checked = 0;

  /** `noun` and `plural` name links in the reasons ("event", "entry"/"entries"). */
  constructor(
    private readonly noun: string,
    private readonly plural = `${noun}s`,
  ) {}

  /** Checks the next link; returns the first break (again on later calls), or null while the chain holds. */
  step(link: ChainLink): ChainBreak | null {
    if (this.broken) return this.broken;
    this.checked += 1;
    const fail = (reason: string): ChainBreak => (this.broken = { seq: link.seq, reason });
    if (link.seq !== this.expectedSeq) {
      return fail(
        link.seq > this.expectedSeq
          ? `sequence gap: expected seq ${this.expectedSeq}, found seq ${link.seq}: ${link.seq - this.expectedSeq === 1 ? `${this.noun} ${this.expectedSeq} was` : `${this.plural} ${this.expectedSeq}-${link.seq - 1} were`} deleted or renumbered`
          : `sequence gap: expected seq ${this.expectedSeq}, found seq ${link.seq} again or out of order`,
      );
    }
    if (link.prevHash !== this.prev) return fail(`prev_hash does not match the previous ${this.noun}'s hash`);
    if (chainHash(this.prev, link.fields) !== link.hash) return fail(`hash does not match the ${this.noun}'s contents`);
    this.prev = link.hash;
    this.expectedSeq += 1;
    return null;
  }

  /** The hash of the last link that checked out (the genesis hash before any). */
  get lastHash(): string {
    return this.prev;
  }
}

/** Checks a whole chain held in memory; returns the first break, or null when it holds. */
export function verifyChain(links: Iterable<ChainLink>, noun: string, plural?: string): ChainBreak | null {
  const walker = new ChainWalker(noun, plural);
  for (const link of links) {
    const broken = walker.step(link);
    if (broken) return broken;
  }
  return null;
}
