import { Router } from 'express';
import type { UserService } from '../auth/userService';
import { actorOf } from '../auth/userService';
import { parseInput } from '../http/validate';
import { AppError, NotFoundError } from '../lib/errors';
import { bearerAuth } from './bearer';
import type { Endpoint } from './endpoint';
import { buildOpenApi } from './openapi';

/** Mounts every endpoint under /api/v1 with token auth, role check and zod validation. */
export function apiRouter(deps: { users: UserService; endpoints: Endpoint[]; baseUrl?: string }): Router {
  const router = Router();
  const document = buildOpenApi(deps.endpoints, deps.baseUrl);
  router.get('/openapi.json', (_req, res) => res.json(document));
  router.use(bearerAuth(deps.users));
  for (const endpoint of deps.endpoints) {
    router[endpoint.method](endpoint.path, async (req, res) => {
      const actor = actorOf(req.user!);
      if (endpoint.roles && !endpoint.roles.includes(actor.role)) {
        throw new AppError(403, 'forbidden', `This endpoint is for ${endpoint.roles.join(' and ')} tokens; this token belongs to a ${actor.role}.`);
      }
      const query = endpoint.query ? parseInput(endpoint.query, req.query) : {};
      const params = endpoint.params ? parseInput(endpoint.params, req.params) : {};
      const body = endpoint.body ? parseInput(endpoint.body, req.body ?? {}) : {};
      res.status(endpoint.status ?? 200).json(await endpoint.handler({ actor, query, params, body, req }));
    });
  }
  router.use((req, _res, next) => next(new NotFoundError(`API endpoint ${req.method} ${req.baseUrl}${req.path}`)));
  return router;
}
