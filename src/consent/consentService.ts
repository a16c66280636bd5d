import type { Knex } from 'knex';
import { engineOf, isUniqueViolation, toDbTime } from '../db/dialect';
import type { Clock } from '../lib/clock';
import { ConflictError, NotFoundError, ValidationError } from '../lib/errors';
import { systemActor, type Actor } from '../tenancy/actor';
import { domainRepository } from '../tenancy/domainRepository';
import { verifyEvents, type ChainBreak } from './chain';
import { consentRepository, type RecordValues } from './consentRepository';
import { buildEvidenceBundle, type EvidenceBundle, type EvidenceScope } from './evidence';
import { normaliseEmail, type ConfirmForm, type ListForm, type RecordForm, type RecordQuery } from './schemas';
import type { ConsentEvent, ConsentList, ConsentMethod, ConsentRecord, ConsentStatus, RevokeHow } from './types';

export interface Listing<T> {
  items: T[];
  total: number;
  nextCursor: string | null;
}

export interface CheckResult {
  sender: string;
  counts: Record<'confirmed' | 'pending' | 'revoked' | 'unknown' | 'invalid', number>;
  confirmed: string[];
  pending: string[];
  revoked: string[];
  unknown: string[];
  /** Entries that are not email addresses, as given. */
  invalid: string[];
}

export interface ChainStatus {
  accountId: number;
  username: string;
  events: number;
  broken: ChainBreak | null;
}

const defaultPageSize = 50;

/**
 * The evidence rule: a record is `confirmed` only with a consented-at time (not in the future) and a
 * method other than `manual` (double_opt_in, web_form, import, api or paper says how the consent was
 * given). Anything less is stored as `pending`.
 */
export function hasEvidence(method: ConsentMethod, consentedAt: Date | null | undefined): boolean {
  return method !== 'manual' && consentedAt instanceof Date;
}

const evidenceMessage = 'needs evidence: a consented-at time and a method other than manual';

/** Consent lists, records and their per-account hash chain; every change appends an event in the same transaction. */
export class ConsentService {
  constructor(
    private readonly db: Knex,
    private readonly clock: Clock,
  ) {}

  async listLists(actor: Actor, query: { limit?: number; cursor?: string }): Promise<Listing<ConsentList>> {
    const page = { limit: query.limit ?? defaultPageSize, cursor: query.cursor };
    const [result, total] = await Promise.all([consentRepository.lists(this.db, actor, page), consentRepository.countLists(this.db, actor)]);
    return { ...result, total };
  }

  async getList(actor: Actor, id: number): Promise<ConsentList> {
    const list = await consentRepository.findList(this.db, actor, id);
    if (!list) throw new NotFoundError('Consent list');
    return list;
  }

  /** The sending domain must be one of the actor's own domains (another account's id reads as unknown). */
  async createList(actor: Actor, form: ListForm): Promise<number> {
    const domain = await domainRepository.findById(this.db, actor, form.domainId);
    if (!domain) throw new ValidationError({ domainId: 'is not one of your domains: choose a sending domain of your own account' });
    if (actor.role === 'customer' && domain.accountId !== actor.accountId) throw new ValidationError({ domainId: 'is not one of your domains' });
    const now = this.clock.now();
    return this.db.transaction(async (trx) => {
      const id = await consentRepository.insertList(trx, { accountId: domain.accountId, domainId: domain.id, name: form.name, doubleOptIn: form.doubleOptIn }, now);
      await consentRepository.insertText(trx, id, 1, form.text, now);
      await consentRepository.appendEvent(
        trx,
        { accountId: domain.accountId, listId: id, recordId: null, type: 'list_created', actor: actor.login, data: { name: form.name, domain: domain.name, doubleOptIn: form.doubleOptIn, textVersion: 1, text: form.text } },
        now,
      );
      return id;
    });
  }

