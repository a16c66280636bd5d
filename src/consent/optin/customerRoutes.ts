import { Router, type Request } from 'express';
import { flash } from '../../http/flash';
import { actorFrom } from '../../http/roleGate';
import { parseInput } from '../../http/validate';
import { AppError } from '../../lib/errors';
import { listIdParam } from '../schemas';
import type { ConsentList } from '../types';
import type { OptInService } from './optInService';

/** What the list page shows about double opt-in: the hosted form's address and the snippet to embed it. */
export function optInFacts(optIn: OptInService, list: ConsentList, origin: string) {
  return { formUrl: optIn.publicUrl(`/subscribe/${list.id}`, origin), snippet: optIn.embedSnippet(list, origin), expiryHours: optIn.expiryHours };
}

/** The customer's double opt-in actions: switch it on or off for a list, and send a confirmation mail to a record. */
export function customerOptInRoutes(deps: { optIn: OptInService }): Router {
  const router = Router();
  const origin = (req: Request) => `${req.protocol}://${req.get('host') ?? 'localhost'}`;

  router.post('/consent/lists/:id/double-opt-in', async (req, res) => {
    const { id } = parseInput(listIdParam, req.params);
    const on = (req.body as Record<string, string> | undefined)?.enabled === 'yes';
    await deps.optIn.setDoubleOptIn(actorFrom(req), id, on);
    flash(req, 'success', on ? 'Double opt-in is on: the sign-up form is live, and new sign-ups are confirmed by mail.' : 'Double opt-in is off: the sign-up form now answers "not found". Existing records are unchanged.');
    res.redirect(`/customer/consent/lists/${id}`);
  });

  router.post('/consent/records/:id/send-confirmation', async (req, res) => {
    const { id } = parseInput(listIdParam, req.params);
    try {
      const outcome = await deps.optIn.resend(actorFrom(req), id, origin(req));
      if (outcome === 'sent') flash(req, 'success', 'Confirmation mail sent. The record becomes confirmed when the recipient opens the link and confirms.');
      else flash(req, 'danger', 'The confirmation mail could not be sent right now. Try again later; if it keeps failing, contact your hosting provider.');
    } catch (err) {
      if (!(err instanceof AppError) || err.status >= 500 || err.status === 404) throw err;
      flash(req, 'danger', err.message);
    }
    res.redirect(`/customer/consent/records/${id}`);
  });

  return router;
}
