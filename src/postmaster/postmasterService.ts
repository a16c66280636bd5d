import type { Knex } from 'knex';
import { auditRepository } from '../audit/auditRepository';
import { randomPassword } from '../auth/password';
import type { Clock } from '../lib/clock';
import { ConflictError, NotFoundError, ValidationError } from '../lib/errors';
import type { PanelRegistry } from '../panel/panelRegistry';
import { settingsRepository } from '../settings/settingsRepository';
import type { Actor } from '../tenancy/actor';
import { accountRepository } from '../tenancy/accountRepository';
import { serverRepository } from '../tenancy/serverRepository';
import type { CheckOutcome, PostmasterCheckService } from './checkService';
import { notifyAndEscalate } from './escalation';
import { postmasterRepository } from './postmasterRepository';
import type { ReadConfirmationService } from './readConfirmation';
import { postmasterSettingsKey, postmasterSettingsSchema, readPostmasterSettings, type PostmasterSettings } from './settings';

export const fixModes = ['forwarder', 'mailbox'] as const;
export type FixMode = (typeof fixModes)[number];

export interface FixResult {
  outcome: CheckOutcome;
  /** For a new mailbox: its password, shown to the customer once and stored nowhere. */
  password?: string;
  created: string;
}

/**
 * The postmaster feature's actions besides checking: the customer's one-click fix, the admin's
 * settings, and the housekeeping between sweeps (re-checks that came due, verification mails,
 * notices and escalation).
 */
export class PostmasterService {
  constructor(
    private readonly deps: { db: Knex; clock: Clock; panels: PanelRegistry; checks: PostmasterCheckService; reads: ReadConfirmationService },
  ) {}

  readSettings(): ReturnType<typeof readPostmasterSettings> {
    return readPostmasterSettings(this.deps.db);
  }

  async saveSettings(actor: Actor, input: Record<string, unknown>, ip?: string | null): Promise<PostmasterSettings> {
    const parsed = postmasterSettingsSchema.safeParse(input);
    if (!parsed.success) throw new ValidationError(Object.fromEntries(parsed.error.issues.map((i) => [String(i.path[0] ?? 'settings'), i.message])));
    const now = this.deps.clock.now();
    await this.deps.db.transaction(async (trx) => {
      const before = await readPostmasterSettings(trx);
      await settingsRepository.write(trx, postmasterSettingsKey, parsed.data, actor.login, now);
      await auditRepository.append(trx, { actorUserId: actor.userId, actorLogin: actor.login, action: 'settings.postmaster', subjectType: 'settings', subjectId: postmasterSettingsKey, data: { before: before.settings, after: parsed.data }, ip }, now);
    });
    return parsed.data;
  }

  /**
   * One-click fix: a postmaster@ forwarder to the account's contact address, or a new mailbox, created
   * through the panel; then the domain is checked again at once.
   */
  async fix(actor: Actor, domainId: number, mode: string, ip?: string | null): Promise<FixResult> {
    if (!(fixModes as readonly string[]).includes(mode)) throw new ValidationError({ mode: 'expects forwarder or mailbox' });
    const target = await this.visibleDomain(actor, domainId);
    const account = await accountRepository.findById(this.deps.db, actor, target.accountId);
    if (!account) throw new NotFoundError(`Domain #${domainId}`);
    const server = await serverRepository.findById(this.deps.db, account.serverId);
    if (!server) throw new ConflictError('The server of this account is no longer configured.');
    const address = `postmaster@${target.domain}`;
    const adapter = this.deps.panels.adapterFor(server);
    let password: string | undefined;
    let created: string;
    if (mode === 'forwarder') {
      const contact = account.contactEmail?.toLowerCase() ?? null;
      if (!contact) throw new ValidationError({ mode: 'the account has no contact address to forward to; create a mailbox instead, or set a contact address in cPanel first' });
      if (contact === address) throw new ValidationError({ mode: `the contact address is ${address} itself; forwarding it to itself would loop. Create a mailbox instead` });
      await adapter.createForwarder(account.username, address, contact);
      created = `a forwarder from ${address} to ${contact}`;
    } else {
      password = randomPassword();
      await adapter.createMailbox(account.username, address, password);
      created = `the mailbox ${address}`;
    }
    const now = this.deps.clock.now();
    await this.deps.db.transaction((trx) => auditRepository.append(trx, { actorUserId: actor.userId, actorLogin: actor.login, action: 'postmaster.fix', subjectType: 'domain', subjectId: domainId, data: { domain: target.domain, mode, created }, ip }, now));
    const outcome = await this.deps.checks.checkDomain(target.domain, 'fix');
    return { outcome, password, created };
  }

  /** Between sweeps: re-checks that came due (4xx, unreachable), verification mails, notices and escalations. */
  async housekeeping(): Promise<Record<string, number>> {
    const { db, clock, checks, reads } = this.deps;
    const due = await postmasterRepository.dueRetries(db, clock.now(), 500);
    const retried = due.length ? (await checks.checkTargets(await postmasterRepository.targets(db, { scope: 'all', domainIds: due }), 'retry')).length : 0;
    const verificationMails = await reads.sendDue();
    const { notified, escalated } = await notifyAndEscalate({ db, clock });
    return { retried, verificationMails, notified, escalated };
  }

  private async visibleDomain(actor: Actor, domainId: number) {
    const [target] = await postmasterRepository.targets(this.deps.db, { scope: 'all', domainIds: [domainId] });
    // Scoped like every other read: a domain of another tenant is a 404.
    if (!target || !(await accountRepository.findById(this.deps.db, actor, target.accountId))) throw new NotFoundError(`Domain #${domainId}`);
    return target;
  }
}
