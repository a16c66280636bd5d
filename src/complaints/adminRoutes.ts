import { Router, type Request, type Response } from 'express';
import { flash } from '../http/flash';
import { renderPage, type Crumb } from '../http/render';
import { actorFrom } from '../http/roleGate';
import { withQuery } from '../http/urls';
import { parseInput } from '../http/validate';
import { AppError, ValidationError, type FieldErrors } from '../lib/errors';
import type { ChargeService } from '../charges/chargeService';
import type { CaseService } from './caseService';
import type { ComplaintService } from './complaintService';
import { receiveEmlFiles, maxFilesPerUpload } from './emlUpload';
import type { ComplaintIntakeService } from './intakeService';
import { buildManualReport, manualComplaintForm } from './manualReport';
import { assignForm, complaintIdParam, complaintListQuery, decisionForm } from './schemas';
import { complaintStatuses, deskStatuses } from './types';

const home: Crumb = { label: 'Home', href: '/admin' };
const crumb: Crumb = { label: 'Complaints', href: '/admin/complaints' };
const body = (req: Request) => (req.body ?? {}) as Record<string, string>;

/** What needs an admin: the triage queues shown as tabs with counts. */
const queues = ['unattributed', 'review', 'unparsed', 'awaiting_evidence'] as const;

export function adminComplaintRoutes(deps: { complaints: ComplaintService; complaintIntake: ComplaintIntakeService; cases: CaseService; charges: ChargeService; config: { complaints: { maxBytes: number } } }): Router {
  const router = Router();
  const { complaints, complaintIntake } = deps;

  router.get('/complaints', async (req, res) => {
    const actor = actorFrom(req);
    const query = parseInput(complaintListQuery, req.query);
    const [listing, counts] = await Promise.all([
      complaints.list(actor, { status: query.status, deskStatus: query.desk, q: query.q, from: query.from, to: query.to, overdue: query.overdue }, { limit: 50, cursor: query.cursor }),
      complaints.countsByStatus(actor),
    ]);
    await renderPage(req, res, 'complaints/admin-index', {
      title: 'Complaints',
      breadcrumbs: [home, { label: 'Complaints' }],
      primaryAction: { label: 'Upload reports', href: '/admin/complaints/upload' },
      listing,
      counts,
      queues,
      query,
      statuses: complaintStatuses,
      deskStatuses,
      nextHref: listing.nextCursor ? withQuery(req, { cursor: listing.nextCursor }) : null,
      firstHref: query.cursor ? withQuery(req, { cursor: undefined }) : null,
    });
  });

  const showUpload = (req: Request, res: Response, results: Array<{ filename: string; error?: string; id?: number; status?: string; stored?: boolean; account?: string | null; count?: number }> | null, status = 200) =>
    renderPage(req, res, 'complaints/upload', {
      title: 'Upload complaint reports',
      breadcrumbs: [home, crumb, { label: 'Upload' }],
      results,
      maxFiles: maxFilesPerUpload,
      maxMb: Math.round(deps.config.complaints.maxBytes / 1024 / 1024),
      status,
    });

  router.get('/complaints/upload', (req, res) => showUpload(req, res, null));

  router.post('/complaints/upload', async (req, res) => {
    const actor = actorFrom(req);
    let files;
    try {
      files = await receiveEmlFiles(req, deps.config.complaints.maxBytes);
    } catch (err) {
      if (!(err instanceof AppError) || err.status >= 500) throw err;
      flash(req, 'danger', err.message);
      return res.redirect('/admin/complaints/upload');
    }
    const readable = files.filter((f) => f.bytes !== null);
    const outcomes = await complaintIntake.ingestMany(
      readable.map((f) => f.bytes!),
      'upload',
      actor.login,
    );
    const results = [];
    for (const file of files) {
      if (!file.bytes) {
        results.push({ filename: file.filename, error: `larger than ${Math.round(deps.config.complaints.maxBytes / 1024 / 1024)} MB (COMPLAINT_MAX_MB): not stored` });
        continue;
      }
      const outcome = outcomes[readable.indexOf(file)]!;
      if ('error' in outcome) {
        results.push({ filename: file.filename, error: outcome.error.message });
        continue;
      }
      const complaints = await complaintIntake.complaintsOf(outcome.messageId);
      const first = complaints[0]!;
      results.push({ filename: file.filename, id: first.id, status: first.status, stored: outcome.stored, account: first.accountUsername, count: complaints.length });
    }
    await showUpload(req, res, results);
  });

  const showNew = (req: Request, res: Response, values: Record<string, unknown>, errors: FieldErrors, status = 200) =>
    renderPage(req, res, 'complaints/new', { title: 'Enter a complaint', breadcrumbs: [home, crumb, { label: 'Enter manually' }], values, errors, status });

  router.get('/complaints/new', (req, res) => showNew(req, res, { feedbackType: 'abuse', arrivedAt: new Date().toISOString().slice(0, 16) }, {}));

  router.post('/complaints', async (req, res) => {
    const actor = actorFrom(req);
    const raw = body(req);
    try {
      const form = parseInput(manualComplaintForm, raw);
      const outcome = await complaintIntake.ingest(buildManualReport(form, actor.login, new Date()), 'manual', actor.login);
      flash(req, 'success', `Complaint #${outcome.complaints[0]!.id} recorded.`);
      res.redirect(`/admin/complaints/${outcome.complaints[0]!.id}`);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      await showNew(req, res, raw, err.fields, 422);
    }
  });

  const showComplaint = async (req: Request, res: Response, id: number, errors: FieldErrors = {}, values: Record<string, string> = {}, status = 200) => {
    const detail = await complaints.get(actorFrom(req), id);
    const notes = await deps.cases.notes(actorFrom(req), id);
    const charge = await deps.charges.ofComplaint(actorFrom(req), id);
    await renderPage(req, res, 'complaints/show', {
      title: `Complaint #${id}`,
      breadcrumbs: [home, crumb, { label: `#${id}` }],
      ...detail,
      notes,
      charge,
      errors,
      values,
      status,
    });
  };

  router.get('/complaints/:id', async (req, res) => showComplaint(req, res, parseInput(complaintIdParam, req.params).id));

  router.get('/complaints/:id/raw', async (req, res) => {
    const { id } = parseInput(complaintIdParam, req.params);
    const { bytes, sha256 } = await complaints.raw(actorFrom(req), id);
    res.set('X-Content-SHA256', sha256).type('message/rfc822').attachment(`complaint-${id}.eml`).send(bytes);
  });

  router.post('/complaints/:id/decision', async (req, res) => {
    const { id } = parseInput(complaintIdParam, req.params);
    const raw = body(req);
    try {
      const form = parseInput(decisionForm, raw);
      await complaints.decide(actorFrom(req), id, form.status, form.reason, req.ip ?? null);
      flash(req, 'success', `Complaint #${id} decided: ${form.status.replace('_', ' ')}.`);
      res.redirect(`/admin/complaints/${id}`);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      await showComplaint(req, res, id, err.fields, raw, 422);
    }
  });

  router.post('/complaints/:id/assign', async (req, res) => {
    const { id } = parseInput(complaintIdParam, req.params);
    const raw = body(req);
    try {
      const form = parseInput(assignForm, raw);
      const complaint = await complaints.assign(actorFrom(req), id, form, req.ip ?? null);
      flash(req, 'success', `Complaint #${id} assigned to ${complaint.accountUsername}; judged again: ${complaint.status.replace('_', ' ')}.`);
      res.redirect(`/admin/complaints/${id}`);
    } catch (err) {
      if (err instanceof ValidationError) return showComplaint(req, res, id, err.fields, { username: raw.username ?? '', domain: raw.domain ?? '', assignReason: raw.reason ?? '' }, 422);
      if (err instanceof AppError && err.status === 409) {
        flash(req, 'danger', err.message);
        return res.redirect(`/admin/complaints/${id}`);
      }
      throw err;
    }
  });

  return router;
}
