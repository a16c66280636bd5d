import type { Knex } from 'knex';
import { auditRepository } from '../audit/auditRepository';
import { isLockConflict, isUniqueViolation } from '../db/dialect';
import type { Clock } from '../lib/clock';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../lib/errors';
import type { PageRequest } from '../lib/keyset';
import type { Actor } from '../tenancy/actor';
import { serverRepository } from '../tenancy/serverRepository';
import { normalizeAddress } from './address';
import { blockRepository, widths, type BlockAuditEntry, type BlockFilters } from './blockRepository';
import type { BlockSync, SyncOutcome } from './blockSync';
import { blockingsSince, mergeEvidence, type EvidenceInput } from './evidence';
import { blockReasons, maxTtlSeconds, minTtlSeconds, type BlockExpiry, type BlockReason, type IpBlock, type SyncState } from './types';

export interface BlockSettings {
  /** A temporary block that makes this many blocks of one address within `repeatHours` is made permanent (BLOCK_REPEAT_COUNT). */
  repeatCount: number;
  repeatHours: number;
}

export interface AddBlockInput {
  address: string;
  reason: BlockReason;
  reasonText?: string | null;
  /** What raised it (lfd's trigger name, e.g. PS_LIMIT); null when entered by hand. */
  trigger?: string | null;
  expiry: BlockExpiry;
  serverId?: number | null;
  evidence?: EvidenceInput;
}

export interface AddOutcome {
  block: IpBlock;
  /** false: the address already had an active block, which was extended instead of adding a second one. */
  created: boolean;
  /** Set when a temporary block was made permanent as a repeat offender. */
  permanentBecause: string | null;
  sync: SyncOutcome;
}

export interface FirewallStatus {
  /** null: FIREWALL=none, blocks are recorded but not applied. */
  firewall: string | null;
  /** CSF TESTING = "1": csf clears its rules every few minutes, so blocks vanish. null: unknown. */
  testingMode: boolean | null;
  failedSyncs: number;
}

/** Shortest reason accepted for lifting a block (kept with the block and in the audit log). */
export const minLiftReasonLength = 5;

function isRetryable(err: unknown): boolean {
  return isUniqueViolation(err) || isLockConflict(err);
}

/**
 * The IP block list: adding (an address with an active block is extended, never duplicated;
 * repeat offenders become permanent), lifting, expiry, listing, and the firewall sync after each
 * commit. Every add, lift and expiry is audited in its transaction. Admins only.
 */
export class BlockService {
  constructor(
    private readonly db: Knex,
    private readonly clock: Clock,
    private readonly sync: BlockSync,
    readonly settings: BlockSettings,
  ) {}

  async add(actor: Actor, input: AddBlockInput, opts: { ip?: string | null; appliedByFirewall?: boolean } = {}): Promise<AddOutcome> {
    this.mustBeAdmin(actor, 'Only administrators block addresses.');
    const { address, family } = normalizeAddress(input.address, 'address');
    if (!(blockReasons as readonly string[]).includes(input.reason)) throw new ValidationError({ reason: `expects one of ${blockReasons.join(', ')}` });
    const reasonText = input.reasonText?.trim() || null;
    if (reasonText && reasonText.length > widths.reasonText) throw new ValidationError({ reasonText: `is too long: at most ${widths.reasonText} characters` });
    if (!input.expiry.permanent) {
      const ttl = input.expiry.ttlSeconds;
      if (!Number.isInteger(ttl) || ttl < minTtlSeconds || ttl > maxTtlSeconds) throw new ValidationError({ ttl: `expects a duration from ${minTtlSeconds} seconds to ${maxTtlSeconds / 86_400} days, or a permanent block` });
    }
    if (input.serverId != null && !(await serverRepository.findById(this.db, input.serverId))) throw new ValidationError({ server: `has no server #${input.serverId}` });

    // Two adds of one new address at once on MySQL: one deadlocks on the other's range lock and runs again (it then extends).
    const result = await this.transaction((trx) => this.addIn(trx, actor, { ...input, address, reasonText }, family, opts));
    let block = (await blockRepository.findById(this.db, result.id))!;
    let sync: SyncOutcome = { state: block.syncState, error: block.syncError };
    if (block.syncState === 'pending') {
      sync = await this.sync.apply(block);
      block = (await blockRepository.findById(this.db, result.id))!;
    }
    return { block, created: result.created, permanentBecause: result.permanentBecause, sync };
  }

