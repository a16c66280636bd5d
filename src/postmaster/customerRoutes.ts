import { Router, type Request, type Response } from 'express';
import { flash } from '../http/flash';
import { renderPage } from '../http/render';
import { actorFrom } from '../http/roleGate';
import { parseInput } from '../http/validate';
import { AppError, ValidationError } from '../lib/errors';
import { isPanelError } from '../panel/errors';
import { domainIdParam, fixForm, safeBack } from './schemas';
import { domainRoutes, flashKindOf, listingOf, outcomeMessage, postmasterWords, showDomain, type AreaOptions, type PostmasterRouteDeps } from './routeShared';

const area: AreaOptions = { role: 'customer', base: '/customer/postmaster', home: { label: 'Home', href: '/customer' } };
const body = (req: Request) => (req.body ?? {}) as Record<string, unknown>;

/**
 * Customer → Postmaster: every domain's postmaster@ in plain words, the one-click fix (a forwarder to
 * the contact address, or a mailbox, created through the panel and checked again at once), "Check now",
 * and each domain's history with its evidence.
 */
export function customerPostmasterRoutes(deps: PostmasterRouteDeps): Router {
  const router = Router();

  router.get('/postmaster', async (req, res) => {
    const page = await listingOf(deps, req);
    await renderPage(req, res, 'postmaster/customer-index', { title: 'Postmaster', breadcrumbs: [area.home, { label: 'Postmaster' }], ...page, base: area.base, ...postmasterWords });
  });

  /** A fix the panel or the rules refused: the domain's page with the reason, nothing changed. */
  const refused = async (req: Request, res: Response, id: number, err: unknown) => {
    if (err instanceof ValidationError) return showDomain(deps, area, req, res, id, { errors: err.fields, status: 422 });
    if (isPanelError(err)) {
      return showDomain(deps, area, req, res, id, { problem: `The control panel did not create the address (${err.message}). Nothing was changed. Try again in a few minutes, or create postmaster@ yourself in cPanel → Email.`, status: 502 });
    }
    if (err instanceof AppError && err.status === 409) return showDomain(deps, area, req, res, id, { problem: err.message, status: 409 });
    throw err;
  };

  router.post('/postmaster/:id/fix', async (req, res) => {
    const { id } = parseInput(domainIdParam, req.params);
    const actor = actorFrom(req);
    let result;
    try {
      const { mode } = parseInput(fixForm, body(req));
      result = await deps.postmaster.fix(actor, id, mode, req.ip ?? null);
    } catch (err) {
      return refused(req, res, id, err);
    }
    let outcome = result.outcome;
    // An unread domain stays unread until a verification mail is confirmed: the new address gets a fresh one.
    const resent = outcome.verdict === 'unread';
    if (resent) outcome = await deps.postmasterStatus.resendVerification(actor, id);
    const done = `Created ${result.created}. ${outcomeMessage(outcome)}${resent ? ` A new verification mail went to postmaster@${outcome.domain}: open its link to confirm that it is read.` : ''}`;
    if (result.password) {
      // The password exists only in this response: never in the session, the log or the database.
      res.set('Cache-Control', 'no-store');
      return renderPage(req, res, 'postmaster/mailbox-created', {
        title: `Mailbox postmaster@${outcome.domain} created`,
        breadcrumbs: [area.home, { label: 'Postmaster', href: area.base }, { label: outcome.domain, href: `${area.base}/${id}` }, { label: 'Mailbox created' }],
        outcome,
        done,
        password: result.password,
        base: area.base,
        ...postmasterWords,
      });
    }
    flash(req, flashKindOf(outcome), done);
    res.redirect(safeBack(body(req).back, area.base, `${area.base}/${id}`));
  });

  router.post('/postmaster/:id/verify', async (req, res) => {
    const { id } = parseInput(domainIdParam, req.params);
    let outcome;
    try {
      outcome = await deps.postmasterStatus.resendVerification(actorFrom(req), id);
    } catch (err) {
      return refused(req, res, id, err);
    }
    flash(req, 'success', `A verification mail went to postmaster@${outcome.domain}. Open its link and press the button within the grace period to confirm that the address is read.`);
    res.redirect(safeBack(body(req).back, area.base, `${area.base}/${id}`));
  });

  router.use(domainRoutes(deps, area));
  return router;
}
