import { Router, type Request, type Response } from 'express';
import type { AuditEntry } from '../audit/auditRepository';
import type { AuditService } from '../audit/auditService';
import { flash } from '../http/flash';
import { renderPage, type Crumb } from '../http/render';
import { actorFrom } from '../http/roleGate';
import { withQuery } from '../http/urls';
import { parseInput } from '../http/validate';
import { AppError, ValidationError, type FieldErrors } from '../lib/errors';
import type { Actor } from '../tenancy/actor';
import { adminAccountEnforcementRoutes } from './accountRoutes';
import { actionKinds, actionLabels } from './actionKinds';
import type { PanelAction } from './panelActionRepository';
import { approvalConsequence, canApprove, canCancel, canRetry, confirmWordOf, originWords, serverModeWords, statusTabs, statusWords, targetOf } from './presentation';
import { actionIdParam, actionListQuery, approveForm, cancelForm, filtersOf, serverSuspensionForm } from './schemas';
import { adminEnforcementSettingsRoutes } from './settingsRoutes';
import { queueCrumb, type EnforcementRouteDeps } from './routeDeps';

export type { EnforcementRouteDeps } from './routeDeps';

const home: Crumb = { label: 'Home', href: '/admin' };
const body = (req: Request) => (req.body ?? {}) as Record<string, string>;

/** Words every enforcement view uses, so a status or origin reads the same on every page. */
export const enforcementWords = { actionLabels, statusWords, originWords, targetOf };

/** The audit entries about one action (its request, the ladder's decision, approvals, each panel call), oldest first. */
async function timelineOf(audit: AuditService, actor: Actor, a: PanelAction): Promise<AuditEntry[]> {
  const subject = a.accountId ? { subjectType: 'account', subjectId: String(a.accountId) } : { subjectType: 'server', subjectId: String(a.serverId) };
  const listing = await audit.list(actor, { ...subject, from: a.createdAt }, { limit: 200 });
  const mentions = (e: AuditEntry) => e.data?.actionId === a.id || (Array.isArray(e.data?.actionIds) && (e.data.actionIds as unknown[]).includes(a.id));
  return listing.items.filter(mentions).reverse();
}

