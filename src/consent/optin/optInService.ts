import type { Knex } from 'knex';
import { engineOf, isUniqueViolation, toDbTime } from '../../db/dialect';
import type { HitRateLimiter } from '../../http/hitRateLimiter';
import type { Clock } from '../../lib/clock';
import { AppError, ConflictError, NotFoundError, ValidationError } from '../../lib/errors';
import { logger } from '../../lib/logger';
import type { Mailer } from '../../mail/mailer';
import { systemActor, type Actor } from '../../tenancy/actor';
import { consentRepository } from '../consentRepository';
import { evidenceData, recordValues, type ConsentService } from '../consentService';
import { normaliseEmail } from '../schemas';
import type { ConsentList, ConsentRecord, RecordValues } from '../types';
import { confirmationMail } from './confirmationMail';
import { confirmationRepository, type Confirmation } from './confirmationRepository';
import { readOptInToken, signOptInToken } from './optInToken';

export interface RequestMeta {
  ip: string | null;
  userAgent: string | null;
  /** Where the form was: "hosted form" or the page an embedded form was on. */
  source: string;
}

export interface SubscribeOutcome {
  /** `sent`: a confirmation mail went out (or was captured); `quiet`: nothing sent (already confirmed, or a bot); `mail_failed`: recorded, but the mail could not be sent now. */
  outcome: 'sent' | 'quiet' | 'mail_failed';
  list: ConsentList;
}

export type ConfirmPage =
  | { state: 'ready'; list: ConsentList; email: string; confirmation: Confirmation }
  | { state: 'confirmed'; list: ConsentList; email: string }
  | { state: 'expired'; list: ConsentList; email: string; expiredAt: Date };

export class InvalidConfirmationLink extends AppError {
  constructor() {
    super(400, 'invalid_confirmation_link', 'This confirmation link is not valid: it is incomplete or was changed. Use the link from the message exactly as it came.');
  }
}

/** Public-form limits: per client IP, per address in a list, and per list (many IPs mail-bombing one form). */
const limits = {
  perIp: { max: 10, windowMinutes: 60 },
  perAddress: { max: 3, windowMinutes: 24 * 60 },
  perList: { max: 300, windowMinutes: 60 },
  /** A customer re-sending a confirmation to one record. */
  perRecordResend: { max: 3, windowMinutes: 24 * 60 },
};

/**
 * Double opt-in: the public subscribe form creates (or re-opens) a pending record and mails a signed,
 * expiring link; confirming it records time and IP and makes the record confirmed — the strongest
 * evidence the product keeps. Every step is a chain event (`optin_requested`, `record_confirmed` /
 * `record_reconsented`, `optin_expired`).
 */
export class OptInService {
  constructor(
    private readonly db: Knex,
    private readonly clock: Clock,
    private readonly consent: ConsentService,
    private readonly mailer: Mailer,
    private readonly limiter: HitRateLimiter,
    private readonly key: Buffer,
    private readonly options: { baseUrl?: string; expiryHours: number },
  ) {}

  get expiryHours(): number {
    return this.options.expiryHours;
  }

  /** The public URL of a path, from BASE_URL or else the origin of the current request. */
  publicUrl(path: string, origin: string): string {
    return `${(this.options.baseUrl || origin).replace(/\/+$/, '')}${path}`;
  }

  /** A list's public form exists only while double opt-in is on; otherwise it reads as not found. */
  async publicList(listId: number): Promise<ConsentList> {
    const list = await consentRepository.findList(this.db, systemActor, listId);
    if (!list || !list.doubleOptIn) throw new NotFoundError('This sign-up form');
    return list;
  }

  async setDoubleOptIn(actor: Actor, listId: number, on: boolean): Promise<void> {
    const list = await this.consent.getList(actor, listId);
    if (list.doubleOptIn === on) return;
    const now = this.clock.now();
    await this.db.transaction(async (trx) => {
      await consentRepository.updateList(trx, list.id, { name: list.name, doubleOptIn: on }, now);
      await consentRepository.appendEvent(trx, { accountId: list.accountId, listId: list.id, recordId: null, type: 'list_settings_changed', actor: actor.login, data: { doubleOptIn: on } }, now);
    });
  }

  /** The public form's submission. Always answers the same way to the visitor, whatever the address's state, so the form reveals nothing about who is subscribed. */
  async subscribe(listId: number, rawEmail: string, meta: RequestMeta, origin: string): Promise<SubscribeOutcome> {
    const list = await this.publicList(listId);
    const email = normaliseEmail(rawEmail);
    if (!email) throw new ValidationError({ email: 'is not a valid email address (expected e.g. jane@example.com)' });
    const wait = 'Too many sign-up requests. Please wait a while and try again.';
    await this.limiter.hit([
      { key: `subscribe:ip:${meta.ip ?? 'unknown'}`, ...limits.perIp, message: wait },
      { key: `subscribe:address:${list.id}:${email}`, ...limits.perAddress, message: `This address was already sent ${limits.perAddress.max} confirmation mails today. Look for them in the inbox (and the spam folder), or try again tomorrow.` },
      { key: `subscribe:list:${list.id}`, ...limits.perList, message: wait },
    ]);
    const existing = await consentRepository.findRecordByEmail(this.db, list.id, email);
    if (existing?.status === 'confirmed') return { outcome: 'quiet', list };
    const confirmationId = await this.request(list, email, existing?.id ?? null, meta, 'recipient');
    return { outcome: await this.mail(list, email, confirmationId, origin), list };
  }

