import { Router } from 'express';
import { z } from 'zod';
import { flash } from '../http/flash';
import { homePaths } from '../http/navigation';
import { clientIp } from '../http/requestContext';
import { actorFrom } from '../http/roleGate';
import { renderPage } from '../http/render';
import { parseInput } from '../http/validate';
import { ValidationError } from '../lib/errors';
import type { UserService } from './userService';

const idParam = z.object({ id: z.coerce.number().int().positive() });

/** API token settings, the same page in every context: create (shown once), list, revoke with confirmation. */
export function tokenRoutes(users: UserService): Router {
  const router = Router();
  const crumbsFor = (home: string) => [{ label: 'Home', href: home }, { label: 'API tokens' }];

  const list = async (req: Parameters<Parameters<Router['get']>[1]>[0], res: Parameters<Parameters<Router['get']>[1]>[1], extra: Record<string, unknown> = {}) => {
    const actor = actorFrom(req);
    const reveal = req.session.revealToken;
    delete req.session.revealToken;
    await renderPage(req, res, 'settings/tokens', {
      title: 'API tokens',
      breadcrumbs: crumbsFor(homePaths[actor.role]),
      tokens: await users.listTokens(actor.userId!),
      reveal,
      basePath: `${req.baseUrl}/settings/tokens`,
      errors: {},
      values: { name: '' },
      ...extra,
    });
  };

  router.get('/settings/tokens', (req, res) => list(req, res));

  router.post('/settings/tokens', async (req, res) => {
    const actor = actorFrom(req);
    const name = typeof req.body?.name === 'string' ? req.body.name : '';
    try {
      const { token, record } = await users.issueToken(actor.userId!, name, clientIp(req));
      req.session.revealToken = { id: record.id, token };
      flash(req, 'success', `Token "${record.name}" created. Copy it now: it will not be shown again.`);
      res.redirect(`${req.baseUrl}/settings/tokens`);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      await list(req, res, { errors: err.fields, values: { name }, status: 422 });
    }
  });

  router.get('/settings/tokens/:id/revoke', async (req, res) => {
    const actor = actorFrom(req);
    const { id } = parseInput(idParam, req.params);
    const token = await users.findToken(actor.userId!, id);
    await renderPage(req, res, 'settings/token-revoke', {
      title: `Revoke "${token.name}"?`,
      breadcrumbs: [...crumbsFor(homePaths[actor.role]).slice(0, 1), { label: 'API tokens', href: `${req.baseUrl}/settings/tokens` }, { label: 'Revoke' }],
      token,
      basePath: `${req.baseUrl}/settings/tokens`,
    });
  });

  router.post('/settings/tokens/:id/revoke', async (req, res) => {
    const actor = actorFrom(req);
    const { id } = parseInput(idParam, req.params);
    const token = await users.findToken(actor.userId!, id);
    await users.revokeToken(actor, id, clientIp(req));
    flash(req, 'success', `Token "${token.name}" is revoked. Programs using it now get 401 Unauthorized.`);
    res.redirect(`${req.baseUrl}/settings/tokens`);
  });
  return router;
}