/** Admin → Enforcement: the queue of panel actions, one action's page with approve / retry / cancel, server suspension, settings, account actions. */
export function adminEnforcementRoutes(deps: EnforcementRouteDeps): Router {
  const router = Router();
  const { enforcement, audit, tenancy } = deps;
  // Fixed paths before /enforcement/:id, which would read "settings" as an action number.
  router.use(adminEnforcementSettingsRoutes(deps), adminAccountEnforcementRoutes(deps));

  router.get('/enforcement', async (req, res) => {
    const query = parseInput(actionListQuery, req.query);
    const filters = filtersOf(query);
    const [listing, total, counts] = await Promise.all([enforcement.list(filters, { limit: 50, cursor: query.cursor }), enforcement.total(filters), enforcement.counts()]);
    const account = query.account ? await tenancy.getAccount(actorFrom(req), query.account) : null;
    await renderPage(req, res, 'enforcement/index', {
      title: 'Enforcement',
      breadcrumbs: [home, { label: 'Enforcement' }],
      primaryAction: { label: 'Ladder settings', href: '/admin/enforcement/settings' },
      listing: { ...listing, total },
      query,
      account,
      counts,
      tabs: statusTabs,
      kinds: actionKinds,
      ...enforcementWords,
      nextHref: listing.nextCursor ? withQuery(req, { cursor: listing.nextCursor }) : null,
      firstHref: query.cursor ? withQuery(req, { cursor: undefined }) : null,
    });
  });

  const showServerForm = async (req: Request, res: Response, errors: FieldErrors = {}, values: Record<string, string> = {}, status = 200) => {
    const { settings } = await enforcement.readSettings();
    await renderPage(req, res, 'enforcement/server-suspension', {
      title: 'Propose suspending a server',
      breadcrumbs: [home, queueCrumb, { label: 'Suspend a server' }],
      servers: (await tenancy.listServers()).filter((s) => s.status === 'active'),
      mode: settings.serverSuspensionMode,
      modeLabel: serverModeWords[settings.serverSuspensionMode],
      errors,
      values,
      status,
    });
  };

  router.get('/enforcement/servers/suspend', async (req, res) => showServerForm(req, res));

  router.post('/enforcement/servers/suspend', async (req, res) => {
    const raw = body(req);
    try {
      const form = parseInput(serverSuspensionForm, raw);
      const id = await enforcement.proposeServerSuspension(actorFrom(req), form.server, form.reason, req.ip ?? null);
      flash(req, 'success', `Suspension of the server proposed (action #${id}); it waits for approval: type the server's name on this page to approve it.`);
      res.redirect(`/admin/enforcement/${id}`);
    } catch (err) {
      if (err instanceof ValidationError) return showServerForm(req, res, err.fields, raw, 422);
      if (err instanceof AppError && (err.status === 409 || err.status === 404)) return showServerForm(req, res, { server: err.message }, raw, err.status === 404 ? 422 : 409);
      throw err;
    }
  });

  const showAction = async (req: Request, res: Response, id: number, errors: FieldErrors = {}, values: Record<string, string> = {}, status = 200) => {
    const action = await enforcement.find(id);
    const timeline = await timelineOf(audit, actorFrom(req), action);
    await renderPage(req, res, 'enforcement/show', {
      title: `Action #${id}: ${actionLabels[action.kind]}`,
      breadcrumbs: [home, queueCrumb, { label: `#${id}` }],
      action,
      timeline,
      confirmWord: confirmWordOf(action),
      consequence: approvalConsequence(action),
      can: { approve: canApprove(action), retry: canRetry(action), cancel: canCancel(action) },
      ...enforcementWords,
      errors,
      values,
      status,
    });
  };

  router.get('/enforcement/:id', async (req, res) => showAction(req, res, parseInput(actionIdParam, req.params).id));

  /** Runs one form's change; field errors and conflicts re-render the action's page with the message beside `field`. */
  const act = (field: string, run: (req: Request, id: number, raw: Record<string, string>) => Promise<string>) => async (req: Request, res: Response) => {
    const { id } = parseInput(actionIdParam, req.params);
    const raw = body(req);
    try {
      flash(req, 'success', await run(req, id, raw));
      res.redirect(`/admin/enforcement/${id}`);
    } catch (err) {
      if (err instanceof ValidationError) return showAction(req, res, id, err.fields, raw, 422);
      if (err instanceof AppError && err.status === 409) return showAction(req, res, id, { [field]: err.message }, raw, 409);
      throw err;
    }
  };

  router.post(
    '/enforcement/:id/approve',
    act('confirm', async (req, id, raw) => {
      const a = await enforcement.approve(actorFrom(req), id, parseInput(approveForm, raw).confirm, req.ip ?? null);
      return `Approved: ${actionLabels[a.kind].toLowerCase()} for ${targetOf(a)} — the panel will be called within a minute.`;
    }),
  );

  router.post(
    '/enforcement/:id/retry',
    act('retry', async (req, id) => {
      const a = await enforcement.retry(actorFrom(req), id, req.ip ?? null);
      return `Action #${a.id} is queued again with a fresh budget of ${a.maxAttempts} attempts.`;
    }),
  );

  router.post(
    '/enforcement/:id/cancel',
    act('reason', async (req, id, raw) => {
      const a = await enforcement.cancel(actorFrom(req), id, parseInput(cancelForm, raw).reason, req.ip ?? null);
      return `Action #${a.id} (${actionLabels[a.kind].toLowerCase()} for ${targetOf(a)}) is cancelled; the panel will not be called.`;
    }),
  );

  return router;
}
