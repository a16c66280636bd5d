import type { Knex } from 'knex';
import type { Endpoint } from './api/endpoint';
import { PanelActionLoop, runPanelActions } from './enforcement/actionLoop';
import { PanelActionWorker } from './enforcement/actionWorker';
import { enforcementEndpoints } from './enforcement/apiEndpoints';
import { EnforcementService } from './enforcement/enforcementService';
import { ProviderHooks } from './enforcement/providerHooks';
import { PostmasterCheckService } from './postmaster/checkService';
import { PostmasterService } from './postmaster/postmasterService';
import { proberFactory } from './postmaster/proberFactory';
import { ReadConfirmationService } from './postmaster/readConfirmation';
import { runPostmasterSweep } from './postmaster/sweep';
import { postmasterEndpoints } from './postmaster/apiEndpoints';
import { PostmasterStatusService } from './postmaster/statusService';
import { auditEndpoints } from './audit/apiEndpoints';
import { AuditService } from './audit/auditService';
import { blockEndpoints } from './blocks/apiEndpoints';
import { runBlockMaintenance } from './blocks/blockJob';
import { buildBlockService } from './blocks/buildBlocks';
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
import { runNoticeDelivery } from './notices/noticeJob';
import { NoticeSender } from './notices/noticeSender';
import { NoticeService } from './notices/noticeService';
import { NoticeTemplateService } from './notices/templateService';
import { StandingService } from './standing/standingService';
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
  // Notices are queued by enforcement decisions in their transaction; the sender delivers them (every minute, or right after a decision: noticeSender.sendDue()).
  const noticeSender = new NoticeSender({ db, clock, mailer });
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
  // IP block list: applied through the firewall FIREWALL names (csf), or recorded only (none).
  const blocks = buildBlockService({ db, clock, config: config.blocks });
  // Without WHMCS_URL approved charges export as CSV only (the pages say so).
  const chargeBilling = new WhmcsBilling(db, clock, config.whmcs ? new WhmcsClient(config.whmcs) : null, config.whmcs?.invoiceAction);
  const cases = new CaseService(db, clock, consent, mailer, { publicUrl: (path) => `${publicOrigin.replace(/\/+$/, '')}${path}` });
  const endpoints: Endpoint[] = [...authEndpoints(), ...tenancyEndpoints(tenancy), ...consentEndpoints(consent, tenancy), ...consentStatsEndpoints(consentStats), ...complaintEndpoints(complaintIntake, complaints), ...blockEndpoints(blocks), ...auditEndpoints(audit)];
  const panel = buildPanelServices({ db, clock, dataDir: config.dataDir, panel: { timeoutMs: config.panelTimeoutMs } });
  // Enforcement: decisions queue panel actions in their own transaction; the worker (started by main.ts) carries them out.
  const providerHooks = new ProviderHooks(config.serverSuspension);
  const actionWorker = new PanelActionWorker({ db, clock, panels: panel.panels, providers: providerHooks });
  const actionLoop = new PanelActionLoop({ db, clock, jobs: panel.jobs, worker: actionWorker });
  const enforcement = new EnforcementService(db, clock, providerHooks, () => actionLoop.nudge());
  endpoints.push(...enforcementEndpoints(enforcement));
  // Postmaster checks: panel routes once per account, SMTP probes (off with the simulated panel), read confirmations by mail.
  const postmasterChecks = new PostmasterCheckService({ db, clock, panels: panel.panels, proberFor: proberFactory({ db, clock }, config.postmaster) });
  const postmasterReads = new ReadConfirmationService({ db, clock, mailer, publicUrl: (path) => `${publicOrigin.replace(/\/+$/, '')}${path}` });
  const postmaster = new PostmasterService({ db, clock, panels: panel.panels, checks: postmasterChecks, reads: postmasterReads });
  // The pages' and the API's read side (scoped by actor), check now, and the reseller's notify action.
  const postmasterStatus = new PostmasterStatusService({ db, clock, checks: postmasterChecks, reads: postmasterReads, notices: noticeSender });
  endpoints.push(...postmasterEndpoints(postmasterStatus));
  return {
    ...panel,
    notices: new NoticeService(db, clock),
    noticeTemplates: new NoticeTemplateService(db, clock),
    noticeSender,
    noticeDelivery: (trigger: JobTrigger) => runNoticeDelivery({ jobs: panel.jobs, sender: noticeSender }, trigger),
    standing: new StandingService(db),
    panelEvents: new PanelEventService(db, clock, panel.accountSync),
    actionWorker,
    actionLoop,
    enforcement,
    postmaster,
    postmasterChecks,
    postmasterReads,
    postmasterStatus,
    postmasterSweep: (trigger: JobTrigger, opts?: { jitter?: boolean }) => runPostmasterSweep({ db, jobs: panel.jobs, checks: postmasterChecks }, trigger, opts),
    postmasterHousekeeping: (trigger: JobTrigger) => panel.jobs.run('postmaster-housekeeping', trigger, async () => ({ counts: await postmaster.housekeeping() })),
    panelActions: (trigger: JobTrigger) => runPanelActions({ jobs: panel.jobs, worker: actionWorker }, trigger),
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
    blocks,
    blockMaintenance: (trigger: JobTrigger) => runBlockMaintenance({ jobs: panel.jobs, blocks }, trigger),
    optInExpiry: (trigger: JobTrigger) => runOptInExpiry({ jobs: panel.jobs, optIn, limiter: hitLimiter }, trigger),
    endpoints,
    sso,
    passport: createPassport(users, sso ?? undefined),
    sessionStore: new KnexSessionStore(db, clock, config.sessionTtlHours * 3600_000),
    rateLimiter: new LoginRateLimiter(db, clock, config.loginMaxFailures, config.loginWindowMinutes),
  };
}

export type Container = ReturnType<typeof buildContainer>;
