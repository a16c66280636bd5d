import type { Knex } from 'knex';
import type { Endpoint } from './api/endpoint';
import { AuditService } from './audit/auditService';
import { authEndpoints } from './auth/apiEndpoints';
import { consentEndpoints } from './consent/apiEndpoints';
import { ConsentService } from './consent/consentService';
import { UnsubscribeService } from './consent/unsubscribeService';
import { deriveUnsubscribeKey } from './consent/unsubscribeToken';
import { LoginRateLimiter } from './auth/loginRateLimiter';
import { createPassport } from './auth/passport';
import { KnexSessionStore } from './auth/sessionStore';
import { SsoService } from './auth/ssoService';
import { UserService } from './auth/userService';
import type { AppConfig } from './config/schema';
import type { Clock } from './lib/clock';
import { PanelEventService } from './panel/hooks/panelEventService';
import { buildPanelServices } from './panel/panelServices';
import { PolicyService } from './policy/policyService';
import { tenancyEndpoints } from './tenancy/apiEndpoints';
import { TenancyService } from './tenancy/tenancyService';

export interface ContainerInput {
  config: AppConfig;
  db: Knex;
  clock: Clock;
  sessionSecret: string;
}

/** The one composition root: repositories are stateless modules; services get the db and clock here. */
export function buildContainer({ config, db, clock, sessionSecret }: ContainerInput) {
  const users = new UserService(db, clock);
  const tenancy = new TenancyService(db);
  const policy = new PolicyService(db, clock);
  const audit = new AuditService(db);
  const consent = new ConsentService(db, clock);
  // Unsubscribe tokens are signed with a key derived from the session secret (fleets share SESSION_SECRET).
  const unsubscribe = new UnsubscribeService(consent, deriveUnsubscribeKey(sessionSecret), config.baseUrl);
  // Panel SSO is on only when the shared secret file is configured (null: /sso says it is not configured).
  const sso = config.panelSsoSecretFile ? new SsoService(db, clock, config.panelSsoSecretFile) : null;
  const endpoints: Endpoint[] = [...authEndpoints(), ...tenancyEndpoints(tenancy), ...consentEndpoints(consent)];
  const panel = buildPanelServices({ db, clock, dataDir: config.dataDir, panel: { timeoutMs: config.panelTimeoutMs } });
  return {
    ...panel,
    panelEvents: new PanelEventService(db, clock, panel.accountSync),
    config,
    db,
    clock,
    sessionSecret,
    users,
    tenancy,
    policy,
    audit,
    consent,
    unsubscribe,
    endpoints,
    sso,
    passport: createPassport(users, sso ?? undefined),
    sessionStore: new KnexSessionStore(db, clock, config.sessionTtlHours * 3600_000),
    rateLimiter: new LoginRateLimiter(db, clock, config.loginMaxFailures, config.loginWindowMinutes),
  };
}

export type Container = ReturnType<typeof buildContainer>;
