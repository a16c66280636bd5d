import { Router, type Request, type Response } from 'express';
import { flash } from '../http/flash';
import { renderPage } from '../http/render';
import { actorFrom } from '../http/roleGate';
import { parseInput } from '../http/validate';
import { AppError } from '../lib/errors';
import { filterParams, filtersOf, statusListQuery } from './schemas';
import { domainRoutes, listingOf, postmasterWords, type AreaOptions, type PostmasterRouteDeps } from './routeShared';
import { verdictFilters } from './statusQueries';

const area: AreaOptions = { role: 'reseller', base: '/reseller/postmaster', home: { label: 'Home', href: '/reseller' } };
const listHref = (params: Record<string, string>) => {
  const qs = new URLSearchParams(params).toString();
  return qs ? `${area.base}?${qs}` : area.base;
};

/** The filters of a notify request, from the confirmation form's hidden fields or the link's query. */
const notifyFilters = (input: unknown) => parseInput(statusListQuery, input);

/**
 * Reseller → Postmaster: compliance across the reseller's customers (counts per verdict, % compliant),
 * the domains with filters, and "Notify failing customers" (a confirmation, then one notice per failing
 * domain, at most once a day each).
 */
export function resellerPostmasterRoutes(deps: PostmasterRouteDeps): Router {
  const router = Router();

  router.get('/postmaster', async (req, res) => {
    const page = await listingOf(deps, req);
    const counts = await deps.postmasterStatus.counts(actorFrom(req), { customer: page.query.customer });
    await renderPage(req, res, 'postmaster/reseller-index', {
      title: 'Postmaster',
      breadcrumbs: [area.home, { label: 'Postmaster' }],
      ...page,
      counts,
      compliance: deps.postmasterStatus.compliance(counts),
      verdictFilters,
      base: area.base,
      // The confirmation step acts on the filters in force on this page.
      notifyHref: `${area.base}/notify${listHref(page.params).slice(area.base.length)}`,
      ...postmasterWords,
    });
  });

  const showPlan = async (req: Request, res: Response, input: unknown, problem: string | null = null, status = 200) => {
    const query = notifyFilters(input);
    const plan = await deps.postmasterStatus.notifyPlan(actorFrom(req), filtersOf(query));
    const params = filterParams(query);
    await renderPage(req, res, 'postmaster/notify-confirm', {
      title: 'Notify failing customers',
      breadcrumbs: [area.home, { label: 'Postmaster', href: listHref(params) }, { label: 'Notify' }],
      plan,
      params,
      backHref: listHref(params),
      problem,
      status,
      ...postmasterWords,
    });
  };

  router.get('/postmaster/notify', async (req, res) => showPlan(req, res, req.query));

  router.post('/postmaster/notify', async (req, res) => {
    const raw = (req.body ?? {}) as Record<string, unknown>;
    const query = notifyFilters(raw);
    try {
      const result = await deps.postmasterStatus.notifyFailing(actorFrom(req), filtersOf(query), req.ip ?? null);
      const again = result.domains - result.queued;
      flash(
        req,
        'success',
        `Notices queued for ${result.queued} failing domain${result.queued === 1 ? '' : 's'} of ${result.customers} customer${result.customers === 1 ? '' : 's'}; they go out within a minute, with a copy to you.${again ? ` ${again} domain${again === 1 ? ' was' : 's were'} already notified today and ${again === 1 ? 'is' : 'are'} not notified again.` : ''}`,
      );
      res.redirect(listHref(filterParams(query)));
    } catch (err) {
      if (err instanceof AppError && err.status === 409) return showPlan(req, res, raw, err.message, 409);
      throw err;
    }
  });

  router.use(domainRoutes(deps, area));
  return router;
}
