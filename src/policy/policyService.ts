import type { Knex } from 'knex';
import { auditRepository } from '../audit/auditRepository';
import { isUniqueViolation } from '../db/dialect';
import type { Clock } from '../lib/clock';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../lib/errors';
import type { Actor } from '../tenancy/actor';
import { defaultPageSize } from '../tenancy/tenancyService';
import { policyRepository, type AcceptanceState, type PolicyVersion } from './policyRepository';

export interface PublishInput {
  title: string;
  body: string;
  changeSummary?: string;
}

/** Published policy versions and each customer account's acceptance (time, IP, version). */
export class PolicyService {
  constructor(
    private readonly db: Knex,
    private readonly clock: Clock,
  ) {}

  current(): Promise<PolicyVersion | null> {
    return policyRepository.current(this.db);
  }

  list(): Promise<PolicyVersion[]> {
    return policyRepository.list(this.db);
  }

  async get(version: number): Promise<PolicyVersion> {
    const found = await policyRepository.findByVersion(this.db, version);
    if (!found) throw new NotFoundError(`Policy version ${version}`);
    return found;
  }

  async publish(actor: Actor, input: PublishInput, ip: string | null): Promise<number> {
    if (actor.role !== 'admin') throw new ForbiddenError('Only administrators publish the policy.');
    const fields: Record<string, string> = {};
    const title = input.title.trim();
    const body = input.body.replace(/\r\n/g, '\n').trim();
    if (!title || title.length > 191) fields.title = 'give the policy a title of 1-191 characters';
    if (body.length < 20) fields.body = 'write the policy text (at least 20 characters)';
    if ((input.changeSummary ?? '').length > 500) fields.changeSummary = 'keep the summary under 500 characters';
    if (Object.keys(fields).length) throw new ValidationError(fields);
    try {
      return await this.db.transaction(async (trx) => {
        const now = this.clock.now();
        const version = await policyRepository.insert(trx, { title, body, changeSummary: input.changeSummary?.trim() || null, publishedBy: actor.userId }, now);
        await auditRepository.append(trx, { actorUserId: actor.userId, actorLogin: actor.login, action: 'policy.publish', subjectType: 'policy_version', subjectId: version, data: { title }, ip }, now);
        return version;
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw new ConflictError('Another administrator published a version at the same moment. Reload and try again.');
      throw err;
    }
  }

  async acceptanceOf(actor: Actor, policy: PolicyVersion): Promise<{ acceptedAt: Date; ip: string | null } | null> {
    if (actor.accountId === null) return null;
    return policyRepository.findAcceptance(this.db, actor.accountId, policy.id);
  }

  /** Records that the customer's account accepts `version`; accepting twice keeps the first record. */
  async accept(actor: Actor, version: number, meta: { ip: string | null; userAgent: string | null }): Promise<'accepted' | 'already'> {
    if (actor.role !== 'customer' || actor.accountId === null) throw new ForbiddenError('Only customer accounts accept the policy.');
    const accountId = actor.accountId;
    const current = await policyRepository.current(this.db);
    if (!current) throw new NotFoundError('A published policy');
    if (current.version !== version) throw new ConflictError(`Version ${version} is no longer current; read version ${current.version} and accept that one.`);
    if (await policyRepository.findAcceptance(this.db, accountId, current.id)) return 'already';
    try {
      await this.db.transaction(async (trx) => {
        const now = this.clock.now();
        await policyRepository.insertAcceptance(trx, { accountId, policyVersionId: current.id, userId: actor.userId, ...meta }, now);
        await auditRepository.append(trx, { actorUserId: actor.userId, actorLogin: actor.login, action: 'policy.accept', subjectType: 'account', subjectId: accountId, data: { version }, ip: meta.ip }, now);
      });
      return 'accepted';
    } catch (err) {
      if (isUniqueViolation(err)) return 'already';
      throw err;
    }
  }

  async acceptances(actor: Actor, query: { q?: string; state?: AcceptanceState; cursor?: string; limit?: number }) {
    const current = await policyRepository.current(this.db);
    return policyRepository.acceptances(
      this.db,
      actor,
      { q: query.q, state: query.state, currentVersion: current?.version ?? null },
      { limit: query.limit ?? defaultPageSize, cursor: query.cursor },
    );
  }
}
