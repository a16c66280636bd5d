import type { Knex } from 'knex';
import { ForbiddenError, NotFoundError } from '../lib/errors';
import type { Page, PageRequest } from '../lib/keyset';
import type { Actor } from '../tenancy/actor';
import { auditRepository, type AuditEntry, type AuditFilters, type AuditVerification } from './auditRepository';

export type AuditListing = Page<AuditEntry> & { total: number };

/**
 * Read side of the audit log (admin page, CSV, API, CLI); writes happen inside each service's own
 * transaction through auditRepository.append. The log spans every tenant, so only admins read it.
 */
export class AuditService {
  constructor(private readonly db: Knex) {}

  async list(actor: Actor, filters: AuditFilters, page: PageRequest): Promise<AuditListing> {
    this.mustBeAdmin(actor);
    return auditRepository.list(this.db, filters, page);
  }

  /** Every entry matching the filters, newest first, a batch at a time (refuses at once, before the first batch). */
  batches(actor: Actor, filters: AuditFilters): AsyncGenerator<AuditEntry[]> {
    this.mustBeAdmin(actor);
    return auditRepository.batches(this.db, filters);
  }

  /** One entry, with whether its own hash and its link to the entry before it check out. */
  async entry(actor: Actor, seq: number): Promise<{ entry: AuditEntry; hashMatches: boolean; linkMatches: boolean }> {
    this.mustBeAdmin(actor);
    const checked = await auditRepository.check(this.db, seq);
    if (!checked) throw new NotFoundError(`Audit entry #${seq}`);
    return checked;
  }

  async vocabulary(actor: Actor): Promise<{ actions: string[]; subjectTypes: string[] }> {
    this.mustBeAdmin(actor);
    return auditRepository.vocabulary(this.db);
  }

  /** Checks the whole chain (the CLI calls it as the system actor). */
  async verify(actor: Actor): Promise<AuditVerification> {
    this.mustBeAdmin(actor);
    return auditRepository.verify(this.db);
  }

  private mustBeAdmin(actor: Actor): void {
    if (actor.role !== 'admin') throw new ForbiddenError('Only administrators read the audit log.');
  }
}
