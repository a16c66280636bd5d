import { Router, type Request, type Response } from 'express';
import { csvLine } from '../http/csv';
import { flash } from '../http/flash';
import { renderPage, type Crumb } from '../http/render';
import { actorFrom } from '../http/roleGate';
import { withQuery } from '../http/urls';
import { parseInput } from '../http/validate';
import { AppError, ValidationError, type FieldErrors } from '../lib/errors';
import type { AddOutcome, BlockService } from './blockService';
import type { SyncOutcome } from './blockSync';
import { blockAddForm, blockIdParam, blockListQuery, ttlChoices } from './schemas';
import { blockReasonLabels, blockReasons, blockStatuses, syncStates, type IpBlock } from './types';

const home: Crumb = { label: 'Home', href: '/admin' };
const crumb: Crumb = { label: 'IP blocks', href: '/admin/blocks' };
const body = (req: Request) => (req.body ?? {}) as Record<string, string>;

export const blockCsvColumns = ['id', 'address', 'status', 'reason', 'reason_text', 'trigger', 'blocked_at', 'blocked_by', 'expires_at', 'lifted_at', 'lifted_by', 'lift_reason', 'firewall', 'server', 'events'] as const;

const until = (b: IpBlock) => (b.expiresAt ? `until ${b.expiresAt.toISOString().slice(0, 16).replace('T', ' ')} UTC` : 'permanently');

/** The flash after an add or lift: what happened in the list, then what the firewall did. */
function firewallSentence(sync: SyncOutcome, firewall: string | null): string {
  if (sync.state === 'synced') return firewall ? ` Applied through ${firewall}.` : '';
  if (sync.state === 'not_configured') return ' Recorded only: no firewall is configured (FIREWALL=none).';
  if (sync.state === 'failed') return ` ${firewall ?? 'The firewall'} failed: ${sync.error ?? 'unknown error'}. The job retries every few minutes.`;
  return ' The firewall change is pending; the job applies it within minutes.';
}

function addedMessage(o: AddOutcome, firewall: string | null): string {
  const b = o.block;
  const what = o.created ? `Blocked ${b.address} ${until(b)}` : `${b.address} was already blocked: block #${b.id} now lasts ${until(b)}`;
  return `${what}.${o.permanentBecause ? ` Permanent as a ${o.permanentBecause}.` : ''}${firewallSentence(o.sync, firewall)}`;
}

