import { Router, type Request, type Response } from 'express';
import { fromDbTime } from '../db/dialect';
import { flash } from '../http/flash';
import { renderPage } from '../http/render';
import { actorFrom } from '../http/roleGate';
import { ValidationError, type FieldErrors } from '../lib/errors';
import type { PostmasterRouteDeps } from './routeShared';
import { settingsInputFromForm } from './schemas';
import { postmasterScopes } from './settings';

export const scopeWords: Record<(typeof postmasterScopes)[number], string> = {
  all: 'Every domain that receives mail here',
  dedicated: 'Only domains on dedicated servers (the policy\'s own wording)',
};

/** Admin → Postmaster → Settings: every setting with its help text; saving is audited by the service (before and after). */
export function adminPostmasterSettingsRoutes(deps: Pick<PostmasterRouteDeps, 'postmaster'>): Router {
  const router = Router();
  const { postmaster } = deps;

  const show = async (req: Request, res: Response, errors: FieldErrors = {}, values: Record<string, unknown> | null = null, status = 200) => {
    const current = await postmaster.readSettings();
    await renderPage(req, res, 'postmaster/settings', {
      title: 'Postmaster settings',
      breadcrumbs: [{ label: 'Home', href: '/admin' }, { label: 'Postmaster', href: '/admin/postmaster' }, { label: 'Settings' }],
      // After an error the form shows what was entered; otherwise what is in force.
      values: values ?? current.settings,
      current: current.settings,
      updatedBy: current.updatedBy,
      updatedAt: current.updatedAt ? fromDbTime(current.updatedAt) : null,
      scopes: postmasterScopes,
      scopeWords,
      errors,
      status,
    });
  };

  router.get('/postmaster/settings', async (req, res) => show(req, res));

  router.post('/postmaster/settings', async (req, res) => {
    const raw = (req.body ?? {}) as Record<string, unknown>;
    const input = settingsInputFromForm(raw);
    try {
      await postmaster.saveSettings(actorFrom(req), input, req.ip ?? null);
      flash(req, 'success', 'Postmaster settings saved. The next sweep and the checks from now on follow them.');
      res.redirect('/admin/postmaster/settings');
    } catch (err) {
      if (err instanceof ValidationError) return show(req, res, err.fields, { ...raw, ...input }, 422);
      throw err;
    }
  });

  return router;
}
