import express, { Router } from 'express';
import type { Clock } from '../../lib/clock';
import { AppError } from '../../lib/errors';
import { hookSignatureProblem } from './hookSignature';
import type { PanelEventService } from './panelEventService';

/** POST /hooks/panel: events from the plugin's hook script, authenticated by an HMAC over timestamp and body. */
export function panelHookRoutes(deps: { events: PanelEventService; secretFile?: string; clock: Clock }): Router {
  const router = Router();
  router.post('/hooks/panel', express.raw({ type: '*/*', limit: '1mb' }), async (req, res) => {
    if (!deps.secretFile) throw new AppError(503, 'hooks_not_configured', 'Panel hooks are not configured on this app (set PANEL_HOOK_SECRET_FILE).');
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const problem = hookSignatureProblem({ secretFile: deps.secretFile, timestamp: req.get('x-antispam-timestamp'), signature: req.get('x-antispam-signature'), body, now: deps.clock.now() });
    if (problem) throw new AppError(401, 'invalid_signature', `Hook refused: ${problem}.`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      throw new AppError(400, 'invalid_json', 'The hook body is not JSON.');
    }
    const outcome = await deps.events.receive(parsed);
    res.status(202).json(outcome);
  });
  return router;
}