  private async addIn(trx: Knex.Transaction, actor: Actor, input: AddBlockInput & { reasonText: string | null }, family: 4 | 6, opts: { ip?: string | null; appliedByFirewall?: boolean }) {
    const now = this.clock.now();
    const existing = await blockRepository.findActiveByAddress(trx, input.address);
    const since = new Date(now.getTime() - this.settings.repeatHours * 3_600_000);
    const blockings = blockingsSince(await blockRepository.aliveSince(trx, input.address, since), since) + 1;
    let permanentBecause: string | null = null;
    let permanent = input.expiry.permanent;
    if (!permanent && existing?.expiresAt !== null && blockings >= this.settings.repeatCount) {
      permanent = true;
      permanentBecause = `repeat offender: blocked ${blockings} times within ${this.settings.repeatHours} hours (BLOCK_REPEAT_COUNT=${this.settings.repeatCount}, BLOCK_REPEAT_HOURS=${this.settings.repeatHours})`;
    }
    const asked = input.expiry.permanent ? null : new Date(now.getTime() + input.expiry.ttlSeconds * 1000);
    const requested = permanent ? null : asked;
    const evidence = mergeEvidence(existing?.evidence ?? null, input.evidence, now, permanentBecause);
    // lfd reports a block it already applied: synced, unless the list now holds more than lfd applied (a repeat offender made permanent, a longer block kept).
    const lfdCovers = (expiresAt: Date | null) => opts.appliedByFirewall === true && asked?.getTime() === expiresAt?.getTime();

    let id: number;
    let expiresAt: Date | null;
    let syncState: SyncState;
    if (existing) {
      id = existing.id;
      expiresAt = existing.expiresAt === null || requested === null ? null : new Date(Math.max(existing.expiresAt.getTime(), requested.getTime()));
      const firewallChanges = expiresAt?.getTime() !== existing.expiresAt?.getTime();
      syncState = lfdCovers(expiresAt) ? 'synced' : firewallChanges ? this.sync.initialState : existing.syncState;
      await blockRepository.extend(trx, id, {
        expiresAt,
        reasonText: input.reasonText ?? existing.reasonText,
        trigger: input.trigger ?? existing.trigger,
        evidence,
        syncState,
        syncedAt: lfdCovers(expiresAt) ? now : existing.syncedAt,
        syncError: syncState === existing.syncState ? existing.syncError : null,
      });
    } else {
      expiresAt = requested;
      syncState = lfdCovers(expiresAt) ? 'synced' : this.sync.initialState;
      id = await blockRepository.insert(
        trx,
        { address: input.address, family, reason: input.reason, reasonText: input.reasonText, trigger: input.trigger ?? null, evidence, serverId: input.serverId ?? null, createdBy: actor.login, expiresAt, syncState, syncedAt: syncState === 'synced' ? now : null },
        now,
      );
    }
    await auditRepository.append(
      trx,
      {
        actorUserId: actor.userId,
        actorLogin: actor.login,
        action: 'ip_block.add',
        subjectType: 'ip_block',
        subjectId: id,
        data: {
          address: input.address,
          outcome: existing ? 'extended' : 'created',
          reason: input.reason,
          reasonText: input.reasonText,
          trigger: input.trigger ?? null,
          expiresAt: expiresAt ? expiresAt.toISOString() : null,
          permanent: expiresAt === null,
          ...(permanentBecause ? { permanentBecause } : {}),
          ...(opts.appliedByFirewall ? { appliedBy: 'lfd' } : {}),
        },
        ip: opts.ip ?? null,
      },
      now,
    );
    return { id, created: !existing, permanentBecause };
  }

  async lift(actor: Actor, id: number, reason: string, ip: string | null = null): Promise<{ block: IpBlock; sync: SyncOutcome }> {
    this.mustBeAdmin(actor, 'Only administrators lift blocks.');
    const why = reason.trim();
    if (why.length < minLiftReasonLength) throw new ValidationError({ reason: `is required: say why the block is lifted (at least ${minLiftReasonLength} characters); it is kept with the block and in the audit log` });
    if (why.length > widths.liftReason) throw new ValidationError({ reason: `is too long: at most ${widths.liftReason} characters` });
    await this.transaction(async (trx) => {
      const now = this.clock.now();
      const block = await blockRepository.findById(trx, id);
      if (!block) throw new NotFoundError(`IP block #${id}`);
      if (block.status !== 'active') throw new ConflictError(`Block #${id} of ${block.address} is already ${block.status}; there is nothing to lift.`);
      if (!(await blockRepository.lift(trx, id, { by: actor.login, reason: why, syncState: this.sync.initialState }, now))) throw new ConflictError(`Block #${id} changed while you were lifting it; reload it and try again.`);
      await auditRepository.append(trx, { actorUserId: actor.userId, actorLogin: actor.login, action: 'ip_block.lift', subjectType: 'ip_block', subjectId: id, data: { address: block.address, reason: why, wasPermanent: block.expiresAt === null }, ip }, now);
    });
    return this.syncAfterCommit(id);
  }

