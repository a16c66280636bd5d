import type { Knex } from 'knex';
import { auditRepository } from '../audit/auditRepository';
import { toNumber } from '../db/dialect';
import type { Clock } from '../lib/clock';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../lib/errors';
import type { Page, PageRequest } from '../lib/keyset';
import { settingsRepository } from '../settings/settingsRepository';
import { strikeRepository } from '../strikes/strikeRepository';
import type { Actor } from '../tenancy/actor';
import { accountRepository } from '../tenancy/accountRepository';
import { actionLabels, destructiveKinds, isAccountAction, type AccountActionKind } from './actionKinds';
import { panelActionRepository, type ActionFilters, type ActionStatus, type PanelAction } from './panelActionRepository';
import type { ProviderHooks } from './providerHooks';
import { applyLadder } from './ladderActions';
import { proposeServerSuspension } from './serverSuspension';
import { enforcementSettingsSchema, settingsProblems, type EnforcementSettings } from './settings';
import { enforcementSettingsKey, readEnforcementSettings } from './settingsStore';

/** What an admin may ask of one account directly (the ladder asks the same through strikes). */
export const adminAccountKinds: readonly AccountActionKind[] = ['suspend_account', 'unsuspend_account', 'suspend_outgoing_email', 'unsuspend_outgoing_email', 'hold_outgoing_email', 'release_outgoing_email', 'terminate_account'];

export interface AdminActionInput {
  kind: string;
  reason: string;
  /** Destructive actions: the account's username, typed by the admin. */
  confirmUsername?: string;
  /** suspend_account: only root may unsuspend. */
  lockSuspension?: boolean;
  /** Where the request came from: the admin pages (default) or the JSON API. */
  origin?: 'admin' | 'api';
  /** A client's Idempotency-Key: the same key again returns the action it queued instead of queueing another. */
  idempotencyKey?: string;
}

/** Enforcement is the provider's: only admins act (the routes and the API gate it too; this holds for any other caller). */
function requireAdmin(actor: Actor): void {
  if (actor.role !== 'admin') throw new ForbiddenError('Only administrators can take enforcement actions.');
}

function requireReason(reason: string): string {
  const r = reason.trim();
  if (r.length < 3) throw new ValidationError({ reason: 'say why (at least 3 characters); the reason is recorded and shown to the customer' });
  if (r.length > 1000) throw new ValidationError({ reason: 'is longer than 1000 characters' });
  return r;
}

/**
 * Admin side of enforcement: settings, the queue (approve, retry, cancel), direct account actions
 * and server suspension. Every change is audited in its own transaction; the panel is only ever
 * called by the worker.
 */
export class EnforcementService {
  constructor(
    private readonly db: Knex,
    private readonly clock: Clock,
    private readonly providers: ProviderHooks,
    /** Called after a commit that queued runnable actions, so the worker starts at once. */
    private readonly nudge: () => void = () => undefined,
  ) {}

  readSettings(): ReturnType<typeof readEnforcementSettings> {
    return readEnforcementSettings(this.db);
  }

  async saveSettings(actor: Actor, input: Record<string, unknown>, ip?: string | null): Promise<EnforcementSettings> {
    requireAdmin(actor);
    const parsed = enforcementSettingsSchema.safeParse(input);
    if (!parsed.success) {
      throw new ValidationError(Object.fromEntries(parsed.error.issues.map((i) => [String(i.path[0] ?? 'settings'), i.message])));
    }
    const problems = settingsProblems(parsed.data);
    if (parsed.data.serverSuspensionMode === 'command' && !this.providers.commandConfigured) problems.serverSuspensionMode = 'the command mode needs SERVER_SUSPEND_COMMAND in the app configuration';
    if (parsed.data.serverSuspensionMode === 'webhook' && !this.providers.webhookConfigured) problems.serverSuspensionMode = 'the webhook mode needs SERVER_SUSPEND_WEBHOOK_URL in the app configuration';
    if (Object.keys(problems).length) throw new ValidationError(problems);
    const now = this.clock.now();
    await this.db.transaction(async (trx) => {
      const before = await readEnforcementSettings(trx);
      await settingsRepository.write(trx, enforcementSettingsKey, parsed.data, actor.login, now);
      await auditRepository.append(trx, { actorUserId: actor.userId, actorLogin: actor.login, action: 'settings.enforcement', subjectType: 'settings', subjectId: enforcementSettingsKey, data: { before: before.settings, after: parsed.data }, ip }, now);
    });
    return parsed.data;
  }

