import { Router } from 'express';
import { actorFrom } from '../http/roleGate';
import { renderPage } from '../http/render';
import { withQuery } from '../http/urls';
import { parseInput } from '../http/validate';
import { statsQuerySchema, statsSorts } from './schemas';
import type { ConsentStatsService } from './statsService';

/** Column headings of the statistics table, in order, with the sort each one switches to. */
const columns: Array<{ label: string; sort: (typeof statsSorts)[number] }> = [
  { label: 'Customer', sort: 'customer' },
  { label: 'Lists', sort: 'lists' },
  { label: 'Records', sort: 'records' },
  { label: 'Confirmed', sort: 'confirmed' },
  { label: 'Confirmed share', sort: 'share' },
  { label: 'Pending', sort: 'pending' },
  { label: 'Revocations', sort: 'revoked' },
  { label: 'Last activity', sort: 'activity' },
];

/** /reseller/consent: per-customer consent statistics over the reseller's tree, never an address. */
export function resellerConsentRoutes(stats: ConsentStatsService): Router {
  const router = Router();
  router.get('/consent', async (req, res) => {
    const query = parseInput(statsQuerySchema, req.query);
    const listing = await stats.list(actorFrom(req), query);
    const sort = query.sort ?? 'customer';
    const dir = query.dir ?? (sort === 'customer' ? 'asc' : 'desc');
    const headings = columns.map((c) => {
      // A click on the current column flips its direction; another column starts with its natural one.
      const nextDir = c.sort === sort ? (dir === 'asc' ? 'desc' : 'asc') : c.sort === 'customer' ? 'asc' : 'desc';
      return { ...c, active: c.sort === sort, ariaSort: c.sort === sort ? (dir === 'asc' ? 'ascending' : 'descending') : null, href: withQuery(req, { sort: c.sort, dir: nextDir, cursor: undefined }) };
    });
    await renderPage(req, res, 'consent/reseller', {
      title: 'Consent by customer',
      breadcrumbs: [{ label: 'Home', href: '/reseller' }, { label: 'Consent' }],
      listing,
      query,
      headings,
      basePath: `${req.baseUrl}/consent`,
      nextHref: listing.nextCursor ? withQuery(req, { cursor: listing.nextCursor }) : null,
      firstHref: query.cursor ? withQuery(req, { cursor: undefined }) : null,
    });
  });
  return router;
}