/** Admin → IP blocks: the list with filters, the add form, a block's evidence and timeline, lifting with a confirmation step. */
export function adminBlockRoutes(deps: { blocks: BlockService }): Router {
  const router = Router();
  const { blocks } = deps;

  router.get('/blocks', async (req, res) => {
    const query = parseInput(blockListQuery, req.query);
    const listing = await blocks.list(actorFrom(req), { status: query.status, reason: query.reason, q: query.q, serverId: query.server, sync: query.sync }, { limit: 50, cursor: query.cursor });
    await renderPage(req, res, 'blocks/index', {
      title: 'IP blocks',
      breadcrumbs: [home, { label: 'IP blocks' }],
      primaryAction: { label: 'Block an address', href: '/admin/blocks/new' },
      listing,
      query,
      status: 200,
      firewall: await blocks.firewallStatus(),
      servers: await blocks.servers(),
      statuses: blockStatuses,
      reasons: blockReasons,
      reasonLabels: blockReasonLabels,
      syncStates,
      csvHref: withQuery(req, { cursor: undefined }).replace('/blocks', '/blocks.csv'),
      nextHref: listing.nextCursor ? withQuery(req, { cursor: listing.nextCursor }) : null,
      firstHref: query.cursor ? withQuery(req, { cursor: undefined }) : null,
    });
  });

  // The list as CSV (the filters apply), written a page at a time.
  router.get('/blocks.csv', async (req, res) => {
    const query = parseInput(blockListQuery, req.query);
    const actor = actorFrom(req);
    const filters = { status: query.status, reason: query.reason, q: query.q, serverId: query.server, sync: query.sync };
    res.status(200).type('text/csv; charset=utf-8').attachment(`ip-blocks-${new Date().toISOString().slice(0, 10)}.csv`);
    res.write(csvLine([...blockCsvColumns]));
    let cursor: string | undefined;
    do {
      const page = await blocks.list(actor, filters, { limit: 500, cursor });
      for (const b of page.items) {
        res.write(csvLine([b.id, b.address, b.status, b.reason, b.reasonText, b.trigger, b.createdAt.toISOString(), b.createdBy, b.expiresAt?.toISOString() ?? 'permanent', b.liftedAt?.toISOString(), b.liftedBy, b.liftReason, b.syncState, b.serverName, b.evidence.count]));
      }
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    res.end();
  });

  const showForm = async (req: Request, res: Response, errors: FieldErrors = {}, values: Record<string, string> = {}, status = 200) => {
    await renderPage(req, res, 'blocks/new', {
      title: 'Block an address',
      breadcrumbs: [home, crumb, { label: 'New' }],
      errors,
      values: { reason: 'manual', duration: '86400', ...values },
      status,
      reasons: blockReasons,
      reasonLabels: blockReasonLabels,
      ttlChoices,
      servers: await blocks.servers(),
      firewall: await blocks.firewallStatus(),
      repeat: blocks.settings,
    });
  };

  router.get('/blocks/new', async (req, res) => showForm(req, res, {}, typeof req.query.address === 'string' ? { address: req.query.address } : {}));

  router.post('/blocks', async (req, res) => {
    const raw = body(req);
    try {
      const form = parseInput(blockAddForm, raw);
      const outcome = await blocks.add(
        actorFrom(req),
        { address: form.address, reason: form.reason, reasonText: form.reasonText ?? null, expiry: form.duration === 'permanent' ? { permanent: true } : { permanent: false, ttlSeconds: form.duration }, serverId: form.server ?? null },
        { ip: req.ip ?? null },
      );
      const firewall = (await blocks.firewallStatus()).firewall;
      flash(req, outcome.sync.state === 'failed' ? 'warning' : 'success', addedMessage(outcome, firewall));
      res.redirect(`/admin/blocks/${outcome.block.id}`);
    } catch (err) {
      if (err instanceof ValidationError) return showForm(req, res, err.fields, raw, 422);
      throw err;
    }
  });

  const showBlock = async (req: Request, res: Response, view: 'show' | 'lift', id: number, errors: FieldErrors = {}, values: Record<string, string> = {}, status = 200) => {
    const detail = await blocks.get(actorFrom(req), id);
    await renderPage(req, res, `blocks/${view}`, {
      title: view === 'lift' ? `Lift the block of ${detail.block.address}` : `Block #${id}: ${detail.block.address}`,
      breadcrumbs: [home, crumb, ...(view === 'lift' ? [{ label: `#${id}`, href: `/admin/blocks/${id}` }, { label: 'Lift' }] : [{ label: `#${id}` }])],
      ...detail,
      firewall: await blocks.firewallStatus(),
      reasonLabels: blockReasonLabels,
      errors,
      values,
      status,
    });
  };

  router.get('/blocks/:id', async (req, res) => showBlock(req, res, 'show', parseInput(blockIdParam, req.params).id));

  // The confirmation step: says what lifting does before anything happens.
  router.get('/blocks/:id/lift', async (req, res) => showBlock(req, res, 'lift', parseInput(blockIdParam, req.params).id));

  router.post('/blocks/:id/lift', async (req, res) => {
    const { id } = parseInput(blockIdParam, req.params);
    const raw = body(req);
    try {
      const { block, sync } = await blocks.lift(actorFrom(req), id, raw.reason ?? '', req.ip ?? null);
      const firewall = (await blocks.firewallStatus()).firewall;
      flash(req, sync.state === 'failed' ? 'warning' : 'success', `Lifted the block of ${block.address}.${firewallSentence(sync, firewall)}`);
      res.redirect(`/admin/blocks/${id}`);
    } catch (err) {
      if (err instanceof ValidationError) return showBlock(req, res, 'lift', id, err.fields, raw, 422);
      if (err instanceof AppError && err.status === 409) {
        flash(req, 'warning', err.message);
        return res.redirect(`/admin/blocks/${id}`);
      }
      throw err;
    }
  });

  router.post('/blocks/:id/sync', async (req, res) => {
    const { id } = parseInput(blockIdParam, req.params);
    try {
      const { sync } = await blocks.syncNow(actorFrom(req), id);
      flash(req, sync.state === 'synced' ? 'success' : 'warning', sync.state === 'synced' ? 'The firewall is up to date for this block.' : `The firewall failed again: ${sync.error ?? 'unknown error'}`);
    } catch (err) {
      if (!(err instanceof AppError) || err.status !== 409) throw err;
      flash(req, 'warning', err.message);
    }
    res.redirect(`/admin/blocks/${id}`);
  });

  return router;
}
