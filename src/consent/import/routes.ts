import { Router, type Request, type Response } from 'express';
import { csvCell } from '../../http/csv';
import { flash } from '../../http/flash';
import { renderPage, type Crumb } from '../../http/render';
import { actorFrom } from '../../http/roleGate';
import { parseInput } from '../../http/validate';
import { ConflictError, ValidationError, type FieldErrors } from '../../lib/errors';
import { listIdParam } from '../schemas';
import { consentMethods, type ConsentList } from '../types';
import { acceptedStatuses } from './rowValidation';
import { importSummary, progressPercent, type ImportService } from './importService';
import { formatBytes, receiveCsvUpload } from './upload';
import { ImportFileError, importFields, type ConsentImport } from './types';

/** Customer pages of CSV imports: upload, column mapping, status with progress, rejected-rows report, cancel. */

const home: Crumb = { label: 'Home', href: '/customer' };
const consentCrumb: Crumb = { label: 'Consent', href: '/customer/consent' };
const listCrumb = (list: { id: number; name: string }): Crumb => ({ label: list.name, href: `/customer/consent/lists/${list.id}` });
const importPath = (id: number) => `/customer/consent/imports/${id}`;

const fieldLabels: Record<string, string> = {
  ignore: '— ignore —',
  email: 'Email address (required)',
  status: 'Status',
  method: 'Method',
  source: 'Source',
  consented_at: 'Consented at',
  ip: 'IP address',
  user_agent: 'User agent',
};

