import { Router } from 'express';
import { z } from 'zod';
import { renderPage } from '../http/render';
import { withQuery } from '../http/urls';
import { parseInput } from '../http/validate';
import { NotFoundError } from '../lib/errors';
import type { Mailer } from './mailer';
import { mailKinds, mailStatuses } from './outboxRepository';

const crumbs = [{ label: 'Home', href: '/admin' }, { label: 'Mail', href: '/admin/mail' }];
const emptyToUndefined = (v: unknown) => (v === '' ? undefined : v);
const outboxQuery = z.object({
  kind: z.preprocess(emptyToUndefined, z.enum(mailKinds).optional()),
  status: z.preprocess(emptyToUndefined, z.enum(mailStatuses).optional()),
  q: z.preprocess(emptyToUndefined, z.string().trim().max(254).optional()),
  cursor: z.preprocess(emptyToUndefined, z.string().max(200).optional()),
});
const idParam = z.object({ id: z.coerce.number().int().positive() });

/** The outbox viewer: every message the app sent, tried to send, or captured (no SMTP_URL configured). */
export function adminMailRoutes(deps: { mailer: Mailer }): Router {
  const router = Router();

  router.get('/mail', async (req, res) => {
    const query = parseInput(outboxQuery, req.query);
    const page = await deps.mailer.list({ kind: query.kind, status: query.status, q: query.q }, { limit: 50, cursor: query.cursor });
    await renderPage(req, res, 'mail/outbox', {
      title: 'Mail',
      breadcrumbs: [crumbs[0]!, { label: 'Mail' }],
      page,
      query,
      kinds: mailKinds,
      statuses: mailStatuses,
      mode: deps.mailer.mode,
      from: deps.mailer.from,
      nextHref: page.nextCursor ? withQuery(req, { cursor: page.nextCursor }) : null,
      firstHref: query.cursor ? withQuery(req, { cursor: undefined }) : null,
    });
  });

  router.get('/mail/:id', async (req, res) => {
    const { id } = parseInput(idParam, req.params);
    const mail = await deps.mailer.find(id);
    if (!mail) throw new NotFoundError('Message');
    await renderPage(req, res, 'mail/show', { title: mail.subject, breadcrumbs: [...crumbs, { label: `#${mail.id}` }], mail });
  });

  return router;
}