  list(filters: ActionFilters, page: PageRequest): Promise<Page<PanelAction>> {
    return panelActionRepository.list(this.db, filters, page);
  }

  /** How many actions match the filters (list pages and the API show the total). */
  total(filters: ActionFilters): Promise<number> {
    return panelActionRepository.count(this.db, filters);
  }

  counts(): Promise<Record<ActionStatus, number>> {
    return panelActionRepository.countByStatus(this.db);
  }

  async find(id: number): Promise<PanelAction> {
    const action = await panelActionRepository.find(this.db, id);
    if (!action) throw new NotFoundError(`Action #${id}`);
    return action;
  }

  /** A direct action on one account, queued in the outbox. Destructive ones need the username typed. */
  async requestAccountAction(actor: Actor, accountId: number, input: AdminActionInput, ip?: string | null): Promise<PanelAction> {
    requireAdmin(actor);
    const kind = input.kind;
    if (!isAccountAction(kind) || !adminAccountKinds.includes(kind)) throw new ValidationError({ kind: `expects one of ${adminAccountKinds.join(', ')}` });
    const reason = requireReason(input.reason);
    const account = await accountRepository.findById(this.db, actor, accountId);
    if (!account) throw new NotFoundError(`Account #${accountId}`);
    if (account.status === 'terminated') throw new ConflictError(`${account.username} is terminated; nothing more can be done to it.`, 'kind');
    if (destructiveKinds.includes(kind) && (input.confirmUsername ?? '').trim().toLowerCase() !== account.username) {
      throw new ValidationError({ confirmUsername: `type the username "${account.username}" to confirm: ${actionLabels[kind].toLowerCase()} cannot be undone` });
    }
    const now = this.clock.now();
    const key = input.idempotencyKey ? `client:${actor.login}:${input.idempotencyKey}` : `admin:${actor.login}:${kind}:${accountId}:${now.getTime()}`;
    const id = await this.db.transaction(async (trx) => {
      const { settings } = await readEnforcementSettings(trx);
      const { id, created } = await panelActionRepository.enqueue(
        trx,
        { key, kind, serverId: account.serverId, accountId, username: account.username, params: kind === 'suspend_account' ? { disallowResellerUnsuspend: Boolean(input.lockSuspension) } : {}, reason, origin: input.origin ?? 'admin', requestedBy: actor.login, needsApproval: false, maxAttempts: settings.maxAttempts },
        now,
      );
      if (!created) {
        // A retried request: the first one's action stands; a key reused for another request is an error.
        const first = await panelActionRepository.find(trx, id);
        if (first?.kind !== kind || first.accountId !== accountId) throw new ConflictError('This Idempotency-Key was already used for a different request.', 'idempotencyKey');
        return id;
      }
      await auditRepository.append(trx, { actorUserId: actor.userId, actorLogin: actor.login, action: 'enforcement.request', subjectType: 'account', subjectId: accountId, data: { actionId: id, kind, reason, username: account.username }, ip }, now);
      return id;
    });
    this.nudge();
    return this.find(id);
  }

  /** Approves an action waiting for it (termination, server suspension), with the username or server name typed. */
  async approve(actor: Actor, id: number, confirm: string, ip?: string | null): Promise<PanelAction> {
    requireAdmin(actor);
    const action = await this.find(id);
    if (action.status !== 'awaiting_approval') throw new ConflictError(`Action #${id} is ${action.status.replace('_', ' ')}, not awaiting approval.`);
    const expected = action.username ?? action.serverName;
    if (confirm.trim().toLowerCase() !== expected.toLowerCase()) throw new ValidationError({ confirm: `type "${expected}" to approve: ${actionLabels[action.kind].toLowerCase()} cannot be undone` });
    const now = this.clock.now();
    await this.db.transaction(async (trx) => {
      if (!(await panelActionRepository.approve(trx, id, actor.login, now))) throw new ConflictError(`Action #${id} changed meanwhile; reload the page.`);
      await auditRepository.append(trx, { actorUserId: actor.userId, actorLogin: actor.login, action: 'enforcement.approve', subjectType: action.accountId ? 'account' : 'server', subjectId: action.accountId ?? action.serverId, data: { actionId: id, kind: action.kind, target: expected }, ip }, now);
    });
    this.nudge();
    return this.find(id);
  }

