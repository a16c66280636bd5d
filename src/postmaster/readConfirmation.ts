import crypto from 'node:crypto';
import type { Knex } from 'knex';
import { fromDbTime, fromDbTimeOrNull, toDbTime, toNumber } from '../db/dialect';
import type { Clock } from '../lib/clock';
import type { Mailer } from '../mail/mailer';
import { readPostmasterSettings } from './settings';

const dayMs = 86_400_000;
const sha256 = (s: string) => crypto.createHash('sha256').update(s).digest('hex');

export type ReadLinkState = { state: 'valid'; domain: string; confirmedAt: Date | null } | { state: 'unknown' };

/**
 * Proof that postmaster@ is read: every `readIntervalDays` a verification mail with a unique link goes
 * to postmaster@domain; using the link marks the mailbox as read. Only the link's SHA-256 is stored, and
 * a new mail replaces the previous link. Opening the link (GET) shows a button and changes nothing (mail
 * scanners fetch links); the button (POST) records the confirmation.
 */
export class ReadConfirmationService {
  constructor(
    private readonly deps: { db: Knex; clock: Clock; mailer: Mailer; publicUrl: (path: string) => string },
  ) {}

  /** Sends the verification mail to domains whose last one is older than the interval (or that never had one). */
  async sendDue(limit = 200): Promise<number> {
    const { db, clock } = this.deps;
    const { settings } = await readPostmasterSettings(db);
    const now = clock.now();
    const cutoff = toDbTime(new Date(now.getTime() - settings.readIntervalDays * dayMs));
    const due = (await db('postmaster_status as p')
      .join('domains as d', 'd.id', 'p.domain_id')
      .whereIn('p.verdict', ['ok', 'unread'])
      .where((w) => w.whereNull('p.read_sent_at').orWhere('p.read_sent_at', '<', cutoff))
      .orderBy('p.domain_id')
      .limit(limit)
      .select('p.domain_id', 'p.account_id', 'd.name')) as Array<{ domain_id: unknown; account_id: unknown; name: string }>;
    for (const row of due) await this.send(toNumber(row.domain_id), toNumber(row.account_id), row.name, settings.readGraceDays);
    return due.length;
  }

  /** Sends (or re-sends) the verification mail for one domain now. */
  async send(domainId: number, accountId: number, domain: string, graceDays: number): Promise<void> {
    const token = crypto.randomBytes(24).toString('base64url');
    const now = this.deps.clock.now();
    // The link is stored before the mail goes: a crash in between leaves a link nobody has, and the next interval sends again.
    await this.deps.db('postmaster_status').where('domain_id', domainId).update({ read_token_hash: sha256(token), read_sent_at: toDbTime(now) });
    const link = this.deps.publicUrl(`/postmaster/confirm/${token}`);
    await this.deps.mailer.send({
      accountId,
      kind: 'postmaster_verification',
      to: `postmaster@${domain}`,
      subject: `Please confirm that postmaster@${domain} is read`,
      text: [
        `This is a routine check from your hosting provider.`,
        ``,
        `Our anti-spam policy requires every domain that receives mail to have a postmaster@ address that a person reads (RFC 5321).`,
        `To confirm that this mailbox is read, open this link and press the button within ${graceDays} days:`,
        ``,
        link,
        ``,
        `If nobody confirms, the domain is listed as "unread" in your control panel. Nothing else is needed; please do not reply to this message.`,
      ].join('\n'),
    });
  }

  async lookup(token: string): Promise<ReadLinkState> {
    const row = (await this.deps.db('postmaster_status as p').join('domains as d', 'd.id', 'p.domain_id').where('p.read_token_hash', sha256(token)).first('d.name', 'p.read_confirmed_at', 'p.read_sent_at')) as Record<string, unknown> | undefined;
    if (!row) return { state: 'unknown' };
    const confirmed = fromDbTimeOrNull(row.read_confirmed_at);
    const sent = fromDbTime(row.read_sent_at);
    return { state: 'valid', domain: String(row.name), confirmedAt: confirmed && confirmed >= sent ? confirmed : null };
  }

  /** Records the confirmation (idempotent: a second press keeps the first time). Returns the domain, or null for an unknown link. */
  async confirm(token: string, ip: string | null): Promise<string | null> {
    const found = await this.lookup(token);
    if (found.state !== 'valid') return null;
    if (found.confirmedAt) return found.domain;
    const now = this.deps.clock.now();
    await this.deps.db('postmaster_status')
      .where('read_token_hash', sha256(token))
      .update({
        read_confirmed_at: toDbTime(now),
        read_confirmed_ip: ip?.slice(0, 45) ?? null,
        // An unread verdict ends with the confirmation. The verdict is set last: MySQL applies SET clauses in order.
        reason: this.deps.db.raw("case when verdict = 'unread' then ? else reason end", [`postmaster@ confirmed as read on ${now.toISOString().slice(0, 10)}`]),
        verdict_since: this.deps.db.raw("case when verdict = 'unread' then ? else verdict_since end", [toDbTime(now)]),
        verdict: this.deps.db.raw("case when verdict = 'unread' then 'ok' else verdict end"),
      });
    return found.domain;
  }
}
