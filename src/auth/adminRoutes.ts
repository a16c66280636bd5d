import { Router } from 'express';
import { renderPage } from '../http/render';
import type { UserService } from './userService';

/** Admin page over users (read-only here; users are added with the CLI). The audit log is src/audit/routes.ts. */
export function adminUserRoutes(deps: { users: UserService }): Router {
  const router = Router();
  router.get('/users', async (req, res) => {
    await renderPage(req, res, 'admin/users', { title: 'Users', breadcrumbs: [{ label: 'Home', href: '/admin' }, { label: 'Users' }], users: await deps.users.list() });
  });
  return router;
}
