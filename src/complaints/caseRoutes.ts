import { Router, type Request, type Response } from 'express';
import { flash } from '../http/flash';
import { renderPage, type Crumb } from '../http/render';
import { actorFrom } from '../http/roleGate';
import { withQuery } from '../http/urls';
import { parseInput } from '../http/validate';
import { AppError, ValidationError, type FieldErrors } from '../lib/errors';
import type { Role } from '../tenancy/actor';
import type { CaseService } from './caseService';
import type { ComplaintService } from './complaintService';
import { complaintIdParam, complaintListQuery, deskForm, evidenceForm, forwardForm, noteForm } from './schemas';
import { complaintStatuses, deskStatuses } from './types';

/**
 * The complaints inbox of resellers (cases about their downstream customers) and customers (about
 * their own domains): the same pages, scoped by the signed-in actor; another tenant's case is a 404.
 */
export function caseRoutes(role: Exclude<Role, 'admin'>, deps: { complaints: ComplaintService; cases: CaseService }): Router {
  const router = Router();
  const base = `/${role}/complaints`;
  const home: Crumb = { label: 'Home', href: `/${role}` };
  const crumb: Crumb = { label: 'Complaints', href: base };
  const body = (req: Request) => (req.body ?? {}) as Record<string, string>;

  router.get('/complaints', async (req, res) => {
    const actor = actorFrom(req);
    const query = parseInput(complaintListQuery, req.query);
    const filters = { status: query.status, deskStatus: query.desk, q: query.q, from: query.from, to: query.to, overdue: query.overdue, customer: query.customer, domain: query.domain };
    // The total and the trend may be up to inboxNumbersMaxAgeSeconds old (src/complaints/inboxNumbers.ts; views/complaints/inbox.ejs says so); the listing is always current.
    const [listing, trend] = await Promise.all([
      deps.complaints.inbox(actor, filters, { limit: 50, cursor: query.cursor }, query.sort),
      deps.cases.trend(actor, { customer: query.customer, cached: true }),
    ]);
    await renderPage(req, res, 'complaints/inbox', {
      title: 'Complaints',
      breadcrumbs: [home, { label: 'Complaints' }],
      listing,
      query,
      role,
      base,
      trend,
      statuses: complaintStatuses,
      deskStatuses,
      nextHref: listing.nextCursor ? withQuery(req, { cursor: listing.nextCursor }) : null,
      firstHref: query.cursor ? withQuery(req, { cursor: undefined }) : null,
    });
  });

  const showCase = async (req: Request, res: Response, id: number, errors: FieldErrors = {}, values: Record<string, string> = {}, status = 200) => {
    const actor = actorFrom(req);
    const detail = await deps.complaints.get(actor, id);
    const [notes, trend] = await Promise.all([deps.cases.notes(actor, id), detail.complaint.accountId ? deps.cases.trend(actor, { accountId: detail.complaint.accountId }) : Promise.resolve([])]);
    await renderPage(req, res, 'complaints/case', { title: `Complaint #${id}`, breadcrumbs: [home, crumb, { label: `#${id}` }], ...detail, notes, trend, role, base, errors, values, status });
  };

  router.get('/complaints/:id', async (req, res) => showCase(req, res, parseInput(complaintIdParam, req.params).id));

  /** Runs a case action; field errors show the page again, a refused action becomes a flash message. */
  const action = (path: string, run: (req: Request, id: number) => Promise<string | { warning: string }>) =>
    router.post(`/complaints/:id/${path}`, async (req, res) => {
      const { id } = parseInput(complaintIdParam, req.params);
      try {
        const outcome = await run(req, id);
        if (typeof outcome === 'string') flash(req, 'success', outcome);
        else flash(req, 'warning', outcome.warning);
      } catch (err) {
        if (err instanceof ValidationError) return showCase(req, res, id, err.fields, body(req), 422);
        if (!(err instanceof AppError) || err.status >= 500 || err.status === 404) throw err;
        flash(req, 'danger', err.message);
      }
      res.redirect(`${base}/${id}`);
    });

  action('notes', async (req, id) => {
    await deps.cases.addNote(actorFrom(req), id, parseInput(noteForm, body(req)).body);
    return role === 'customer' ? 'Your reply was added to the case.' : 'Note added (the customer does not see notes).';
  });

  if (role === 'reseller') {
    action('forward', async (req, id) => {
      const sent = await deps.cases.forward(actorFrom(req), id, parseInput(forwardForm, body(req)).message);
      if (sent.status === 'failed') return { warning: `Marked forwarded, but the mail to ${sent.to} could not be sent now; the customer still sees the case in their panel.` };
      return `Forwarded to ${sent.to}; the customer also sees the case in their panel.`;
    });
    action('desk', async (req, id) => {
      const form = parseInput(deskForm, body(req));
      await deps.cases.setDesk(actorFrom(req), id, form.status, form.resolution ?? null);
      return form.status === 'resolved' ? 'Case resolved.' : 'Case marked as under investigation.';
    });
  }

  if (role === 'customer') {
    action('evidence', async (req, id) => {
      const form = parseInput(evidenceForm, body(req));
      await deps.cases.attachEvidence(actorFrom(req), id, { text: form.text, consentRecordId: form.consentRecordId });
      return 'Evidence attached. An administrator reviews it before the complaint is decided.';
    });
  }

  return router;
}
