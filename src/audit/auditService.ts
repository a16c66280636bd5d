import type { Knex } from 'knex';
import { auditRepository, type AuditEntry } from './auditRepository';

/** Read side of the audit log for the admin page; writes happen inside each service's own transaction. */
export class AuditService {
  constructor(private readonly db: Knex) {}

  recent(limit = 200): Promise<AuditEntry[]> {
    return auditRepository.recent(this.db, limit);
  }
}
