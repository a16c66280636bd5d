import type { AuditService } from '../audit/auditService';
import type { AppConfig } from '../config/schema';
import type { Crumb } from '../http/render';
import type { TenancyService } from '../tenancy/tenancyService';
import type { EnforcementService } from './enforcementService';

/** What the admin enforcement pages need (the queue, an action's page, settings, the account card). */
export interface EnforcementRouteDeps {
  enforcement: EnforcementService;
  audit: AuditService;
  tenancy: TenancyService;
  config: Pick<AppConfig, 'serverSuspension'>;
}

export const queueCrumb: Crumb = { label: 'Enforcement', href: '/admin/enforcement' };
