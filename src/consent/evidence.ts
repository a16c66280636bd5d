import type { Response } from 'express';
import type { Knex } from 'knex';
import { fromDbTime, toNumber } from '../db/dialect';
import type { Clock } from '../lib/clock';
import type { Actor } from '../tenancy/actor';
import { genesisHash, type StoredEvent } from './chain';
import { toRecordJson } from './recordJson';
import { consentRepository } from './consentRepository';
import type { ConsentList, ConsentRecord } from './types';

/**
 * Evidence export: a self-contained bundle for one record or a whole list.
 *
 * The bundle carries the account's consent chain from seq 1 (genesis) up to the last event that
 * concerns the exported records (for a list: the last event of that list), with every event's fields
 * exactly as hashed (see chain.ts), so `node src/consent/verify-bundle.mjs bundle.json` can recompute
 * every hash without our database or code. Tenancy: the record or list is looked up with the
 * caller's actor, so another account's id is a NotFoundError (404).
 */
export const evidenceFormat = 'antispam-consent-evidence';
export const evidenceFormatVersion = 1;

export type EvidenceScope = { kind: 'record'; id: number } | { kind: 'list'; id: number };

export interface EvidenceRecord {
  id: number;
  listId: number;
  email: string;
  status: string;
  method: string;
  source: string | null;
  consentTextVersion: number | null;
  ip: string | null;
  userAgent: string | null;
  consentedAt: string | null;
  confirmedAt: string | null;
  confirmedIp: string | null;
  revokedAt: string | null;
  revokedHow: string | null;
  createdAt: string;
  updatedAt: string;
  /** Seqs of the chain events about this record, oldest first. */
  eventSeqs: number[];
}

/** One event exactly as stored and hashed: the hashed fields plus id, prev_hash and hash. */
export type EvidenceEvent = StoredEvent;

export interface EvidenceBundle {
  format: typeof evidenceFormat;
  formatVersion: number;
  generatedAt: string;
  generatedBy: string;
  scope: EvidenceScope;
  account: { id: number; username: string };
  list: { id: number; name: string; doubleOptIn: boolean; currentTextVersion: number; createdAt: string };
  sendingDomain: string;
  consentTexts: Array<{ version: number; text: string; createdAt: string }>;
  records: EvidenceRecord[];
  chain: {
    algorithm: string;
    genesisHash: string;
    /** Events of the account from seq 1 up to `lastSeq`, in seq order. */
    events: EvidenceEvent[];
    lastSeq: number;
    lastHash: string;
  };
}

/** Events about the record: its own, plus the `records_imported` event that created it (CSV import). */
function isAbout(r: ConsentRecord, e: StoredEvent): boolean {
  return e.record_id === r.id || (r.importEventId != null && e.id === r.importEventId);
}

function evidenceRecord(r: ConsentRecord, events: StoredEvent[]): EvidenceRecord {
  return { ...toRecordJson(r), eventSeqs: events.filter((e) => isAbout(r, e)).map((e) => e.seq) };
}

/** Every record of a list, through the scoped keyset listing. */
async function allRecords(db: Knex.Transaction, actor: Actor, listId: number): Promise<ConsentRecord[]> {
  const out: ConsentRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await consentRepository.records(db, actor, listId, {}, { limit: 1000, cursor });
    out.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return out;
}