  /** A customer sends (again) a confirmation mail to a pending or revoked record of a double opt-in list. */
  async resend(actor: Actor, recordId: number, origin: string): Promise<'sent' | 'mail_failed'> {
    const record = await this.consent.getRecord(actor, recordId);
    const list = await this.consent.getList(actor, record.listId);
    if (!list.doubleOptIn) throw new ConflictError('Turn on double opt-in for this list first: confirmation mails link to its sign-up form.');
    if (record.status === 'confirmed') throw new ConflictError(`${record.email} is already confirmed.`);
    await this.limiter.hit([
      { key: `optin:record:${record.id}`, ...limits.perRecordResend, message: `${record.email} was already sent ${limits.perRecordResend.max} confirmation mails in the last 24 hours. Wait before sending another.` },
    ]);
    const confirmationId = await this.request(list, record.email, record.id, { ip: null, userAgent: null, source: record.source ?? 'confirmation sent by the sender' }, actor.login);
    return this.mail(list, record.email, confirmationId, origin);
  }

  /** Confirmation mails for pending records just imported (CSV import with "send confirmation mails"). */
  async sendForImported(listId: number, recordIds: number[], origin: string): Promise<void> {
    const list = await consentRepository.findList(this.db, systemActor, listId);
    if (!list?.doubleOptIn) return;
    for (const id of recordIds) {
      const record = await consentRepository.findRecord(this.db, systemActor, id);
      if (!record || record.listId !== list.id || record.status !== 'pending') continue;
      const confirmationId = await this.request(list, record.email, record.id, { ip: null, userAgent: null, source: record.source ?? 'import' }, 'import');
      await this.mail(list, record.email, confirmationId, origin);
    }
  }

  async confirmationsOf(actor: Actor, recordId: number): Promise<Confirmation[]> {
    const record = await this.consent.getRecord(actor, recordId);
    return confirmationRepository.ofRecord(this.db, record.id);
  }

  /** What the link in a mail leads to (GET changes nothing: mail scanners prefetch links). */
  async confirmPage(token: string): Promise<ConfirmPage> {
    const { confirmation, list, record } = await this.resolve(token);
    if (confirmation.status === 'confirmed' || record.status === 'confirmed') return { state: 'confirmed', list, email: record.email };
    if (this.isExpired(confirmation)) return { state: 'expired', list, email: record.email, expiredAt: confirmation.expiresAt };
    return { state: 'ready', list, email: record.email, confirmation };
  }

  /** The recipient presses Confirm. Safe to repeat: a second press changes nothing. */
  async confirm(token: string, meta: { ip: string | null; userAgent: string | null }): Promise<ConfirmPage> {
    const { confirmation, list } = await this.resolve(token);
    const now = this.clock.now();
    await this.db.transaction(async (trx) => {
      // The account's chain lock first: two presses of the same link serialise, and the second sees the first.
      const lock = trx('accounts').select('id').where('id', list.accountId);
      await (engineOf(trx) === 'sqlite' ? lock : lock.forUpdate());
      const current = await confirmationRepository.find(trx, confirmation.id);
      if (!current || current.status === 'confirmed' || current.status === 'expired' || this.isExpired(current)) return;
      const record = (await consentRepository.findRecord(trx, systemActor, current.recordId))!;
      if (record.status === 'confirmed') return;
      const values: RecordValues = {
        ...recordValues(record),
        status: 'confirmed',
        method: 'double_opt_in',
        source: current.source ?? record.source,
        consentTextVersion: current.textVersion,
        ip: current.requestedIp,
        userAgent: current.requestedUserAgent,
        consentedAt: current.requestedAt,
        confirmedAt: now,
        confirmedIp: meta.ip,
        revokedAt: null,
        revokedHow: null,
      };
      await consentRepository.updateRecord(trx, record.id, values, now);
      await confirmationRepository.markConfirmed(trx, current, meta.ip, now);
      const type = record.status === 'revoked' ? 'record_reconsented' : 'record_confirmed';
      await consentRepository.appendEvent(
        trx,
        { accountId: list.accountId, listId: list.id, recordId: record.id, type, actor: 'recipient', data: { previousStatus: record.status, ...evidenceData(values), confirmationId: current.id, confirmedUserAgent: meta.userAgent ? meta.userAgent.slice(0, 500) : null } },
        now,
      );
    });
    return this.confirmPage(token);
  }

