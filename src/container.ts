import type { Knex } from 'knex';
import type { Endpoint } from './api/endpoint';
import { AuditService } from './audit/auditService';
import { authEndpoints } from './auth/apiEndpoints';
import { ChargeService } from './charges/chargeService';
import { WhmcsBilling } from './charges/whmcsBilling';
import { WhmcsClient } from './charges/whmcs/whmcsClient';
import { complaintEndpoints } from './complaints/apiEndpoints';
import { CaseService } from './complaints/caseService';
import { ComplaintService } from './complaints/complaintService';
import { runComplaintHousekeeping } from './complaints/complaintJob';
import { ComplaintIntakeService } from './complaints/intakeService';
import { consentEndpoints, consentStatsEndpoints } from './consent/apiEndpoints';
import { ConsentService } from './consent/consentService';
import { ImportService } from './consent/import/importService';
import { ImportWorker } from './consent/import/importWorker';
import { ConsentStatsService } from './consent/statsService';
import { OptInService } from './consent/optin/optInService';
import { runOptInExpiry } from './consent/optin/expiryJob';
import { deriveOptInKey } from './consent/optin/optInToken';
import { UnsubscribeService } from './consent/unsubscribeService';
import { deriveUnsubscribeKey } from './consent/unsubscribeToken';
import { LoginRateLimiter } from './auth/loginRateLimiter';
import { createPassport } from './auth/passport';
import { KnexSessionStore } from './auth/sessionStore';
import { SsoService } from './auth/ssoService';
import { UserService } from './auth/userService';
import type { AppConfig } from './config/schema';
import { HitRateLimiter } from './http/hitRateLimiter';
import type { JobTrigger } from './jobs/jobRunRepository';
import type { Clock } from './lib/clock';
import { Mailer } from './mail/mailer';
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
  const consentStats = new ConsentStatsService(db);
  // Unsubscribe tokens are signed with a key derived from the session secret (fleets share SESSION_SECRET).
  const unsubscribe = new UnsubscribeService(consent, deriveUnsubscribeKey(sessionSecret), config.baseUrl);
  const mailer = new Mailer(db, clock, { smtpUrl: config.smtpUrl, from: config.mailFrom });
  const hitLimiter = new HitRateLimiter(db, clock);
  const optIn = new OptInService(db, clock, consent, mailer, hitLimiter, deriveOptInKey(sessionSecret), { baseUrl: config.baseUrl, expiryHours: config.optInExpiryHours });
  // CSV imports of consent records: main.ts starts the worker (tests and the bench drive it directly). Confirmation mails for
  // rows imported as pending go through the double opt-in service, with links on BASE_URL (or the local address).
  const appOrigin = config.baseUrl ?? `http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${config.port}`;
  const importWorker = new ImportWorker({ db, clock, sender: { sendForImported: (listId, recordIds) => optIn.sendForImported(listId, recordIds, appOrigin) } });
  const consentImports = new ImportService({ db, clock, consent, dataDir: config.dataDir, maxBytes: config.consentImportMaxBytes, worker: importWorker });
  // Panel SSO is on only when the shared secret file is configured (null: /sso says it is not configured).
  const sso = config.panelSsoSecretFile ? new SsoService(db, clock, config.panelSsoSecretFile) : null;
  const complaintIntake = new ComplaintIntakeService(db, clock, config.complaints);
  const complaints = new ComplaintService(db, clock, config.complaints);
  const publicOrigin = config.baseUrl ?? `http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${config.port}`;
  const charges = new ChargeService(db, clock);
  // Without WHMCS_URL approved charges export as CSV only (the pages say so).
  const chargeBilling = new WhmcsBilling(db, clock, config.whmcs ? new WhmcsClient(config.whmcs) : null, config.whmcs?.invoiceAction);
  const cases = new CaseService(db, clock, consent, mailer, { publicUrl: (path) => `${publicOrigin.replace(/\/+$/, '')}${path}` });
  const endpoints: Endpoint[] = [...authEndpoints(), ...tenancyEndpoints(tenancy), ...consentEndpoints(consent, tenancy), ...consentStatsEndpoints(consentStats), ...complaintEndpoints(complaintIntake, complaints)];
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
    consentImports,
    importWorker,
    consentStats,
    unsubscribe,
    mailer,
    optIn,
    complaintIntake,
    complaints,
    cases,
    charges,
    chargeBilling,
    complaintHousekeeping: (trigger: JobTrigger) => runComplaintHousekeeping({ jobs: panel.jobs, complaints, complaintIntake, cases }, trigger),
    optInExpiry: (trigger: JobTrigger) => runOptInExpiry({ jobs: panel.jobs, optIn, limiter: hitLimiter }, trigger),
    endpoints,
    sso,
    passport: createPassport(users, sso ?? undefined),
    sessionStore: new KnexSessionStore(db, clock, config.sessionTtlHours * 3600_000),
    rateLimiter: new LoginRateLimiter(db, clock, config.loginMaxFailures, config.loginWindowMinutes),
  };
}

export type Container = ReturnType<typeof buildContainer>;
