import { Router } from 'express';
import { flash } from '../http/flash';
import { renderPage } from '../http/render';
import { actorFrom } from '../http/roleGate';
import type { JobResult, JobRunner } from '../jobs/jobRunner';
import type { JobRun, JobTrigger } from '../jobs/jobRunRepository';
import { logger } from '../lib/logger';
import { adminPostmasterSettingsRoutes } from './settingsRoutes';
import { domainRoutes, listingOf, postmasterWords, type AreaOptions, type PostmasterRouteDeps } from './routeShared';
import { verdictFilters } from './statusQueries';
import { verdicts } from './verdict';

export interface AdminPostmasterRouteDeps extends PostmasterRouteDeps {
  jobs: JobRunner;
  postmasterSweep: (trigger: JobTrigger, opts?: { jitter?: boolean }) => Promise<JobResult>;
}

const area: AreaOptions = { role: 'admin', base: '/admin/postmaster', home: { label: 'Home', href: '/admin' } };
const sweepJob = 'postmaster-sweep';

/** A run still marked running after this long died with its process (the job lease is 15 minutes): not "in progress". */
const staleRunMs = 60 * 60_000;
const isLive = (run: JobRun | undefined, now: Date): boolean => run?.status === 'running' && now.getTime() - run.startedAt.getTime() < staleRunMs;

const runJson = (run: JobRun) => ({ id: run.id, status: run.status, trigger: run.trigger, startedAt: run.startedAt.toISOString(), finishedAt: run.finishedAt?.toISOString() ?? null, counts: run.counts, error: run.error });

/**
 * Admin → Postmaster: counts and compliance over the fleet, the 30-day trend, the latest sweep (with
 * its progress while it runs), "Run sweep now", the domains with filters and "Check now", and settings.
 */
export function adminPostmasterRoutes(deps: AdminPostmasterRouteDeps): Router {
  const router = Router();
  const { postmasterStatus, jobs } = deps;
  // Fixed paths before /postmaster/:id, which would read "settings" as a domain id.
  router.use(adminPostmasterSettingsRoutes(deps));

  const latestRun = async () => (await jobs.recent(1, sweepJob))[0];

  router.get('/postmaster', async (req, res) => {
    const actor = actorFrom(req);
    const [page, counts, trend, run] = await Promise.all([listingOf(deps, req), postmasterStatus.counts(actor), postmasterStatus.trend(actor, 30), latestRun()]);
    const live = isLive(run, new Date());
    await renderPage(req, res, 'postmaster/admin-index', {
      title: 'Postmaster',
      breadcrumbs: [area.home, { label: 'Postmaster' }],
      primaryAction: { label: 'Settings', href: '/admin/postmaster/settings' },
      ...page,
      counts,
      compliance: postmasterStatus.compliance(counts),
      trend,
      trendVerdicts: verdicts,
      run: run ?? null,
      live,
      progress: live && run ? await postmasterStatus.sweepProgress(run) : null,
      verdictFilters,
      base: area.base,
      ...postmasterWords,
    });
  });

  /** The sweep's state for the page's script (public/postmaster-sweep.js), which reloads the page when it ends. */
  router.get('/postmaster/sweep.json', async (_req, res) => {
    const run = await latestRun();
    const live = isLive(run, new Date());
    res.set('Cache-Control', 'no-store').json({ run: run ? runJson(run) : null, running: live, progress: live && run ? await postmasterStatus.sweepProgress(run) : null });
  });

  router.post('/postmaster/sweep', async (req, res) => {
    const before = await latestRun();
    if (isLive(before, new Date())) {
      flash(req, 'info', 'A sweep is already running; its progress is shown below.');
      return res.redirect(area.base);
    }
    // A sweep over a fleet takes minutes: it runs after the answer, recorded as a job run the page shows.
    let settled = false;
    deps
      .postmasterSweep('manual', { jitter: false })
      .then(
        (result) => {
          if (!result.ran) logger.info('manual postmaster sweep skipped: another instance is sweeping');
        },
        (err: unknown) => logger.warn('manual postmaster sweep failed', { error: err instanceof Error ? err.message : String(err) }),
      )
      .finally(() => (settled = true));
    // Wait (briefly) for its run to be recorded, so the page the browser is sent to already shows it.
    for (let waited = 0; waited < 2000 && !settled; waited += 25) {
      if ((await latestRun())?.id !== before?.id) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    flash(req, 'success', 'Sweep started: every domain in scope is checked now, without the usual jitter. This page shows its progress and, at the end, its counts.');
    res.redirect(area.base);
  });

  router.use(domainRoutes(deps, area));
  return router;
}
