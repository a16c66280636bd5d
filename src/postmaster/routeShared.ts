import { Router, type Request, type Response } from 'express';
import { csvLine } from '../http/csv';
import { flash } from '../http/flash';
import { renderPage, type Crumb } from '../http/render';
import { actorFrom } from '../http/roleGate';
import { withQuery } from '../http/urls';
import { parseInput } from '../http/validate';
import type { FieldErrors } from '../lib/errors';
import type { Role } from '../tenancy/actor';
import type { CheckOutcome } from './checkService';
import type { PostmasterService } from './postmasterService';
import { fixableVerdicts, routeWords, smtpWords, transcriptLines, triggerWords, verdictLabels, verdictSentence } from './presentation';
import { domainIdParam, filterParams, filtersOf, safeBack, statusListQuery, type StatusListQuery } from './schemas';
import type { PostmasterStatusService } from './statusService';

export interface PostmasterRouteDeps {
  postmaster: PostmasterService;
  postmasterStatus: PostmasterStatusService;
}

/** Words every postmaster view uses, so a verdict reads the same on every page. */
export const postmasterWords = { verdictLabels, verdictSentence, routeWords, smtpWords, triggerWords, transcriptLines, fixableVerdicts };

export interface AreaOptions {
  role: Role;
  /** e.g. /customer/postmaster */
  base: string;
  home: Crumb;
}

export const areaCrumb = (area: AreaOptions): Crumb => ({ label: 'Postmaster', href: area.base });

/** The flash after a check: the new verdict in plain words. */
export function outcomeMessage(outcome: CheckOutcome): string {
  return `Checked ${outcome.domain} just now: ${verdictSentence(outcome.verdict, outcome.domain, outcome.reason)}.${outcome.verdict === 'unknown' ? '' : ` (${outcome.reason})`}`;
}

export const flashKindOf = (outcome: CheckOutcome) => (outcome.verdict === 'ok' || outcome.verdict === 'not_applicable' ? 'success' : outcome.verdict === 'unknown' ? 'warning' : 'danger');

/** A listing page's query: the filters, the page of domains, and the pager links. */
export async function listingOf(deps: PostmasterRouteDeps, req: Request): Promise<{ query: StatusListQuery; listing: Awaited<ReturnType<PostmasterStatusService['list']>>; nextHref: string | null; firstHref: string | null; params: Record<string, string>; back: string; csvHref: string }> {
  const query = parseInput(statusListQuery, req.query);
  const listing = await deps.postmasterStatus.list(actorFrom(req), filtersOf(query), { limit: 50, cursor: query.cursor });
  return {
    query,
    listing,
    params: filterParams(query),
    // Forms on the page (check now, fix) bring the browser back to this very listing.
    back: req.originalUrl,
    csvHref: `${req.baseUrl}${req.path}.csv${Object.keys(filterParams(query)).length ? `?${new URLSearchParams(filterParams(query)).toString()}` : ''}`,
    nextHref: listing.nextCursor ? withQuery(req, { cursor: listing.nextCursor }) : null,
    firstHref: query.cursor ? withQuery(req, { cursor: undefined }) : null,
  };
}

/** One domain's page: its state, what can be done, and the history of checks with their evidence. */
export async function showDomain(deps: PostmasterRouteDeps, area: AreaOptions, req: Request, res: Response, id: number, extra: { errors?: FieldErrors; status?: number; problem?: string | null } = {}): Promise<void> {
  const { status: domain, checks } = await deps.postmasterStatus.detail(actorFrom(req), id);
  await renderPage(req, res, 'postmaster/show', {
    title: domain.domain,
    breadcrumbs: [area.home, areaCrumb(area), { label: domain.domain }],
    d: domain,
    checks,
    base: area.base,
    role: area.role,
    errors: extra.errors ?? {},
    problem: extra.problem ?? null,
    status: extra.status,
    ...postmasterWords,
  });
}

/** The detail page and "Check now", the same in every area; the area's router mounts them after its fixed paths. */
export function domainRoutes(deps: PostmasterRouteDeps, area: AreaOptions): Router {
  const router = Router();
  const path = area.base.replace(/^\/(admin|reseller|customer)/, '');

  // The filtered table for spreadsheets, every page of it, streamed 500 domains at a time.
  router.get(`${path}.csv`, async (req, res) => {
    const query = parseInput(statusListQuery, req.query);
    const actor = actorFrom(req);
    res.status(200).type('text/csv; charset=utf-8').attachment(`postmaster-${new Date().toISOString().slice(0, 10)}.csv`);
    res.write(csvLine(['domain', 'account', 'owner', 'server', 'verdict', 'reason', 'verdict_since', 'last_checked_at', 'failing_since', 'notified_at', 'read_sent_at', 'read_confirmed_at']));
    let cursor: string | undefined;
    do {
      const page = await deps.postmasterStatus.list(actor, filtersOf(query), { limit: 500, cursor });
      for (const d of page.items) {
        const iso = (t: Date | null) => t?.toISOString() ?? '';
        res.write(csvLine([d.domain, d.username, d.ownerUsername, d.serverName, d.verdict ?? 'unchecked', d.reason, iso(d.verdictSince), iso(d.lastCheckedAt), iso(d.failingSince), iso(d.notifiedAt), iso(d.readSentAt), iso(d.readConfirmedAt)]));
      }
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    res.end();
  });

  router.get(`${path}/:id`, async (req, res) => showDomain(deps, area, req, res, parseInput(domainIdParam, req.params).id));

  router.post(`${path}/:id/check`, async (req, res) => {
    const { id } = parseInput(domainIdParam, req.params);
    const outcome = await deps.postmasterStatus.checkNow(actorFrom(req), id);
    flash(req, flashKindOf(outcome), outcomeMessage(outcome));
    res.redirect(safeBack((req.body as Record<string, unknown> | undefined)?.back, area.base, `${area.base}/${id}`));
  });

  return router;
}