  /** Marks expired requests; a record whose latest request expired gets an `optin_expired` event and stays pending. */
  async expireDue(batch = 500): Promise<number> {
    let total = 0;
    for (;;) {
      const now = this.clock.now();
      const due = await confirmationRepository.due(this.db, now, batch);
      if (!due.length) return total;
      for (const c of due) {
        await this.db.transaction(async (trx) => {
          await confirmationRepository.markExpired(trx, [c.id]);
          if (c.status !== 'sent') return;
          const record = await consentRepository.findRecord(trx, systemActor, c.recordId);
          if (!record || record.status === 'confirmed') return;
          await consentRepository.appendEvent(trx, { accountId: record.accountId, listId: record.listId, recordId: record.id, type: 'optin_expired', actor: 'system', data: { confirmationId: c.id, requestedAt: toDbTime(c.requestedAt), expiresAt: toDbTime(c.expiresAt), status: record.status } }, now);
        });
      }
      total += due.length;
      if (due.length < batch) return total;
    }
  }

  /** The HTML a customer pastes into their own site: a plain form posting to the hosted endpoint. */
  embedSnippet(list: ConsentList, origin: string): string {
    const action = this.publicUrl(`/subscribe/${list.id}`, origin);
    const escape = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
    return [
      `<form method="post" action="${escape(action)}">`,
      `  <label>Email address <input type="email" name="email" required></label>`,
      `  <p>${escape(list.text)}</p>`,
      `  <div style="position:absolute;left:-10000px" aria-hidden="true"><input type="text" name="website" tabindex="-1" autocomplete="off"></div>`,
      `  <button type="submit">Subscribe</button>`,
      `</form>`,
    ].join('\n');
  }

  private isExpired(c: Confirmation): boolean {
    return c.status === 'expired' || c.expiresAt.getTime() <= this.clock.now().getTime();
  }

  private async resolve(token: string): Promise<{ confirmation: Confirmation; list: ConsentList; record: ConsentRecord }> {
    const id = readOptInToken(this.key, token);
    if (!id) throw new InvalidConfirmationLink();
    const confirmation = await confirmationRepository.find(this.db, id);
    const record = confirmation ? await consentRepository.findRecord(this.db, systemActor, confirmation.recordId) : null;
    const list = confirmation ? await consentRepository.findList(this.db, systemActor, confirmation.listId) : null;
    if (!confirmation || !record || !list) throw new NotFoundError('The subscription this link confirms');
    return { confirmation, list, record };
  }

  /** Writes the pending record (new, or the existing one) and the request, with its chain event, in one transaction. */
  private async request(list: ConsentList, email: string, recordId: number | null, meta: RequestMeta, actor: string): Promise<number> {
    const now = this.clock.now();
    const expiresAt = new Date(now.getTime() + this.options.expiryHours * 3600_000);
    const run = () =>
      this.db.transaction(async (trx) => {
        let id = recordId;
        if (id === null) {
          const values: RecordValues = {
            status: 'pending',
            method: 'double_opt_in',
            source: meta.source,
            consentTextVersion: list.textVersion,
            ip: meta.ip,
            userAgent: meta.userAgent,
            consentedAt: now,
            confirmedAt: null,
            confirmedIp: null,
            revokedAt: null,
            revokedHow: null,
          };
          id = await consentRepository.insertRecord(trx, list.id, email, values, now);
          await consentRepository.appendEvent(trx, { accountId: list.accountId, listId: list.id, recordId: id, type: 'record_added', actor, data: { email, ...evidenceData(values) } }, now);
        }
        const confirmationId = await confirmationRepository.insert(
          trx,
          { recordId: id, listId: list.id, textVersion: list.textVersion, source: meta.source, requestedIp: meta.ip, requestedUserAgent: meta.userAgent, expiresAt },
          now,
        );
        await consentRepository.appendEvent(
          trx,
          { accountId: list.accountId, listId: list.id, recordId: id, type: 'optin_requested', actor, data: { confirmationId, textVersion: list.textVersion, source: meta.source, ip: meta.ip, userAgent: meta.userAgent, expiresAt: toDbTime(expiresAt) } },
          now,
        );
        return confirmationId;
      });
    try {
      return await run();
    } catch (err) {
      // Two submissions of a new address at once: the second finds the record the first inserted.
      if (!isUniqueViolation(err) || recordId !== null) throw err;
      const existing = await consentRepository.findRecordByEmail(this.db, list.id, email);
      if (!existing) throw err;
      return this.request(list, email, existing.id, meta, actor);
    }
  }

  private async mail(list: ConsentList, email: string, confirmationId: number, origin: string): Promise<'sent' | 'mail_failed'> {
    const expiresAt = (await confirmationRepository.find(this.db, confirmationId))!.expiresAt;
    const url = this.publicUrl(`/confirm/${signOptInToken(this.key, confirmationId)}`, origin);
    const message = confirmationMail({ list, url, expiresAt, expiryHours: this.options.expiryHours });
    const sent = await this.mailer.send({ accountId: list.accountId, kind: 'optin_confirmation', to: email, ...message });
    await confirmationRepository.setMail(this.db, confirmationId, sent.id);
    if (sent.status === 'failed') logger.warn('confirmation mail not sent', { list: list.id, confirmation: confirmationId, error: sent.error });
    return sent.status === 'failed' ? 'mail_failed' : 'sent';
  }
}
