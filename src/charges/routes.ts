import { Router, type Request, type Response } from 'express';
import { csvLine } from '../http/csv';
import { flash } from '../http/flash';
import { renderPage, type Crumb } from '../http/render';
import { actorFrom } from '../http/roleGate';
import { withQuery } from '../http/urls';
import { parseInput } from '../http/validate';
import { AppError, ValidationError, type FieldErrors } from '../lib/errors';
import { billingStatuses, chargeStatuses } from './chargeRepository';
import { chargeDecisions, formatAmount, type ChargeFilters, type ChargeService } from './chargeService';
import { billingResolveForm, chargeDecisionForm, chargeIdParam, chargeListQuery, type ChargeListQuery } from './schemas';
import { maxPerSend, staleSendMs, type SendReport, type WhmcsBilling } from './whmcsBilling';

const home: Crumb = { label: 'Home', href: '/admin' };
const crumb: Crumb = { label: 'Charges', href: '/admin/charges' };
const body = (req: Request) => (req.body ?? {}) as Record<string, string>;

export const chargeCsvColumns = ['id', 'complaint_id', 'account', 'reseller', 'amount', 'currency', 'approved_at', 'approved_by', 'reason', 'billing_status', 'billing_ref'] as const;

const filtersOf = (q: ChargeListQuery): ChargeFilters => ({ status: q.status, account: q.account, reseller: q.reseller, from: q.from, to: q.to, billing: q.billing });

function reportMessage(r: SendReport): string {
  const parts = [`${r.sent} sent to WHMCS`];
  if (r.failed) parts.push(`${r.failed} failed`);
  if (r.unknown) parts.push(`${r.unknown} with an unknown outcome (check WHMCS, then settle them on the charge's page)`);
  if (r.skipped) parts.push(`${r.skipped} skipped`);
  const problems = r.results.filter((x) => x.outcome !== 'sent' && x.message).slice(0, 3).map((x) => `#${x.chargeId}: ${x.message}`);
  return `${parts.join(', ')}.${problems.length ? ` ${problems.join(' · ')}` : ''}`;
}