/** Builds the bundle in one transaction, so records and chain come from the same snapshot. Returns null when the actor cannot see it. */
export async function buildEvidenceBundle(db: Knex, clock: Clock, actor: Actor, scope: EvidenceScope): Promise<EvidenceBundle | null> {
  return db.transaction(async (trx) => {
    let records: ConsentRecord[];
    let list: ConsentList | null;
    if (scope.kind === 'record') {
      const record = await consentRepository.findRecord(trx, actor, scope.id);
      if (!record) return null;
      list = await consentRepository.findList(trx, actor, record.listId);
      records = [record];
    } else {
      list = await consentRepository.findList(trx, actor, scope.id);
      if (!list) return null;
      records = await allRecords(trx, actor, list.id);
    }
    if (!list) return null;

    const chain = await consentRepository.chainEvents(trx, list.accountId);
    const recordIds = new Set(records.map((r) => r.id));
    const importEventIds = new Set(records.map((r) => r.importEventId).filter((id): id is number => id != null));
    const concerns = (e: StoredEvent) => (scope.kind === 'record' ? (e.record_id !== null && recordIds.has(e.record_id)) || importEventIds.has(e.id) : e.list_id === list.id);
    let lastSeq = 0;
    for (const e of chain) if (concerns(e)) lastSeq = Math.max(lastSeq, e.seq);
    const events = chain.filter((e) => e.seq <= lastSeq);

    // Consent texts: for a list every version; for a record the versions the record or its events refer to.
    const versions = new Set<number>();
    if (scope.kind === 'record') {
      for (const r of records) if (r.consentTextVersion !== null) versions.add(r.consentTextVersion);
      for (const e of events) {
        if (!e.data) continue;
        if (importEventIds.has(e.id)) {
          const emails = new Set(records.map((r) => r.email));
          for (const entry of (JSON.parse(e.data) as { records?: Array<{ email?: unknown; consentTextVersion?: unknown }> }).records ?? []) {
            if (typeof entry.email === 'string' && emails.has(entry.email) && typeof entry.consentTextVersion === 'number') versions.add(entry.consentTextVersion);
          }
          continue;
        }
        if (e.record_id === null || !recordIds.has(e.record_id)) continue;
        const v = (JSON.parse(e.data) as { consentTextVersion?: unknown }).consentTextVersion;
        if (typeof v === 'number') versions.add(v);
      }
    }
    const textQuery = trx('consent_texts').where('list_id', list.id).orderBy('version', 'asc').select('version', 'text', 'created_at');
    if (scope.kind === 'record') textQuery.whereIn('version', [...versions]);
    const texts = ((await textQuery) as Array<Record<string, unknown>>).map((t) => ({ version: toNumber(t.version), text: String(t.text), createdAt: fromDbTime(t.created_at).toISOString() }));

    const last = events[events.length - 1];
    return {
      format: evidenceFormat,
      formatVersion: evidenceFormatVersion,
      generatedAt: clock.now().toISOString(),
      generatedBy: actor.login,
      scope,
      account: { id: list.accountId, username: list.accountUsername },
      list: { id: list.id, name: list.name, doubleOptIn: list.doubleOptIn, currentTextVersion: list.textVersion, createdAt: list.createdAt.toISOString() },
      sendingDomain: list.domainName,
      consentTexts: texts,
      records: records.map((r) => evidenceRecord(r, events)),
      chain: { algorithm: 'sha256(prev_hash + canonicalJson(fields)), keys sorted at every level', genesisHash, events, lastSeq: last?.seq ?? 0, lastHash: last?.hash ?? genesisHash },
    };
  });
}

export function evidenceFileName(bundle: EvidenceBundle, ext: 'json' | 'html'): string {
  return `consent-evidence-${bundle.account.username}-${bundle.scope.kind}-${bundle.scope.id}.${ext}`;
}

export function bundleJson(bundle: EvidenceBundle): string {
  return `${JSON.stringify(bundle, null, 2)}\n`;
}

/**
 * Sends the bundle as a JSON download, or as the printable page (views/consent/evidence.ejs, no
 * layout, no scripts) that also embeds the same JSON in <pre id="evidence-json">, so one saved file
 * carries both; the verifier accepts either file.
 */
export async function sendEvidence(res: Response, bundle: EvidenceBundle, as: 'json' | 'html'): Promise<void> {
  if (as === 'json') {
    res.status(200).type('application/json; charset=utf-8').attachment(evidenceFileName(bundle, 'json')).send(bundleJson(bundle));
    return;
  }
  const parsedData = new Map(bundle.chain.events.map((e) => [e.seq, e.data ? (JSON.parse(e.data) as Record<string, unknown>) : {}]));
  const html = await new Promise<string>((resolve, reject) =>
    res.app.render('consent/evidence', { bundle, json: bundleJson(bundle), parsedData }, (err, out) => (err ? reject(err) : resolve(out))),
  );
  res.status(200).type('html').send(html);
}
