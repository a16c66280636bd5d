import express, { Router } from 'express';
import { parseInput } from '../http/validate';
import type { Clock } from '../lib/clock';
import { AppError } from '../lib/errors';
import { hookSignatureProblem } from '../panel/hooks/hookSignature';
import type { Actor } from '../tenancy/actor';
import type { BlockService } from './blockService';
import { blockFromLfdReport, lfdReportBody } from './lfdReport';

/** Who lfd's blocks are recorded as (created_by "lfd", audit actor "lfd"). */
const lfdActor: Actor = { userId: null, login: 'lfd', role: 'admin', accountId: null };

/**
 * POST /hooks/csf-block: lfd's BLOCK_REPORT, forwarded by plugin/bin/csf-block-report and signed
 * like the panel hooks (HMAC over timestamp and body with the hook secret). lfd has already applied
 * the block, so it is recorded as synced and not sent to csf again.
 */
export function csfBlockHookRoutes(deps: { blocks: BlockService; secretFile?: string; clock: Clock }): Router {
  const router = Router();
  router.post('/hooks/csf-block', express.raw({ type: '*/*', limit: '1mb' }), async (req, res) => {
    if (!deps.secretFile) throw new AppError(503, 'hooks_not_configured', 'Hooks are not configured on this app (set PANEL_HOOK_SECRET_FILE).');
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const problem = hookSignatureProblem({ secretFile: deps.secretFile, timestamp: req.get('x-antispam-timestamp'), signature: req.get('x-antispam-signature'), body, now: deps.clock.now() });
    if (problem) throw new AppError(401, 'invalid_signature', `Block report refused: ${problem}.`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      throw new AppError(400, 'invalid_json', 'The block report is not JSON.');
    }
    const report = parseInput(lfdReportBody, parsed);
    const input = blockFromLfdReport(report, deps.clock.now());
    const serverId = report.host ? await deps.blocks.serverIdByName(report.host) : null;
    const outcome = await deps.blocks.add(lfdActor, { ...input, serverId }, { appliedByFirewall: true, ip: req.ip ?? null });
    const b = outcome.block;
    res.status(202).json({ id: b.id, address: b.address, outcome: outcome.created ? 'created' : 'extended', reason: b.reason, expiresAt: b.expiresAt?.toISOString() ?? null, syncState: b.syncState, permanentBecause: outcome.permanentBecause });
  });
  return router;
}
