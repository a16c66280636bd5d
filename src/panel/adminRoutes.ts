import { Router } from 'express';
import { flash } from '../http/flash';
import { renderPage } from '../http/render';
import type { JobRunner } from '../jobs/jobRunner';
import type { ServerService } from './serverService';
import { accountSyncJob, type AccountSyncService } from './sync/accountSync';

/** Admin pages of the panel servers: their sync state, recent runs, and "sync now". */
export function adminServerRoutes(deps: { servers: ServerService; jobs: JobRunner; accountSync: AccountSyncService }): Router {
  const router = Router();
  const crumbs = [{ label: 'Home', href: '/admin' }, { label: 'Servers' }];

  router.get('/servers', async (req, res) => {
    const [servers, runs] = await Promise.all([deps.servers.list(), deps.jobs.recent(20, accountSyncJob)]);
    await renderPage(req, res, 'admin/servers', { title: 'Servers', breadcrumbs: crumbs, servers, runs });
  });

  router.post('/servers/sync', async (req, res) => {
    const results = await deps.accountSync.syncAll('manual');
    const failed = results.filter((r) => r.status === 'failed');
    if (failed.length) flash(req, 'danger', `Sync failed for ${failed.map((r) => r.server).join(', ')}: the error is shown beside each server.`);
    else flash(req, 'success', `Synced ${results.length} server${results.length === 1 ? '' : 's'}.`);
    res.redirect('/admin/servers');
  });
  return router;
}