  async retry(actor: Actor, id: number, ip?: string | null): Promise<PanelAction> {
    requireAdmin(actor);
    const action = await this.find(id);
    const now = this.clock.now();
    await this.db.transaction(async (trx) => {
      if (!(await panelActionRepository.retry(trx, id, now))) throw new ConflictError(`Only a failed action can be retried; #${id} is ${action.status.replace('_', ' ')}.`);
      await auditRepository.append(trx, { actorUserId: actor.userId, actorLogin: actor.login, action: 'enforcement.retry', subjectType: action.accountId ? 'account' : 'server', subjectId: action.accountId ?? action.serverId, data: { actionId: id, kind: action.kind, lastError: action.lastError }, ip }, now);
    });
    this.nudge();
    return this.find(id);
  }

  async cancel(actor: Actor, id: number, reason: string, ip?: string | null): Promise<PanelAction> {
    requireAdmin(actor);
    const why = requireReason(reason);
    const action = await this.find(id);
    const now = this.clock.now();
    await this.db.transaction(async (trx) => {
      if (!(await panelActionRepository.cancel(trx, id, actor.login, why, now))) throw new ConflictError(`Action #${id} is ${action.status.replace('_', ' ')}; only waiting, pending or failed actions can be cancelled.`);
      await auditRepository.append(trx, { actorUserId: actor.userId, actorLogin: actor.login, action: 'enforcement.cancel', subjectType: action.accountId ? 'account' : 'server', subjectId: action.accountId ?? action.serverId, data: { actionId: id, kind: action.kind, reason: why }, ip }, now);
    });
    return this.find(id);
  }

  /** An admin proposes suspending a whole server; it waits for approval like the ladder's proposals. */
  async proposeServerSuspension(actor: Actor, serverId: number, reason: string, ip?: string | null): Promise<number> {
    requireAdmin(actor);
    const why = requireReason(reason);
    const server = (await this.db('servers').where('id', serverId).first('id', 'name')) as { id: unknown; name: string } | undefined;
    if (!server) throw new NotFoundError(`Server #${serverId}`);
    const now = this.clock.now();
    return this.db.transaction(async (trx) => {
      const { settings } = await readEnforcementSettings(trx);
      const id = await proposeServerSuspension(trx, { serverId, reason: why, requestedBy: actor.login, origin: 'admin', key: `admin:${actor.login}:server:${serverId}:${now.getTime()}` }, settings, now);
      if (id === null) throw new ConflictError(`A suspension of ${server.name} is already waiting or running.`);
      await auditRepository.append(trx, { actorUserId: actor.userId, actorLogin: actor.login, action: 'enforcement.propose_server_suspension', subjectType: 'server', subjectId: serverId, data: { actionId: id, reason: why, mode: settings.serverSuspensionMode }, ip }, now);
      return id;
    });
  }

  /** Strikes recorded by hand (e.g. abuse seen outside complaints), which run the ladder like any other. */
  async addManualStrike(actor: Actor, accountId: number, reason: string, ip?: string | null): Promise<number> {
    requireAdmin(actor);
    const why = requireReason(reason);
    const account = await accountRepository.findById(this.db, actor, accountId);
    if (!account) throw new NotFoundError(`Account #${accountId}`);
    const now = this.clock.now();
    const id = await this.db.transaction(async (trx) => {
      const strikeId = (await strikeRepository.add(trx, { accountId, source: 'manual', complaintId: null, reason: why }, now))!;
      await auditRepository.append(trx, { actorUserId: actor.userId, actorLogin: actor.login, action: 'strike.add', subjectType: 'account', subjectId: accountId, data: { strikeId, reason: why }, ip }, now);
      await applyLadder(trx, { strikeId, accountId, reason: why }, now);
      return strikeId;
    });
    this.nudge();
    return toNumber(id);
  }
}
