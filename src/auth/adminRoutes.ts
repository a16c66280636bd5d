import { Router } from 'express';
import type { AuditService } from '../audit/auditService';
import { renderPage } from '../http/render';
import type { UserService } from './userService';

/** Admin pages over users and the audit log (read-only here; users are added with the CLI). */
export function adminUserRoutes(deps: { users: UserService; audit: AuditService }): Router {
  const router = Router();
  router.get('/users', async (req, res) => {
    await renderPage(req, res, 'admin/users', { title: 'Users', breadcrumbs: [{ label: 'Home', href: '/admin' }, { label: 'Users' }], users: await deps.users.list() });
  });
  router.get('/audit', async (req, res) => {
    await renderPage(req, res, 'admin/audit', { title: 'Audit log', breadcrumbs: [{ label: 'Home', href: '/admin' }, { label: 'Audit log' }], entries: await deps.audit.recent(200) });
  });
  return router;
}
