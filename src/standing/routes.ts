import { Router } from 'express';
import { renderPage, type Crumb } from '../http/render';
import { actorFrom } from '../http/roleGate';
import { withQuery } from '../http/urls';
import { parseInput } from '../http/validate';
import { noticeKindInfo } from '../notices/kinds';
import { accountStatuses, outgoingMailStates } from '../tenancy/types';
import { accountIdParam, attentionQuery } from './schemas';
import type { StandingService } from './standingService';
import { accountStatusWords, actionKindWords, actionStatusWords, outgoingMailWords } from './standingWords';

/** What the standing partial (views/standing/details.ejs) needs besides the Standing itself. */
const words = { accountStatusWords, outgoingMailWords, actionKindWords, actionStatusWords, kindInfo: noticeKindInfo };

/** Customer → Account standing: the account's state in plain words, its strikes, notices and enforcement actions. */
export function customerStandingRoutes(deps: { standing: StandingService }): Router {
  const router = Router();
  router.get('/standing', async (req, res) => {
    const actor = actorFrom(req);
    const standing = await deps.standing.standing(actor, actor.accountId ?? 0);
    await renderPage(req, res, 'standing/show', {
      title: 'Account standing',
      breadcrumbs: [{ label: 'Home', href: '/customer' }, { label: 'Account standing' }],
      standing,
      you: true,
      complaintsBase: '/customer/complaints',
      ...words,
    });
  });
  return router;
}

/** Reseller → Enforcement: customers with strikes or suspensions, and the standing of each one. */
export function resellerStandingRoutes(deps: { standing: StandingService }): Router {
  const router = Router();
  const home: Crumb = { label: 'Home', href: '/reseller' };

  router.get('/enforcement', async (req, res) => {
    const query = parseInput(attentionQuery, req.query);
    const listing = await deps.standing.attention(actorFrom(req), { q: query.q, status: query.status, mail: query.mail, minStrikes: query.strikes }, { limit: 50, cursor: query.cursor });
    await renderPage(req, res, 'standing/reseller-index', {
      title: 'Enforcement',
      breadcrumbs: [home, { label: 'Enforcement' }],
      listing,
      query,
      statuses: accountStatuses,
      mailStates: outgoingMailStates,
      ownAccountId: actorFrom(req).accountId,
      nextHref: listing.nextCursor ? withQuery(req, { cursor: listing.nextCursor }) : null,
      firstHref: query.cursor ? withQuery(req, { cursor: undefined }) : null,
    });
  });

  router.get('/customers/:id/standing', async (req, res) => {
    const { id } = parseInput(accountIdParam, req.params);
    const standing = await deps.standing.standing(actorFrom(req), id);
    await renderPage(req, res, 'standing/show', {
      title: `Standing of ${standing.account.username}`,
      breadcrumbs: [home, { label: 'Enforcement', href: '/reseller/enforcement' }, { label: standing.account.username, href: `/reseller/customers/${standing.account.id}` }, { label: 'Standing' }],
      standing,
      you: false,
      complaintsBase: '/reseller/complaints',
      ...words,
    });
  });
  return router;
}
