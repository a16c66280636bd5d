import { Router, type Request } from 'express';
import { actorFrom } from '../http/roleGate';
import { renderPage, type Crumb } from '../http/render';
import { withQuery } from '../http/urls';
import { parseInput } from '../http/validate';
import { loadAccountCard } from '../enforcement/accountCard';
import type { EnforcementService } from '../enforcement/enforcementService';
import type { PolicyService } from '../policy/policyService';
import { accountQuerySchema, domainQuerySchema, idParamSchema } from './schemas';
import type { TenancyService } from './tenancyService';
import { accountStatuses, domainTypes } from './types';

interface ListPageOptions {
  /** Path under the context router, e.g. "/accounts" or "/customers". */
  path: string;
  title: string;
  home: Crumb;
}

/** Pager data every list view needs. */
function pager(req: Request, nextCursor: string | null) {
  return {
    nextHref: nextCursor ? withQuery(req, { cursor: nextCursor }) : null,
    firstHref: req.query.cursor ? withQuery(req, { cursor: undefined }) : null,
  };
}

/** Account list + detail pages, shared by the admin (all accounts) and reseller (own customers) contexts. */
export function accountPages(deps: { tenancy: TenancyService; policy: PolicyService; enforcement?: EnforcementService }, opts: ListPageOptions): Router {
  const router = Router();
  router.get(opts.path, async (req, res) => {
    const actor = actorFrom(req);
    const query = parseInput(accountQuerySchema, req.query);
    const [listing, servers, resellers] = await Promise.all([
      deps.tenancy.listAccounts(actor, query),
      actor.role === 'admin' ? deps.tenancy.listServers() : Promise.resolve([]),
      deps.tenancy.listResellers(actor),
    ]);
    await renderPage(req, res, 'tenancy/accounts', {
      title: opts.title,
      breadcrumbs: [opts.home, { label: opts.title }],
      listing,
      query,
      servers,
      resellers: resellers.filter((r) => r.id !== actor.accountId),
      statuses: accountStatuses,
      basePath: `${req.baseUrl}${opts.path}`,
      ...pager(req, listing.nextCursor),
    });
  });

  router.get(`${opts.path}/:id`, async (req, res) => {
    const actor = actorFrom(req);
    const { id } = parseInput(idParamSchema, req.params);
    const account = await deps.tenancy.getAccount(actor, id);
    const [domains, current, strikes] = await Promise.all([deps.tenancy.listDomains(actor, { account: account.id, limit: 200 }), deps.policy.current(), deps.tenancy.strikesOf(actor, account.id)]);
    const acceptance = current ? await deps.policy.acceptanceOf({ ...actor, accountId: account.id }, current) : null;
    // Admins act on the account from its page: the Enforcement card (views/enforcement/account-card.ejs).
    const enforcementCard = actor.role === 'admin' && deps.enforcement ? await loadAccountCard(deps.enforcement, account.id) : null;
    await renderPage(req, res, 'tenancy/account', {
      title: account.username,
      breadcrumbs: [opts.home, { label: opts.title, href: `${req.baseUrl}${opts.path}` }, { label: account.username }],
      account,
      domains,
      currentPolicy: current,
      acceptance,
      strikes,
      enforcementCard,
      complaintsBase: `${req.baseUrl}/complaints`,
      domainsHref: `${req.baseUrl}/domains?account=${account.id}`,
    });
  });
  return router;
}

/** Domain list page, shared by all three contexts (each sees its own scope). */
export function domainPages(deps: { tenancy: TenancyService }, opts: ListPageOptions): Router {
  const router = Router();
  router.get(opts.path, async (req, res) => {
    const actor = actorFrom(req);
    const query = parseInput(domainQuerySchema, req.query);
    const [listing, servers] = await Promise.all([deps.tenancy.listDomains(actor, query), actor.role === 'admin' ? deps.tenancy.listServers() : Promise.resolve([])]);
    const filteredAccount = query.account ? await deps.tenancy.getAccount(actor, query.account) : null;
    await renderPage(req, res, 'tenancy/domains', {
      title: opts.title,
      breadcrumbs: [opts.home, { label: opts.title }],
      listing,
      query,
      servers,
      filteredAccount,
      types: domainTypes,
      basePath: `${req.baseUrl}${opts.path}`,
      accountBase: actor.role === 'admin' ? '/admin/accounts' : actor.role === 'reseller' ? '/reseller/customers' : null,
      ...pager(req, listing.nextCursor),
    });
  });
  return router;
}
