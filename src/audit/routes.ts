import { Router, type Request } from 'express';
import { csvLine } from '../http/csv';
import { flash } from '../http/flash';
import { renderPage, type Crumb } from '../http/render';
import { actorFrom } from '../http/roleGate';
import { withQuery } from '../http/urls';
import { parseInput } from '../http/validate';
import type { AuditEntry } from './auditRepository';
import type { AuditService } from './auditService';
import { auditPageQuery, auditSeqParam, filtersOf } from './schemas';

const home: Crumb = { label: 'Home', href: '/admin' };
const crumb: Crumb = { label: 'Audit log', href: '/admin/audit' };

export const auditCsvColumns = ['seq', 'at', 'actor', 'actor_user_id', 'action', 'subject_type', 'subject_id', 'ip', 'data', 'prev_hash', 'hash'] as const;

/** An entry's data as label/value pairs for the table (strings as they are, anything else as JSON). */
export function dataPairs(data: Record<string, unknown> | null): Array<[string, string]> {
  return Object.entries(data ?? {}).map(([key, value]) => [key, typeof value === 'string' ? value : JSON.stringify(value)]);
}

/** The page's own query string without the cursor (the CSV link exports the filtered view, all pages). */
function filterQuery(req: Request): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(req.query as Record<string, unknown>)) if (key !== 'cursor' && typeof value === 'string' && value !== '') params.set(key, value);
  return params.size ? `?${params.toString()}` : '';
}

/** Admin → Audit log: filters, pages, one entry with its hashes, CSV of the filtered view, and "Verify chain". */
export function adminAuditRoutes(deps: { audit: AuditService }): Router {
  const router = Router();
  const { audit } = deps;

  router.get('/audit', async (req, res) => {
    const query = parseInput(auditPageQuery, req.query);
    const actor = actorFrom(req);
    const [listing, vocabulary] = await Promise.all([audit.list(actor, filtersOf(query), { limit: 50, cursor: query.cursor }), audit.vocabulary(actor)]);
    await renderPage(req, res, 'admin/audit', {
      title: 'Audit log',
      breadcrumbs: [home, { label: 'Audit log' }],
      listing,
      query,
      vocabulary,
      filtered: Boolean(query.action || query.actor || query.subjectType || query.subjectId || query.from || query.to),
      csvHref: `/admin/audit.csv${filterQuery(req)}`,
      dataPairs,
      nextHref: listing.nextCursor ? withQuery(req, { cursor: listing.nextCursor }) : null,
      firstHref: query.cursor ? withQuery(req, { cursor: undefined }) : null,
    });
  });

  // The filtered view, every page, streamed a batch at a time.
  router.get('/audit.csv', async (req, res) => {
    const query = parseInput(auditPageQuery, req.query);
    const batches = audit.batches(actorFrom(req), filtersOf(query));
    const first = await batches.next();
    res.status(200).type('text/csv; charset=utf-8').attachment(`audit-log-${new Date().toISOString().slice(0, 10)}.csv`);
    res.write(csvLine([...auditCsvColumns]));
    const write = (entries: AuditEntry[]) => {
      for (const e of entries) res.write(csvLine([e.seq, e.at.toISOString(), e.actorLogin, e.actorUserId, e.action, e.subjectType, e.subjectId, e.ip, e.data ? JSON.stringify(e.data) : null, e.prevHash, e.hash]));
    };
    if (!first.done) write(first.value);
    for await (const entries of batches) write(entries);
    res.end();
  });

  // Read-only, but a POST: it can take a while on a long log, and a prefetching browser must not start it.
  router.post('/audit/verify', async (req, res) => {
    const result = await audit.verify(actorFrom(req));
    if (result.firstBreak) {
      const { seq, reason } = result.firstBreak;
      flash(req, 'danger', `The audit chain is broken at entry #${seq}: ${reason}. ${result.checked - 1} entr${result.checked === 2 ? 'y' : 'ies'} before it check out. Something changed the log outside the application: investigate from this entry on.`);
      return res.redirect(`/admin/audit/${seq}`);
    }
    flash(
      req,
      'success',
      result.last
        ? `Audit chain intact: ${result.checked} entr${result.checked === 1 ? 'y' : 'ies'} checked, from #1 to #${result.last.seq} (hash ${result.last.hash}).`
        : 'Audit chain intact: the log is empty.',
    );
    res.redirect('/admin/audit');
  });

  router.get('/audit/:seq', async (req, res) => {
    const { seq } = parseInput(auditSeqParam, req.params);
    const checked = await audit.entry(actorFrom(req), seq);
    await renderPage(req, res, 'admin/audit-entry', { title: `Audit entry #${seq}`, breadcrumbs: [home, crumb, { label: `#${seq}` }], ...checked, dataPairs });
  });

  return router;
}
