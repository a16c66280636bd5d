import { Router, type Request, type Response } from 'express';
import { flash } from '../http/flash';
import { renderPage, type Crumb } from '../http/render';
import { actorFrom } from '../http/roleGate';
import { withQuery } from '../http/urls';
import { parseInput } from '../http/validate';
import { AppError, ValidationError, type FieldErrors } from '../lib/errors';
import { noticeKindInfo, noticeKinds, noticeStatuses, type NoticeKind } from './kinds';
import type { NoticeService } from './noticeService';
import { noticeIdParam, noticeKindParam, noticeListQuery, noticeSettingsForm, templateForm } from './schemas';
import { placeholders } from './templateRenderer';
import { maxBodyLength, maxSubjectLength, type NoticeTemplateService } from './templateService';

const home: Crumb = { label: 'Home', href: '/admin' };
const crumb: Crumb = { label: 'Notices', href: '/admin/notices' };
const templatesCrumb: Crumb = { label: 'Templates', href: '/admin/notices/templates' };
const body = (req: Request) => (req.body ?? {}) as Record<string, string>;

/** Admin → Notices: the notices sent (or not) with their delivery, and the templates they are written from. */
export function adminNoticeRoutes(deps: { notices: NoticeService; noticeTemplates: NoticeTemplateService }): Router {
  const router = Router();
  const { notices, noticeTemplates } = deps;

  router.get('/notices', async (req, res) => {
    const query = parseInput(noticeListQuery, req.query);
    const listing = await notices.list(actorFrom(req), { kind: query.kind, status: query.status, account: query.account }, { limit: 50, cursor: query.cursor });
    await renderPage(req, res, 'notices/index', {
      title: 'Notices',
      breadcrumbs: [home, { label: 'Notices' }],
      primaryAction: { label: 'Templates', href: '/admin/notices/templates' },
      listing,
      query,
      kinds: noticeKinds,
      kindInfo: noticeKindInfo,
      statuses: noticeStatuses,
      nextHref: listing.nextCursor ? withQuery(req, { cursor: listing.nextCursor }) : null,
      firstHref: query.cursor ? withQuery(req, { cursor: undefined }) : null,
    });
  });

  const showTemplates = async (req: Request, res: Response, errors: FieldErrors = {}, values: Record<string, string> | null = null, status = 200) => {
    const actor = actorFrom(req);
    const [templates, settings] = await Promise.all([noticeTemplates.all(actor), noticeTemplates.settings(actor)]);
    await renderPage(req, res, 'notices/templates', {
      title: 'Notice templates',
      breadcrumbs: [home, crumb, { label: 'Templates' }],
      templates,
      kindInfo: noticeKindInfo,
      settings,
      values: values ?? { providerName: settings.providerName, abuseAddress: settings.abuseAddress ?? '', appealUrl: settings.appealUrl ?? '' },
      errors,
      status,
    });
  };

  router.get('/notices/templates', async (req, res) => showTemplates(req, res));

  router.post('/notices/settings', async (req, res) => {
    const raw = body(req);
    try {
      const form = parseInput(noticeSettingsForm, raw);
      await noticeTemplates.saveSettings(actorFrom(req), form, req.ip ?? null);
      flash(req, 'success', 'Notice settings saved. Notices written from now on use them.');
      res.redirect('/admin/notices/templates');
    } catch (err) {
      if (err instanceof ValidationError) return showTemplates(req, res, err.fields, raw, 422);
      throw err;
    }
  });

  const showTemplate = async (req: Request, res: Response, kind: NoticeKind, opts: { errors?: FieldErrors; values?: { subject: string; body: string }; status?: number } = {}) => {
    const template = await noticeTemplates.get(actorFrom(req), kind);
    const values = opts.values ?? { subject: template.subject, body: template.body };
    // A preview of text with unknown placeholders would show them raw: preview only what could be saved.
    const preview = opts.errors && Object.keys(opts.errors).length ? null : await noticeTemplates.preview(kind, values);
    await renderPage(req, res, 'notices/template', {
      title: `Template: ${noticeKindInfo[kind].label}`,
      breadcrumbs: [home, crumb, templatesCrumb, { label: noticeKindInfo[kind].label }],
      kind,
      info: noticeKindInfo[kind],
      template,
      values,
      preview,
      placeholders,
      maxSubjectLength,
      maxBodyLength,
      errors: opts.errors ?? {},
      status: opts.status ?? 200,
    });
  };

  router.get('/notices/templates/:kind', async (req, res) => showTemplate(req, res, parseInput(noticeKindParam, req.params).kind));

  router.post('/notices/templates/:kind', async (req, res) => {
    const { kind } = parseInput(noticeKindParam, req.params);
    const raw = body(req);
    const values = { subject: raw.subject ?? '', body: raw.body ?? '' };
    try {
      const form = parseInput(templateForm, raw);
      if (form.action === 'preview') return showTemplate(req, res, kind, { values });
      await noticeTemplates.save(actorFrom(req), kind, { subject: form.subject, body: form.body }, req.ip ?? null);
      flash(req, 'success', `Template "${noticeKindInfo[kind].label}" saved. Notices written from now on use it; notices already written keep their text.`);
      res.redirect(`/admin/notices/templates/${kind}`);
    } catch (err) {
      if (err instanceof ValidationError) return showTemplate(req, res, kind, { errors: err.fields, values, status: 422 });
      throw err;
    }
  });

  router.get('/notices/templates/:kind/reset', async (req, res) => {
    const { kind } = parseInput(noticeKindParam, req.params);
    const template = await noticeTemplates.get(actorFrom(req), kind);
    await renderPage(req, res, 'notices/reset', {
      title: `Reset template: ${noticeKindInfo[kind].label}`,
      breadcrumbs: [home, crumb, templatesCrumb, { label: noticeKindInfo[kind].label, href: `/admin/notices/templates/${kind}` }, { label: 'Reset' }],
      kind,
      template,
      defaults: noticeTemplates.defaultOf(kind),
    });
  });

  router.post('/notices/templates/:kind/reset', async (req, res) => {
    const { kind } = parseInput(noticeKindParam, req.params);
    const done = await noticeTemplates.reset(actorFrom(req), kind, req.ip ?? null);
    flash(req, done ? 'success' : 'info', done ? `Template "${noticeKindInfo[kind].label}" is back to the default text.` : `Template "${noticeKindInfo[kind].label}" already uses the default text.`);
    res.redirect(`/admin/notices/templates/${kind}`);
  });

  router.get('/notices/:id', async (req, res) => {
    const { id } = parseInput(noticeIdParam, req.params);
    const notice = await notices.get(actorFrom(req), id);
    await renderPage(req, res, 'notices/show', { title: `Notice #${id}`, breadcrumbs: [home, crumb, { label: `#${id}` }], notice, kindInfo: noticeKindInfo });
  });

  router.post('/notices/:id/retry', async (req, res) => {
    const { id } = parseInput(noticeIdParam, req.params);
    try {
      const notice = await notices.retry(actorFrom(req), id, req.ip ?? null);
      flash(req, notice.status === 'pending' ? 'success' : 'warning', notice.status === 'pending' ? `Notice #${id} is queued again for ${notice.to}${notice.cc ? ` (copy to ${notice.cc})` : ''}: it goes out within a minute.` : `Notice #${id} still has nobody to go to: ${notice.lastError ?? ''}`);
    } catch (err) {
      if (!(err instanceof AppError) || err.status !== 409) throw err;
      flash(req, 'danger', err.message);
    }
    res.redirect(`/admin/notices/${id}`);
  });

  return router;
}