export function customerImportRoutes(deps: { imports: ImportService }): Router {
  const router = Router();
  const { imports } = deps;

  const showUpload = async (req: Request, res: Response, list: ConsentList, errors: FieldErrors, status = 200) =>
    renderPage(req, res, 'consent/import/upload', {
      title: `Import CSV into ${list.name}`,
      breadcrumbs: [home, consentCrumb, listCrumb(list), { label: 'Import CSV' }],
      list,
      imports: await imports.forList(actorFrom(req), list.id),
      maxSize: formatBytes(imports.maxBytes),
      statuses: acceptedStatuses,
      methods: consentMethods,
      summary: importSummary,
      errors,
      status,
    });

  router.get('/consent/lists/:id/import', async (req, res) => {
    const { id } = parseInput(listIdParam, req.params);
    await showUpload(req, res, await imports.getList(actorFrom(req), id), {});
  });

  // The file is streamed to disk (src/consent/import/upload.ts); the CSRF token came in the action URL and was checked before.
  router.post('/consent/lists/:id/import', async (req, res) => {
    const { id } = parseInput(listIdParam, req.params);
    const actor = actorFrom(req);
    const list = await imports.getList(actor, id);
    try {
      const upload = await receiveCsvUpload(req, { dir: imports.uploadDir, maxBytes: imports.maxBytes });
      const importId = await imports.create(actor, list.id, upload);
      flash(req, 'success', `${upload.filename} uploaded (${formatBytes(upload.bytes)}). Check which column holds what, then start the import.`);
      res.redirect(`${importPath(importId)}/mapping`);
    } catch (err) {
      if (!(err instanceof ImportFileError)) throw err;
      await showUpload(req, res, list, { file: err.message }, err.status);
    }
  });

  const showMapping = async (req: Request, res: Response, id: number, values: Record<string, unknown> | null, errors: FieldErrors, status = 200) => {
    const actor = actorFrom(req);
    const override = values ? { hasHeader: values.hasHeader === true, delimiter: values.delimiter as ',' | ';' | '\t' | undefined } : undefined;
    const view = await imports.mappingView(actor, id, override);
    const { imp, list } = view;
    await renderPage(req, res, 'consent/import/mapping', {
      title: `Columns of ${imp.filename}`,
      breadcrumbs: [home, consentCrumb, listCrumb(list), { label: 'Import CSV', href: `/customer/consent/lists/${list.id}/import` }, { label: 'Columns' }],
      ...view,
      fields: ['ignore', ...importFields],
      fieldLabels,
      methods: consentMethods,
      canSendConfirmations: imports.canSendConfirmations,
      values: values ?? { mode: imp.mode, defaultMethod: imp.options.defaultMethod, hasHeader: imp.options.hasHeader, sendConfirmations: imp.options.sendConfirmations, delimiter: imp.options.delimiter, mapping: imp.mapping },
      errors,
      status,
    });
  };

  router.get('/consent/imports/:id/mapping', async (req, res) => {
    const { id } = parseInput(listIdParam, req.params);
    const imp = await imports.get(actorFrom(req), id);
    if (imp.status !== 'uploaded') return res.redirect(importPath(imp.id));
    await showMapping(req, res, imp.id, null, {});
  });

  router.post('/consent/imports/:id/mapping', async (req, res) => {
    const { id } = parseInput(listIdParam, req.params);
    const raw = (req.body ?? {}) as Record<string, string>;
    const mapping = Object.keys(raw)
      .filter((k) => /^col\d+$/.test(k))
      .sort((a, b) => Number(a.slice(3)) - Number(b.slice(3)))
      .map((k) => raw[k]!);
    const input = { mode: raw.mode, defaultMethod: raw.defaultMethod, hasHeader: raw.hasHeader, sendConfirmations: raw.sendConfirmations, delimiter: raw.delimiter === 'tab' ? '\t' : raw.delimiter || undefined, mapping };
    // "Show again" re-reads the preview with the header/delimiter choice, without starting.
    if (raw.action === 'refresh') return showMapping(req, res, id, { ...input, hasHeader: raw.hasHeader === 'yes' }, {});
    try {
      const imp = await imports.start(actorFrom(req), id, input);
      flash(req, 'success', `Import of ${imp.filename} started. This page follows its progress; you can leave it and come back.`);
      res.redirect(importPath(imp.id));
    } catch (err) {
      if (err instanceof ValidationError) return showMapping(req, res, id, { ...input, hasHeader: raw.hasHeader === 'yes' }, err.fields, 422);
      if (err instanceof ConflictError) {
        flash(req, 'warning', err.message);
        return res.redirect(importPath(id));
      }
      throw err;
    }
  });

  router.get('/consent/imports/:id', async (req, res) => {
    const { id } = parseInput(listIdParam, req.params);
    const actor = actorFrom(req);
    const imp = await imports.get(actor, id);
    if (imp.status === 'uploaded') return res.redirect(`${importPath(imp.id)}/mapping`);
    const list = await imports.getList(actor, imp.listId);
    await renderPage(req, res, 'consent/import/status', {
      title: `Import of ${imp.filename}`,
      breadcrumbs: [home, consentCrumb, listCrumb(list), { label: 'Import CSV', href: `/customer/consent/lists/${list.id}/import` }, { label: `Import #${imp.id}` }],
      imp,
      list,
      percent: progressPercent(imp),
      summary: importSummary(imp),
      finished: ['done', 'rejected', 'failed', 'cancelled'].includes(imp.status),
      cancellable: ['queued', 'validating'].includes(imp.status) || (imp.status === 'importing' && imp.mode === 'skip_bad'),
      rejects: await imports.rejects(actor, imp.id, 20),
      fileSize: formatBytes(imp.fileBytes),
    });
  });

  router.get('/consent/imports/:id/status.json', async (req, res) => {
    const { id } = parseInput(listIdParam, req.params);
    res.set('Cache-Control', 'no-store').json(imports.statusJson(await imports.get(actorFrom(req), id)));
  });

  // The rejected rows as CSV, streamed page by page: line,email,reason,raw (cells that start with a formula character are neutralised).
  router.get('/consent/imports/:id/report.csv', async (req, res) => {
    const { id } = parseInput(listIdParam, req.params);
    const actor = actorFrom(req);
    const imp = await imports.get(actor, id);
    res.status(200).type('text/csv; charset=utf-8').attachment(`import-${imp.id}-rejected-rows.csv`);
    res.write('line,email,reason,raw\r\n');
    let after: { line: number; id: number } | undefined;
    for (;;) {
      const page = await imports.rejects(actor, imp.id, 1000, after);
      if (!page.length) break;
      const text = page.map((r) => `${r.line},${csvCell(r.email ?? '')},${csvCell(r.reason)},${csvCell(r.raw ?? '')}\r\n`).join('');
      if (!res.write(text)) await new Promise((resolve) => res.once('drain', resolve));
      const last = page[page.length - 1]!;
      after = { line: last.line, id: last.id };
    }
    res.end();
  });

  router.post('/consent/imports/:id/cancel', async (req, res) => {
    const { id } = parseInput(listIdParam, req.params);
    try {
      const imp: ConsentImport = await imports.cancel(actorFrom(req), id);
      flash(req, 'success', importSummary(imp));
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
      flash(req, 'warning', err.message);
    }
    res.redirect(importPath(id));
  });

  return router;
}