  /** A changed text becomes the next version; existing records keep the version they agreed to. */
  async updateText(actor: Actor, listId: number, text: string): Promise<number> {
    const list = await this.getList(actor, listId);
    if (text === list.text) throw new ValidationError({ text: 'is unchanged: edit the text to publish a new version' });
    const now = this.clock.now();
    const version = list.textVersion + 1;
    try {
      await this.db.transaction(async (trx) => {
        await consentRepository.insertText(trx, list.id, version, text, now);
        await consentRepository.appendEvent(trx, { accountId: list.accountId, listId: list.id, recordId: null, type: 'text_versioned', actor: actor.login, data: { textVersion: version, text } }, now);
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw new ConflictError('Someone else changed the consent text at the same time. Reload the page and try again.', 'text');
      throw err;
    }
    return version;
  }

  async textHistory(actor: Actor, listId: number): Promise<ConsentEvent[]> {
    const list = await this.getList(actor, listId);
    return consentRepository.listEvents(this.db, list.id);
  }

  async listRecords(actor: Actor, listId: number, query: RecordQuery): Promise<Listing<ConsentRecord>> {
    const list = await this.getList(actor, listId);
    const filters = { q: query.q, status: query.status };
    const page = { limit: query.limit ?? defaultPageSize, cursor: query.cursor };
    const [result, total] = await Promise.all([
      consentRepository.records(this.db, actor, list.id, filters, page),
      consentRepository.countRecords(this.db, actor, list.id, filters),
    ]);
    return { ...result, total };
  }

  async getRecord(actor: Actor, id: number): Promise<ConsentRecord> {
    const record = await consentRepository.findRecord(this.db, actor, id);
    if (!record) throw new NotFoundError('Consent record');
    return record;
  }

  /** The record's events, oldest first. */
  async timeline(actor: Actor, id: number): Promise<ConsentEvent[]> {
    const record = await this.getRecord(actor, id);
    return consentRepository.recordEvents(this.db, record.id);
  }

  /** Evidence bundle of one record or a whole list (src/consent/evidence.ts); another account's id is a NotFoundError. */
  async evidence(actor: Actor, scope: EvidenceScope): Promise<EvidenceBundle> {
    const bundle = await buildEvidenceBundle(this.db, this.clock, actor, scope);
    if (!bundle) throw new NotFoundError(scope.kind === 'record' ? 'Consent record' : 'Consent list');
    return bundle;
  }

  private checkEvidence(consentedAt: Date | undefined, method: ConsentMethod, wantConfirmed: boolean): void {
    if (consentedAt && consentedAt.getTime() > this.clock.now().getTime()) throw new ValidationError({ consentedAt: 'is in the future' });
    if (wantConfirmed && !hasEvidence(method, consentedAt)) {
      throw new ValidationError(consentedAt ? { method: `manual is not evidence: a confirmed record ${evidenceMessage}` } : { consentedAt: `is required: a confirmed record ${evidenceMessage}` });
    }
  }

  async addRecord(actor: Actor, listId: number, form: RecordForm): Promise<number> {
    const list = await this.getList(actor, listId);
    this.checkEvidence(form.consentedAt, form.method, form.status === 'confirmed');
    const email = normaliseEmail(form.email);
    if (!email) throw new ValidationError({ email: 'is not a valid email address (expected e.g. jane@example.com)' });
    const existing = await consentRepository.findRecordByEmail(this.db, list.id, email);
    if (existing) throw this.duplicate(email, existing.status);
    const now = this.clock.now();
    const confirmed = form.status === 'confirmed';
    const values: RecordValues = {
      status: confirmed ? 'confirmed' : 'pending',
      method: form.method,
      source: form.source ?? null,
      consentTextVersion: list.textVersion,
      ip: form.ip ?? null,
      userAgent: form.userAgent ?? null,
      consentedAt: form.consentedAt ?? null,
      confirmedAt: confirmed ? (form.consentedAt ?? now) : null,
      confirmedIp: confirmed ? (form.ip ?? null) : null,
      revokedAt: null,
      revokedHow: null,
    };
    try {
      return await this.db.transaction(async (trx) => {
        const id = await consentRepository.insertRecord(trx, list.id, email, values, now);
        await consentRepository.appendEvent(trx, { accountId: list.accountId, listId: list.id, recordId: id, type: 'record_added', actor: actor.login, data: { email, ...evidenceData(values) } }, now);
        return id;
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw this.duplicate(email, 'pending');
      throw err;
    }
  }

  private duplicate(email: string, status: ConsentStatus): ConflictError {
    const hint = status === 'revoked' ? ' It was revoked: open its record to record a new confirmed consent.' : ' Open its record to change it.';
    return new ConflictError(`${email} is already in this list (${status}).${hint}`, 'email');
  }

  /** Records confirmed consent with evidence; for a revoked record this is the new consent that lifts the revocation. */
  async confirmRecord(actor: Actor, id: number, form: ConfirmForm): Promise<void> {
    const record = await this.getRecord(actor, id);
    this.checkEvidence(form.consentedAt, form.method, true);
    if (record.status === 'confirmed') throw new ConflictError(`${record.email} is already confirmed.`);
    const list = await this.getList(actor, record.listId);
    const now = this.clock.now();
    const values: RecordValues = {
      ...recordValues(record),
      status: 'confirmed',
      method: form.method,
      source: form.source ?? record.source,
      consentTextVersion: list.textVersion,
      consentedAt: form.consentedAt ?? null,
      confirmedAt: form.consentedAt ?? now,
      confirmedIp: form.ip ?? null,
      revokedAt: null,
      revokedHow: null,
    };
    await this.db.transaction(async (trx) => {
      await consentRepository.updateRecord(trx, record.id, values, now);
      const type = record.status === 'revoked' ? 'record_reconsented' : 'record_confirmed';
      await consentRepository.appendEvent(trx, { accountId: record.accountId, listId: record.listId, recordId: record.id, type, actor: actor.login, data: { previousStatus: record.status, ...evidenceData(values) } }, now);
    });
  }

  async revokeRecord(actor: Actor, id: number, how: RevokeHow): Promise<void> {
    const record = await this.getRecord(actor, id);
    if (record.status === 'revoked') throw new ConflictError(`${record.email} is already revoked (${record.revokedHow ?? 'manual'}).`);
    const now = this.clock.now();
    const values: RecordValues = { ...recordValues(record), status: 'revoked', revokedAt: now, revokedHow: how };
    await this.db.transaction(async (trx) => {
      await consentRepository.updateRecord(trx, record.id, values, now);
      await consentRepository.appendEvent(trx, { accountId: record.accountId, listId: record.listId, recordId: record.id, type: 'record_revoked', actor: actor.login, data: { previousStatus: record.status, how, revokedAt: toDbTime(now) } }, now);
    });
  }

  /**
   * The list an unsubscribe token names, whoever owns it: the token (checked by the caller) is the
   * capability, so this lookup is deliberately not scoped to a signed-in actor.
   */
  async unsubscribeList(listId: number): Promise<ConsentList> {
    const list = await consentRepository.findList(this.db, systemActor, listId);
    if (!list) throw new NotFoundError('The mailing list of this unsubscribe link');
    return list;
  }

  /**
   * RFC 8058 one-click unsubscribe (also the manual page's button). Revokes the address's record in the
   * list (revoked_how 'unsubscribe', one `record_revoked` event); an address with no record gets one
   * created as revoked (`record_suppressed` event), so it stays suppressed for that sender until a new
   * confirmed consent (addRecord refuses it as a revoked duplicate; confirmRecord is the way back).
   * Idempotent: an already revoked record is left alone and no event is appended (`changed: false`).
   */
  async unsubscribe(listId: number, email: string, meta: { ip?: string | null; userAgent?: string | null } = {}): Promise<{ changed: boolean; recordId: number }> {
    const list = await this.unsubscribeList(listId);
    const now = this.clock.now();
    const evidence = { how: 'unsubscribe' as const, revokedAt: toDbTime(now), ip: meta.ip ?? null, userAgent: meta.userAgent ? meta.userAgent.slice(0, 500) : null, via: 'list-unsubscribe' };
    const run = () =>
      this.db.transaction(async (trx) => {
        // Take the account's chain lock first, so two concurrent POSTs of the same link serialise and the second sees the revocation.
        const lock = trx('accounts').select('id').where('id', list.accountId);
        await (engineOf(trx) === 'sqlite' ? lock : lock.forUpdate());
        const existing = await consentRepository.findRecordByEmail(trx, list.id, email);
        if (existing?.status === 'revoked') return { changed: false, recordId: existing.id };
        if (existing) {
          const record = await consentRepository.findRecord(trx, systemActor, existing.id);
          const values: RecordValues = { ...recordValues(record!), status: 'revoked', revokedAt: now, revokedHow: 'unsubscribe' };
          await consentRepository.updateRecord(trx, existing.id, values, now);
          await consentRepository.appendEvent(trx, { accountId: list.accountId, listId: list.id, recordId: existing.id, type: 'record_revoked', actor: 'recipient', data: { previousStatus: existing.status, ...evidence } }, now);
          return { changed: true, recordId: existing.id };
        }
        const values: RecordValues = {
          status: 'revoked',
          method: 'manual',
          source: 'unsubscribe link (no consent record existed)',
          consentTextVersion: null,
          ip: null,
          userAgent: null,
          consentedAt: null,
          confirmedAt: null,
          confirmedIp: null,
          revokedAt: now,
          revokedHow: 'unsubscribe',
        };
        const id = await consentRepository.insertRecord(trx, list.id, email, values, now);
        await consentRepository.appendEvent(trx, { accountId: list.accountId, listId: list.id, recordId: id, type: 'record_suppressed', actor: 'recipient', data: { email, previousStatus: null, ...evidence } }, now);
        return { changed: true, recordId: id };
      });
    try {
      return await run();
    } catch (err) {
      // A concurrent request inserted the suppression first: this one changes nothing.
      if (!isUniqueViolation(err)) throw err;
      const existing = await consentRepository.findRecordByEmail(this.db, list.id, email);
      if (!existing) throw err;
      return { changed: false, recordId: existing.id };
    }
  }

  /**
   * Pre-send check for one sending domain of the actor: an address is confirmed only when some list of
   * that domain holds a confirmed record for it; otherwise revoked beats pending beats unknown.
   */
  async check(actor: Actor, sender: string, recipients: string[]): Promise<CheckResult> {
    const senderName = sender.trim().toLowerCase();
    // One exact, scoped lookup (a substring search could miss the domain behind 200 longer names).
    const domain = await domainRepository.findByName(this.db, actor, senderName);
    if (!domain) throw new NotFoundError(`Sending domain ${senderName}`);
    const listIds = await consentRepository.listIdsForDomain(this.db, actor, senderName);
    const result: CheckResult = { sender: senderName, counts: { confirmed: 0, pending: 0, revoked: 0, unknown: 0, invalid: 0 }, confirmed: [], pending: [], revoked: [], unknown: [], invalid: [] };
    const seen = new Set<string>();
    const emails: string[] = [];
    for (const raw of recipients) {
      const email = normaliseEmail(raw);
      if (!email) {
        if (raw.trim()) result.invalid.push(raw.trim());
        continue;
      }
      if (seen.has(email)) continue;
      seen.add(email);
      emails.push(email);
    }
    const rank: Record<ConsentStatus, number> = { confirmed: 3, revoked: 2, pending: 1 };
    const best = new Map<string, ConsentStatus>();
    // No list for this sender: every address is unknown, no query needed.
    const rows = listIds.length ? await consentRepository.statusesOf(this.db, listIds, emails) : [];
    for (const row of rows) {
      const current = best.get(row.email);
      if (current === undefined || rank[row.status] > rank[current]) best.set(row.email, row.status);
    }
    for (const email of emails) result[best.get(email) ?? 'unknown'].push(email);
    for (const key of ['confirmed', 'pending', 'revoked', 'unknown', 'invalid'] as const) result.counts[key] = result[key].length;
    return result;
  }

  /** Checks every account's chain; admins only (the CLI and /admin/consent). */
  async verifyChains(): Promise<ChainStatus[]> {
    const ids = await consentRepository.chainAccountIds(this.db);
    const names = new Map<number, string>();
    if (ids.length) for (const row of (await this.db('accounts').whereIn('id', ids).select('id', 'username')) as Array<{ id: unknown; username: string }>) names.set(Number(row.id), row.username);
    const out: ChainStatus[] = [];
    for (const accountId of ids) {
      const events = await consentRepository.chainEvents(this.db, accountId);
      out.push({ accountId, username: names.get(accountId) ?? `#${accountId}`, events: events.length, broken: verifyEvents(accountId, events) });
    }
    return out;
  }
}

/** The evidence fields of a stored record, to be changed and written back. */
export function recordValues(r: ConsentRecord): RecordValues {
  return {
    status: r.status,
    method: r.method,
    source: r.source,
    consentTextVersion: r.consentTextVersion,
    ip: r.ip,
    userAgent: r.userAgent,
    consentedAt: r.consentedAt,
    confirmedAt: r.confirmedAt,
    confirmedIp: r.confirmedIp,
    revokedAt: r.revokedAt,
    revokedHow: r.revokedHow,
  };
}

/** A record's evidence as chain event data (times as stored strings). */
export function evidenceData(v: RecordValues): Record<string, unknown> {
  const t = (d: Date | null) => (d ? toDbTime(d) : null);
  return {
    status: v.status,
    method: v.method,
    source: v.source,
    consentTextVersion: v.consentTextVersion,
    ip: v.ip,
    userAgent: v.userAgent,
    consentedAt: t(v.consentedAt),
    confirmedAt: t(v.confirmedAt),
    confirmedIp: v.confirmedIp,
  };
}