/** Admin → Charges: the ledger with filters and totals, CSV export of approved charges, decisions, and sending to WHMCS. */
export function adminChargeRoutes(deps: { charges: ChargeService; chargeBilling: WhmcsBilling }): Router {
  const router = Router();
  const { charges, chargeBilling } = deps;

  router.get('/charges', async (req, res) => {
    const query = parseInput(chargeListQuery, req.query);
    const listing = await charges.list(actorFrom(req), filtersOf(query), { limit: 50, cursor: query.cursor });
    // The CSV holds approved charges only: the other filters carry over.
    const exportQuery = new URLSearchParams();
    for (const [key, value] of Object.entries(req.query as Record<string, unknown>)) if (key !== 'cursor' && key !== 'status' && typeof value === 'string' && value !== '') exportQuery.set(key, value);
    await renderPage(req, res, 'charges/index', {
      title: 'Charges',
      breadcrumbs: [home, { label: 'Charges' }],
      listing,
      query,
      statuses: chargeStatuses,
      billingStatuses,
      whmcsConfigured: chargeBilling.configured,
      csvHref: `/admin/charges.csv${exportQuery.size ? `?${exportQuery.toString()}` : ''}`,
      formatAmount,
      nextHref: listing.nextCursor ? withQuery(req, { cursor: listing.nextCursor }) : null,
      firstHref: query.cursor ? withQuery(req, { cursor: undefined }) : null,
    });
  });

  // Approved charges only (the other filters apply), streamed a batch at a time.
  router.get('/charges.csv', async (req, res) => {
    const query = parseInput(chargeListQuery, req.query);
    const batches = charges.approved(actorFrom(req), filtersOf(query));
    const first = await batches.next();
    res.status(200).type('text/csv; charset=utf-8').attachment(`charges-approved-${new Date().toISOString().slice(0, 10)}.csv`);
    res.write(csvLine([...chargeCsvColumns]));
    const write = (rows: Awaited<ReturnType<typeof batches.next>>['value']) => {
      for (const c of rows ?? []) {
        res.write(csvLine([c.id, c.complaintId, c.accountUsername, c.resellerUsername, formatAmount(c.amountCents), c.currency, c.decidedAt?.toISOString() ?? '', c.decidedBy, c.reason, c.billingStatus, c.billingRef]));
      }
    };
    if (!first.done) write(first.value);
    for await (const rows of batches) write(rows);
    res.end();
  });

  router.get('/charges/send', async (req, res) => {
    const pending = await chargeBilling.pending(actorFrom(req));
    await renderPage(req, res, 'charges/send', {
      title: 'Send approved charges to WHMCS',
      breadcrumbs: [home, crumb, { label: 'Send to WHMCS' }],
      pending,
      maxPerSend,
      target: chargeBilling.target,
      formatAmount,
    });
  });

  router.post('/charges/send', async (req, res) => {
    try {
      const report = await chargeBilling.send(actorFrom(req), 'all', req.ip ?? null);
      flash(req, report.failed || report.unknown ? 'warning' : report.sent ? 'success' : 'info', report.results.length ? reportMessage(report) : 'No approved charge was waiting to be sent.');
    } catch (err) {
      if (!(err instanceof AppError) || err.status !== 409) throw err;
      flash(req, 'danger', err.message);
    }
    res.redirect('/admin/charges?status=approved');
  });

  const showCharge = async (req: Request, res: Response, id: number, errors: FieldErrors = {}, values: Record<string, string> = {}, status = 200) => {
    const detail = await charges.get(actorFrom(req), id);
    const stale = detail.charge.billingStatus === 'unknown' || (detail.charge.billingStatus === 'sending' && Date.now() - detail.charge.updatedAt.getTime() > staleSendMs);
    await renderPage(req, res, 'charges/show', {
      title: `Charge #${id}`,
      breadcrumbs: [home, crumb, { label: `#${id}` }],
      ...detail,
      decisions: chargeDecisions,
      whmcsConfigured: chargeBilling.configured,
      canSettle: stale,
      formatAmount,
      errors,
      values,
      status,
    });
  };

  router.get('/charges/:id', async (req, res) => showCharge(req, res, parseInput(chargeIdParam, req.params).id));

  router.post('/charges/:id/decision', async (req, res) => {
    const { id } = parseInput(chargeIdParam, req.params);
    const raw = body(req);
    try {
      const form = parseInput(chargeDecisionForm, raw);
      const charge = await charges.decide(actorFrom(req), id, form.status, form.reason, req.ip ?? null);
      flash(req, 'success', `Charge #${id} is ${charge.status}.`);
      res.redirect(`/admin/charges/${id}`);
    } catch (err) {
      if (err instanceof ValidationError) return showCharge(req, res, id, err.fields, raw, 422);
      if (err instanceof AppError && err.status === 409) return showCharge(req, res, id, { status: err.message }, raw, 409);
      throw err;
    }
  });

  router.post('/charges/:id/send', async (req, res) => {
    const { id } = parseInput(chargeIdParam, req.params);
    try {
      const report = await chargeBilling.send(actorFrom(req), { chargeId: id }, req.ip ?? null);
      const r = report.results[0]!;
      flash(req, r.outcome === 'sent' ? 'success' : r.outcome === 'skipped' ? 'info' : 'danger', r.outcome === 'sent' ? `Charge #${id} sent to WHMCS: billable item ${r.ref}.` : `Charge #${id} ${r.outcome === 'skipped' ? 'not sent' : r.outcome === 'unknown' ? 'send has an unknown outcome' : 'was not billed'}: ${r.message}`);
    } catch (err) {
      if (!(err instanceof AppError) || err.status !== 409) throw err;
      flash(req, 'danger', err.message);
    }
    res.redirect(`/admin/charges/${id}`);
  });

  router.post('/charges/:id/billing', async (req, res) => {
    const { id } = parseInput(chargeIdParam, req.params);
    const raw = body(req);
    try {
      const form = parseInput(billingResolveForm, raw);
      const charge = await chargeBilling.resolve(actorFrom(req), id, form, req.ip ?? null);
      flash(req, 'success', charge.billingStatus === 'sent' ? `Charge #${id} recorded as billed (WHMCS billable item ${charge.billingRef}).` : `Charge #${id} recorded as not billed; it can be sent again.`);
      res.redirect(`/admin/charges/${id}`);
    } catch (err) {
      if (err instanceof ValidationError) return showCharge(req, res, id, err.fields, raw, 422);
      if (err instanceof AppError && err.status === 409) return showCharge(req, res, id, { note: err.message }, raw, 409);
      throw err;
    }
  });

  return router;
}
