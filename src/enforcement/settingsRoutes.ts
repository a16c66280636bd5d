import { Router, type Request, type Response } from 'express';
import { fromDbTime } from '../db/dialect';
import { flash } from '../http/flash';
import { renderPage } from '../http/render';
import { actorFrom } from '../http/roleGate';
import { ValidationError, type FieldErrors } from '../lib/errors';
import type { EnforcementRouteDeps } from './routeDeps';
import { firstStrikeWords, ladderSummary, serverModeWords } from './presentation';
import { settingsInputFromForm } from './schemas';
import { firstStrikeModes, serverSuspensionModes } from './settings';

/** Admin → Enforcement → Settings: the ladder and its thresholds; saving is audited by the service (before and after). */
export function adminEnforcementSettingsRoutes(deps: Pick<EnforcementRouteDeps, 'enforcement' | 'config'>): Router {
  const router = Router();
  const { enforcement } = deps;

  const show = async (req: Request, res: Response, errors: FieldErrors = {}, values: Record<string, unknown> | null = null, status = 200) => {
    const current = await enforcement.readSettings();
    await renderPage(req, res, 'enforcement/settings', {
      title: 'Enforcement settings',
      breadcrumbs: [{ label: 'Home', href: '/admin' }, { label: 'Enforcement', href: '/admin/enforcement' }, { label: 'Settings' }],
      // After an error the form shows what was entered; otherwise what is in force.
      values: values ?? current.settings,
      ladder: ladderSummary(current.settings),
      updatedBy: current.updatedBy,
      updatedAt: current.updatedAt ? fromDbTime(current.updatedAt) : null,
      firstStrikeModes,
      firstStrikeWords,
      serverSuspensionModes,
      serverModeWords,
      // The two provider modes need configuration the page cannot set; say which are usable.
      modeAvailable: { suspend_accounts: true, command: Boolean(deps.config.serverSuspension.command), webhook: Boolean(deps.config.serverSuspension.webhookUrl) },
      errors,
      status,
    });
  };

  router.get('/enforcement/settings', async (req, res) => show(req, res));

  router.post('/enforcement/settings', async (req, res) => {
    const raw = (req.body ?? {}) as Record<string, unknown>;
    const input = settingsInputFromForm(raw);
    try {
      await enforcement.saveSettings(actorFrom(req), input, req.ip ?? null);
      flash(req, 'success', 'Enforcement settings saved. Strikes recorded from now on follow them; actions already queued are not changed.');
      res.redirect('/admin/enforcement/settings');
    } catch (err) {
      // Checkboxes come back as booleans, numbers as typed (an emptied field stays empty).
      if (err instanceof ValidationError) return show(req, res, err.fields, { ...raw, ...input }, 422);
      throw err;
    }
  });

  return router;
}
