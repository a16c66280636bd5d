import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type Express } from 'express';
import { apiRouter } from './api/router';
import { adminAuditRoutes } from './audit/routes';
import { adminUserRoutes } from './auth/adminRoutes';
import { authRoutes } from './auth/routes';
import { ssoRoutes } from './auth/ssoRoutes';
import { adminConsentRoutes, customerConsentRoutes } from './consent/routes';
import { customerImportRoutes } from './consent/import/routes';
import { resellerConsentRoutes } from './consent/statsRoutes';
import { customerOptInRoutes } from './consent/optin/customerRoutes';
import { optInPublicRoutes } from './consent/optin/publicRoutes';
import { adminPostmasterRoutes } from './postmaster/adminRoutes';
import { customerPostmasterRoutes } from './postmaster/customerRoutes';
import { postmasterPublicRoutes } from './postmaster/publicRoutes';
import { resellerPostmasterRoutes } from './postmaster/resellerRoutes';
import { unsubscribeRoutes } from './consent/unsubscribeRoutes';
import { adminMailRoutes } from './mail/adminRoutes';
import { adminNoticeRoutes } from './notices/adminRoutes';
import { customerStandingRoutes, resellerStandingRoutes } from './standing/routes';
import { adminChargeRoutes } from './charges/routes';
import { adminEnforcementRoutes } from './enforcement/routes';
import { csfBlockHookRoutes } from './blocks/hookRoutes';
import { adminBlockRoutes } from './blocks/routes';
import { adminComplaintRoutes } from './complaints/adminRoutes';
import { caseRoutes } from './complaints/caseRoutes';
import { adminServerRoutes } from './panel/adminRoutes';
import { panelHookRoutes } from './panel/hooks/hookRoutes';
import { tokenRoutes } from './auth/tokenRoutes';
import type { Container } from './container';
import { csrfProtection } from './http/csrf';
import { errorHandler, notFoundHandler } from './http/errors';
import { requestId } from './http/requestContext';
import { requireRole } from './http/roleGate';
import { securityHeaders } from './http/security';
import { viewHelpers } from './http/viewHelpers';
import { sessionMiddleware } from './http/session';
import { adminPolicyRoutes, customerPolicyRoutes, resellerPolicyRoutes } from './policy/routes';
import { adminTenancyRoutes, customerTenancyRoutes, resellerTenancyRoutes } from './tenancy/contextRoutes';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The Express app without listen(): main.ts listens, tests drive it directly. */
export function createApp(c: Container): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', c.config.trustProxy);
  app.set('views', path.join(root, 'views'));
  app.set('view engine', 'ejs');
  // Compiled templates are kept (Express does so only when NODE_ENV=production, which `npm start` does not set);
  // NODE_ENV=development turns it off so edited templates show without a restart.
  app.set('view cache', process.env.NODE_ENV !== 'development');
  Object.assign(app.locals, viewHelpers);

  app.use(requestId);
  app.use(securityHeaders());
  app.use('/static/bootstrap', express.static(path.join(root, 'node_modules/bootstrap/dist/css'), { maxAge: '7d' }));
  app.use('/static', express.static(path.join(root, 'public'), { maxAge: '1h' }));

  app.get('/healthz', async (_req, res) => {
    try {
      await c.db.raw('select 1');
      res.json({ status: 'ok', database: 'ok' });
    } catch {
      res.status(503).json({ status: 'unavailable', database: 'unreachable' });
    }
  });

  // The JSON API authenticates with Bearer tokens: no session, no cookies, no CSRF.
  // Complaint messages arrive raw (message/rfc822); twice the intake limit, so the service names the limit in its error.
  app.use('/api/v1', express.json({ limit: '1mb' }), express.raw({ type: 'message/rfc822', limit: c.config.complaints.maxBytes * 2 }), apiRouter({ users: c.users, endpoints: c.endpoints, baseUrl: c.config.baseUrl }));

  // Panel hooks authenticate with an HMAC over the raw body: no session, no CSRF.
  app.use(panelHookRoutes({ events: c.panelEvents, secretFile: c.config.panelHookSecretFile, clock: c.clock }));
  // CSF's BLOCK_REPORT (plugin/bin/csf-block-report), signed with the same hook secret.
  app.use(csfBlockHookRoutes({ blocks: c.blocks, secretFile: c.config.panelHookSecretFile, clock: c.clock }));

  // RFC 8058 unsubscribe links: mail clients POST without cookies; the signed token is the capability. No session, no CSRF.
  app.use(unsubscribeRoutes({ unsubscribe: c.unsubscribe }));
  // Double opt-in sign-up forms (embeddable in customers' sites) and confirmation links from mail. No session, no CSRF.
  app.use(optInPublicRoutes({ optIn: c.optIn }));
  // The read-confirmation link mailed to postmaster@domain: the token is the capability. No session, no CSRF.
  app.use(postmasterPublicRoutes({ reads: c.postmasterReads }));

  app.use(express.urlencoded({ extended: false, limit: '1mb' }));
  app.use(sessionMiddleware({ store: c.sessionStore, secret: c.sessionSecret, ttlHours: c.config.sessionTtlHours }));
  app.use(c.passport.initialize());
  app.use(c.passport.session());
  app.use(csrfProtection);

  app.use(authRoutes({ passport: c.passport, rateLimiter: c.rateLimiter }));
  app.use(ssoRoutes({ passport: c.passport, sso: c.sso }));

  const admin = express.Router();
  admin.use(adminTenancyRoutes(c), adminServerRoutes(c), adminPolicyRoutes(c.policy), adminMailRoutes(c), adminNoticeRoutes(c), adminComplaintRoutes(c), adminChargeRoutes(c), adminEnforcementRoutes(c), adminPostmasterRoutes(c), adminBlockRoutes(c), adminConsentRoutes(c.consent, c.consentStats), adminUserRoutes(c), adminAuditRoutes(c), tokenRoutes(c.users));
  app.use('/admin', requireRole('admin'), admin);

  const reseller = express.Router();
  reseller.use(resellerTenancyRoutes(c), resellerStandingRoutes(c), resellerPostmasterRoutes(c), resellerPolicyRoutes(c.policy), resellerConsentRoutes(c.consentStats), caseRoutes('reseller', c), tokenRoutes(c.users));
  app.use('/reseller', requireRole('reseller'), reseller);

  const customer = express.Router();
  customer.use(customerTenancyRoutes(c), customerStandingRoutes(c), customerPostmasterRoutes(c), customerPolicyRoutes(c.policy), customerConsentRoutes(c), customerImportRoutes({ imports: c.consentImports }), customerOptInRoutes(c), caseRoutes('customer', c), tokenRoutes(c.users));
  app.use('/customer', requireRole('customer'), customer);

  app.use(notFoundHandler);
  app.use(errorHandler);
  return app;
}
