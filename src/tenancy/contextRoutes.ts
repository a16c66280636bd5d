import { Router } from 'express';
import { actorFrom } from '../http/roleGate';
import { renderPage } from '../http/render';
import type { EnforcementService } from '../enforcement/enforcementService';
import type { PolicyService } from '../policy/policyService';
import { accountPages, domainPages } from './pages';
import type { TenancyService } from './tenancyService';

interface Deps {
  tenancy: TenancyService;
  policy: PolicyService;
  /** Admin account pages show the Enforcement card. */
  enforcement?: EnforcementService;
}


export function adminTenancyRoutes(deps: Deps): Router {
  const router = Router();
  const home = { label: 'Home', href: '/admin' };

  router.get('/', async (req, res) => {
    const actor = actorFrom(req);
    const [servers, resellers, summary, current] = await Promise.all([
      deps.tenancy.listServers(),
      deps.tenancy.listResellers(actor),
      deps.tenancy.summary(actor),
      deps.policy.current(),
    ]);
    await renderPage(req, res, 'admin/home', { title: 'Fleet overview', servers, resellers, summary, currentPolicy: current });
  });

  router.get('/resellers', async (req, res) => {
    await renderPage(req, res, 'admin/resellers', { title: 'Resellers', breadcrumbs: [home, { label: 'Resellers' }], resellers: await deps.tenancy.listResellers(actorFrom(req)) });
  });

  router.use(accountPages(deps, { path: '/accounts', title: 'Accounts', home }));
  router.use(domainPages(deps, { path: '/domains', title: 'Domains', home }));
  return router;
}

export function resellerTenancyRoutes(deps: Deps): Router {
  const router = Router();
  const home = { label: 'Home', href: '/reseller' };

  router.get('/', async (req, res) => {
    const actor = actorFrom(req);
    const [customers, summary, acceptance] = await Promise.all([
      deps.tenancy.listAccounts(actor, { limit: 10 }),
      deps.tenancy.summary(actor),
      deps.policy.acceptances(actor, { state: 'never', limit: 1 }),
    ]);
    const outdated = await deps.policy.acceptances(actor, { state: 'outdated', limit: 1 });
    await renderPage(req, res, 'reseller/home', {
      title: 'Your customers',
      customers,
      summary,
      notAccepted: acceptance.total + outdated.total,
    });
  });

  router.use(accountPages(deps, { path: '/customers', title: 'Customers', home }));
  router.use(domainPages(deps, { path: '/domains', title: 'Domains', home }));
  return router;
}

export function customerTenancyRoutes(deps: Deps): Router {
  const router = Router();
  router.get('/', async (req, res) => {
    const actor = actorFrom(req);
    const account = await deps.tenancy.getAccount(actor, actor.accountId ?? 0);
    const [domains, current] = await Promise.all([deps.tenancy.listDomains(actor, { limit: 200 }), deps.policy.current()]);
    const acceptance = current ? await deps.policy.acceptanceOf(actor, current) : null;
    await renderPage(req, res, 'customer/home', { title: 'Your domains', account, domains, currentPolicy: current, acceptance });
  });
  router.use(domainPages(deps, { path: '/domains', title: 'Domains', home: { label: 'Home', href: '/customer' } }));
  return router;
}
