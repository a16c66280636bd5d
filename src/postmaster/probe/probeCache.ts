import type { Clock } from '../../lib/clock';
import { fromDbTime, toDbTime, toNumber, type Queryable } from '../../db/dialect';
import type { DialogueEntry, MxAnswer, ProbeResult, ProbeStage, SmtpResult } from './types';

/**
 * Probe results shared through `postmaster_probe_cache`, so app instances on one server (and the
 * next sweep) do not probe an address again within its cache time. Times come from the injected
 * clock, as everywhere. What does not fit the table's columns (MX answer, enhanced code, message,
 * catch-all, dialogue) travels as JSON in `dialogue`, versioned so a format change reads as a miss.
 */
export interface ProbeCacheTtls {
  positiveTtlMs: number;
  negativeTtlMs: number;
  temporaryTtlMs: number;
}

interface Envelope {
  v: 1;
  domain: string;
  mx: MxAnswer;
  enhancedCode: string | null;
  message: string;
  catchAll: boolean | null;
  stage: ProbeStage | null;
  dialogue: DialogueEntry[];
}

const TABLE = 'postmaster_probe_cache';
/** MySQL TEXT holds 65,535 bytes; the envelope stays under it with room to spare. */
const MAX_ENVELOPE_BYTES = 60_000;
const CHUNK = 500;
const RESULTS: ReadonlySet<string> = new Set<SmtpResult>(['accepted', 'missing', 'policy_block', 'temporary', 'unknown']);

function encode(result: ProbeResult): string {
  const envelope: Envelope = {
    v: 1,
    domain: result.domain,
    mx: result.mx,
    enhancedCode: result.enhancedCode,
    message: result.message.slice(0, 2000),
    catchAll: result.catchAll,
    stage: result.stage,
    dialogue: result.dialogue,
  };
  let text = JSON.stringify(envelope);
  // Keep the start (connection, greeting) and the end (the RCPT answer) when a dialogue is huge.
  while (Buffer.byteLength(text, 'utf8') > MAX_ENVELOPE_BYTES && envelope.dialogue.length > 2) {
    const d = envelope.dialogue;
    const keep = Math.floor(d.length / 4);
    envelope.dialogue = [...d.slice(0, keep), { at: d[keep]!.at, dir: 'note', line: `(${d.length - 2 * keep} dialogue lines dropped from the cache)` }, ...d.slice(d.length - keep)];
    text = JSON.stringify(envelope);
  }
  return text;
}

function decode(row: Record<string, unknown>): ProbeResult | null {
  let envelope: Envelope;
  try {
    envelope = JSON.parse(String(row.dialogue)) as Envelope;
  } catch {
    return null;
  }
  const result = String(row.result);
  if (envelope?.v !== 1 || !RESULTS.has(result)) return null;
  return {
    domain: envelope.domain,
    address: String(row.address),
    mx: envelope.mx,
    result: result as SmtpResult,
    code: row.code === null || row.code === undefined ? null : toNumber(row.code),
    enhancedCode: envelope.enhancedCode,
    message: envelope.message,
    mxHost: row.mx_host === null || row.mx_host === undefined ? null : String(row.mx_host),
    catchAll: envelope.catchAll,
    dialogue: envelope.dialogue,
    fromCache: true,
    checkedAt: fromDbTime(row.checked_at),
    stage: envelope.stage,
  };
}

export class ProbeCache {
  constructor(
    private readonly db: Queryable,
    private readonly clock: Clock,
    private readonly ttls: ProbeCacheTtls,
  ) {}

  /** How long a result is kept: accepted long, definite refusals shorter, the inconclusive not at all by default. */
  ttlFor(result: ProbeResult['result']): number {
    switch (result) {
      case 'accepted':
        return this.ttls.positiveTtlMs;
      // A policy refusal is kept as long as a missing mailbox: asking a server that blocks us again
      // within minutes only makes the block stick.
      case 'missing':
      case 'policy_block':
        return this.ttls.negativeTtlMs;
      case 'temporary':
      case 'unknown':
        return this.ttls.temporaryTtlMs;
      // DNS says no mail goes there; the in-memory MX cache covers it and the table is for SMTP answers.
      case 'no_mail':
        return 0;
    }
  }

  /** Unexpired results for the given addresses (lowercase), keyed by address. */
  async getMany(addresses: string[]): Promise<Map<string, ProbeResult>> {
    const found = new Map<string, ProbeResult>();
    const now = toDbTime(this.clock.now());
    for (let i = 0; i < addresses.length; i += CHUNK) {
      const rows: Array<Record<string, unknown>> = await this.db(TABLE)
        .whereIn('address', addresses.slice(i, i + CHUNK))
        .andWhere('expires_at', '>', now)
        .select('address', 'result', 'code', 'mx_host', 'dialogue', 'checked_at');
      for (const row of rows) {
        const result = decode(row);
        if (result) found.set(result.address, result);
      }
    }
    return found;
  }

  /** Stores the result if its kind is cached at all; returns whether it was stored. */
  async put(result: ProbeResult): Promise<boolean> {
    const ttl = this.ttlFor(result.result);
    if (ttl <= 0) return false;
    const row = {
      address: result.address.toLowerCase(),
      result: result.result,
      code: result.code,
      mx_host: result.mxHost ? result.mxHost.slice(0, 255) : null,
      dialogue: encode(result),
      checked_at: toDbTime(result.checkedAt),
      expires_at: toDbTime(new Date(result.checkedAt.getTime() + ttl)),
    };
    // address is the table's only unique key, so the upsert behaves the same on both engines.
    await this.db(TABLE).insert(row).onConflict('address').merge(['result', 'code', 'mx_host', 'dialogue', 'checked_at', 'expires_at']);
    return true;
  }

  /** Deletes expired rows (for a housekeeping job); returns how many. */
  async purgeExpired(): Promise<number> {
    return this.db(TABLE).where('expires_at', '<=', toDbTime(this.clock.now())).delete();
  }
}
