import { Router, type Request, type Response } from 'express';
import { flash } from '../http/flash';
import { renderPage } from '../http/render';
import { actorFrom } from '../http/roleGate';
import { parseInput } from '../http/validate';
import { AppError, ValidationError, type FieldErrors } from '../lib/errors';
import { loadAccountCard } from './accountCard';
import { actionLabels } from './actionKinds';
import type { EnforcementRouteDeps } from './routeDeps';
import { queuedMessage, statusWords } from './presentation';
import { accountActionForm, accountIdParam, strikeForm } from './schemas';

/**
 * The forms of the Enforcement card on an admin account page (views/enforcement/account-card.ejs):
 * a direct action and a manual strike. Success returns to the account page; a form error shows the
 * card on its own page with the messages and what was entered.
 */
export function adminAccountEnforcementRoutes(deps: Pick<EnforcementRouteDeps, 'enforcement' | 'tenancy'>): Router {
  const router = Router();
  const { enforcement, tenancy } = deps;

  const show = async (req: Request, res: Response, id: number, errors: FieldErrors = {}, values: Record<string, string> = {}, status = 200) => {
    const account = await tenancy.getAccount(actorFrom(req), id);
    await renderPage(req, res, 'enforcement/account', {
      title: `Enforcement on ${account.username}`,
      breadcrumbs: [{ label: 'Home', href: '/admin' }, { label: 'Accounts', href: '/admin/accounts' }, { label: account.username, href: `/admin/accounts/${account.id}` }, { label: 'Enforcement' }],
      account,
      card: await loadAccountCard(enforcement, account.id),
      errors,
      values,
      status,
    });
  };

  router.get('/enforcement/accounts/:id', async (req, res) => show(req, res, parseInput(accountIdParam, req.params).id));

  /** Re-renders the card with field messages; a conflict (e.g. a terminated account) is shown beside `field`. */
  const handle = (field: string, run: (req: Request, id: number, raw: Record<string, string>) => Promise<string>) => async (req: Request, res: Response) => {
    const { id } = parseInput(accountIdParam, req.params);
    const raw = (req.body ?? {}) as Record<string, string>;
    try {
      flash(req, 'success', await run(req, id, raw));
      res.redirect(`/admin/accounts/${id}`);
    } catch (err) {
      if (err instanceof ValidationError) return show(req, res, id, err.fields, raw, 422);
      if (err instanceof AppError && err.status === 409) return show(req, res, id, { [field]: err.message }, raw, 409);
      throw err;
    }
  };

  router.post(
    '/enforcement/accounts/:id/actions',
    handle('kind', async (req, id, raw) => {
      const form = parseInput(accountActionForm, raw);
      const action = await enforcement.requestAccountAction(actorFrom(req), id, { kind: form.kind, reason: form.reason, confirmUsername: form.confirmUsername, lockSuspension: form.lockSuspension }, req.ip ?? null);
      return queuedMessage(action);
    }),
  );

  router.post(
    '/enforcement/accounts/:id/strikes',
    handle('strikeReason', async (req, id, raw) => {
      // The strike form's field is named strikeReason so its message never lands on the action form's reason.
      let strikeId: number;
      try {
        strikeId = await enforcement.addManualStrike(actorFrom(req), id, parseInput(strikeForm, { reason: raw.strikeReason }).reason, req.ip ?? null);
      } catch (err) {
        if (err instanceof ValidationError && err.fields.reason) throw new ValidationError({ strikeReason: err.fields.reason });
        throw err;
      }
      // In the order the ladder queued them (the list is newest first).
      const queued = (await enforcement.list({ accountId: id }, { limit: 20 })).items.filter((a) => a.strikeId === strikeId).reverse();
      const steps = queued.map((a) => `${actionLabels[a.kind].toLowerCase()} (${statusWords[a.status]})`);
      return `Strike recorded. ${steps.length ? `The ladder queued: ${steps.join(', ')} — see the latest actions below.` : 'The ladder queued no action at this count.'}`;
    }),
  );

  return router;
}