  /**
   * Active blocks past their end become expired (audited) and leave the firewall. Returns how many.
   * When the firewall cannot be run 3 times in a row, the rest are only marked (pending): the retry of the next run removes them.
   */
  async expireDue(limit = 500): Promise<number> {
    let n = 0;
    let failedInARow = 0;
    for (const block of await blockRepository.dueForExpiry(this.db, this.clock.now(), limit)) {
      const expired = await this.transaction(async (trx) => {
        const now = this.clock.now();
        if (!(await blockRepository.expire(trx, block.id, this.sync.initialState, now))) return false;
        await auditRepository.append(trx, { actorUserId: null, actorLogin: 'system', action: 'ip_block.expire', subjectType: 'ip_block', subjectId: block.id, data: { address: block.address, expiresAt: block.expiresAt?.toISOString() ?? null } }, now);
        return true;
      });
      if (!expired) continue;
      n++;
      if (failedInARow >= 3) continue;
      const { sync } = await this.syncAfterCommit(block.id);
      failedInARow = sync.unavailable ? failedInARow + 1 : 0;
    }
    return n;
  }

  /** Firewall changes that are still behind (failed, or pending after a crash). */
  retrySync(limit = 200): Promise<{ synced: number; failed: number }> {
    return this.sync.retry(limit);
  }

  /** Runs the firewall for one block now (the detail page's "try again"). */
  async syncNow(actor: Actor, id: number): Promise<{ block: IpBlock; sync: SyncOutcome }> {
    this.mustBeAdmin(actor, 'Only administrators sync blocks.');
    if (!(await blockRepository.findById(this.db, id))) throw new NotFoundError(`IP block #${id}`);
    if (!this.sync.configured) throw new ConflictError('No firewall is configured (FIREWALL=none): blocks are recorded but not applied.');
    return this.syncAfterCommit(id, true);
  }

  async list(actor: Actor, filters: BlockFilters, page: PageRequest) {
    this.mustBeAdmin(actor, 'Only administrators see the IP block list.');
    return blockRepository.list(this.db, filters, page);
  }

  async get(actor: Actor, id: number): Promise<{ block: IpBlock; history: BlockAuditEntry[] }> {
    this.mustBeAdmin(actor, 'Only administrators see the IP block list.');
    const block = await blockRepository.findById(this.db, id);
    if (!block) throw new NotFoundError(`IP block #${id}`);
    return { block, history: await blockRepository.history(this.db, id) };
  }

  /** The active block of an address (the CLI lifts by address). */
  async activeFor(actor: Actor, address: string): Promise<IpBlock | null> {
    this.mustBeAdmin(actor, 'Only administrators see the IP block list.');
    return blockRepository.findActiveByAddress(this.db, normalizeAddress(address, 'address').address);
  }

  /** The id of a server by its name (lfd reports name their host), or null when the app does not manage it. */
  async serverIdByName(name: string): Promise<number | null> {
    return (await serverRepository.findByName(this.db, name))?.id ?? null;
  }

  /** Servers a block can be linked to (the form's choices). */
  async servers(): Promise<Array<{ id: number; name: string }>> {
    return (await serverRepository.list(this.db)).map((s) => ({ id: s.id, name: s.name }));
  }

  async firewallStatus(): Promise<FirewallStatus> {
    const firewall = this.sync.firewall;
    return { firewall: firewall?.name ?? null, testingMode: firewall ? await firewall.testingMode() : null, failedSyncs: await blockRepository.countBySync(this.db, 'failed') };
  }

  private async syncAfterCommit(id: number, force = false): Promise<{ block: IpBlock; sync: SyncOutcome }> {
    let block = (await blockRepository.findById(this.db, id))!;
    let sync: SyncOutcome = { state: block.syncState, error: block.syncError };
    if (block.syncState === 'pending' || (force && block.syncState !== 'synced')) {
      sync = await this.sync.apply(block);
      block = (await blockRepository.findById(this.db, id))!;
    }
    return { block, sync };
  }

  /** A transaction that runs again (up to 3 times) when MySQL picks it as a deadlock victim; nothing of a lost attempt was committed. */
  private async transaction<T>(fn: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.db.transaction(fn);
      } catch (err) {
        if (!isRetryable(err) || attempt >= 3) throw err;
      }
    }
  }

  private mustBeAdmin(actor: Actor, message: string): void {
    if (actor.role !== 'admin') throw new ForbiddenError(message);
  }
}
