import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loginAs, unescapeHtml, type LoggedIn } from '../testing/appHarness';
import { engines } from '../testing/testDb';
import { startPostmasterRig, type PostmasterRig } from './pageTestRig';
import { defaultPostmasterSettings } from './settings';

/** Admin → Postmaster: overview, trend, "Run sweep now" in the background with its job run, check now, settings. */
describe.each(engines)('admin postmaster pages on %s', { timeout: 120_000 }, (engine) => {
  let rig: PostmasterRig;
  let admin: LoggedIn;
  const post = async (path: string, form: Record<string, string> = {}) => admin.agent.post(path).type('form').send({ _csrf: await admin.csrf('/admin/postmaster'), ...form });

  /** Waits until the latest sweep run is no longer running (it runs after the answer). */
  async function sweepFinished(): Promise<void> {
    for (let i = 0; i < 400; i++) {
      const [run] = await rig.h.container.jobs.recent(1, 'postmaster-sweep');
      if (run && run.status !== 'running') return;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error('the sweep did not finish within 10 s');
  }

  beforeAll(async () => {
    rig = await startPostmasterRig(engine);
    admin = await loginAs(rig.h.app, rig.h.f.logins.admin, rig.h.f.password);
  });
  afterAll(async () => {
    await sweepFinished().catch(() => undefined);
    await rig?.close();
  });

  it('before any sweep: every domain "not checked", no run yet, an empty trend; the navigation entry and settings link', async () => {
    const page = await admin.agent.get('/admin/postmaster');
    expect(page.status).toBe(200);
    expect(page.text).toContain('aria-current="page" href="/admin/postmaster">Postmaster</a>');
    expect(page.text).toContain('href="/admin/postmaster/settings"');
    expect(page.text).toContain('data-testid="sweep-none"');
    expect(page.text).toContain('data-testid="postmaster-trend"');
    expect(page.text).toMatch(/data-testid="compliance-percent">—</);
    // The standard tenancy (3 mail domains × 5 customers + 3 resellers = 18) and the simulated server's 6.
    expect(page.text).toMatch(/data-testid="count-unchecked">24</);
    expect(page.text).toContain('Showing 24 of 24');
    expect(page.text).toContain('pmroot.test');
  });

  it('"Run sweep now" answers at once, runs in the background as a recorded job, and the page shows its counts and the trend', async () => {
    const res = await post('/admin/postmaster/sweep');
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe('/admin/postmaster');
    await sweepFinished();
    const [run] = await rig.h.container.jobs.recent(1, 'postmaster-sweep');
    expect(run).toMatchObject({ status: 'ok', trigger: 'manual' });
    // pmres.test, ok-pmcust.test and pmroot.test are ok; the standard tenancy's servers have no panel token: unknown.
    expect(run!.counts).toMatchObject({ ok: 3, missing: 2, undeliverable: 1, unknown: 18 });
    const page = unescapeHtml((await admin.agent.get('/admin/postmaster')).text);
    expect(page).toContain('Sweep started');
    expect(page).toContain('data-run-status="ok"');
    expect(page).toMatch(/data-testid="sweep-counts">\d+ domains on 3 servers: 3 ok, 2 missing, 1 undeliverable, 0 unread, \d+ unknown/);
    expect(page).toMatch(/data-testid="count-unchecked">0</);
    // The trend: today's bar holds every check of the sweep; its table says the same in numbers.
    const today = rig.h.clock.now().toISOString().slice(0, 10);
    const trend = await rig.h.container.postmasterStatus.trend(rig.h.f.actors.admin, 30);
    expect(trend).toHaveLength(30);
    expect(trend.at(-1)).toMatchObject({ day: today, total: run!.counts!.domains, counts: expect.objectContaining({ ok: 3, missing: 2, undeliverable: 1 }) });
    expect(trend.slice(0, -1).every((p) => p.total === 0)).toBe(true);
    expect(page).toContain(`<td>${today}</td>`);
    // Scoped: a customer's trend counts only its own checks.
    const mine = await rig.h.container.postmasterStatus.trend(rig.h.f.actors.customerA1, 30);
    expect(mine.at(-1)!.total).toBe(3);

    const json = await admin.agent.get('/admin/postmaster/sweep.json');
    expect(json.body).toMatchObject({ running: false, progress: null, run: { status: 'ok', counts: expect.objectContaining({ ok: 3 }) } });
  });

  it('while a sweep runs: the page shows its progress with the updating script, and a second "Run sweep now" starts nothing', async () => {
    rig.sim.knobs.latencyMs = 400;
    try {
      const res = await post('/admin/postmaster/sweep');
      expect(res.status).toBe(302);
      const page = await admin.agent.get('/admin/postmaster');
      expect(page.text).toContain('data-run-status="running"');
      expect(page.text).toContain('id="sweep-progress"');
      expect(page.text).toContain('<script src="/static/postmaster-sweep.js" defer></script>');
      expect(page.text).toMatch(/data-testid="run-sweep" disabled/);
      const json = await admin.agent.get('/admin/postmaster/sweep.json');
      expect(json.body).toMatchObject({ running: true, run: { status: 'running' }, progress: { total: 24 } });
      const again = await post('/admin/postmaster/sweep');
      expect((await admin.agent.get(String(again.headers.location))).text).toContain('A sweep is already running');
    } finally {
      rig.sim.knobs.latencyMs = 0;
    }
    await sweepFinished();
    expect((await rig.h.container.jobs.recent(5, 'postmaster-sweep')).filter((r) => r.trigger === 'manual')).toHaveLength(2);
  });

  it('"Check now" on any domain, back to the filtered table; the detail page for any domain', async () => {
    const id = await rig.domainId('pmcust.test');
    const res = await post(`/admin/postmaster/${id}/check`, { back: '/admin/postmaster?verdict=missing' });
    expect(res.headers.location).toBe('/admin/postmaster?verdict=missing');
    expect(unescapeHtml((await admin.agent.get(String(res.headers.location))).text)).toContain('Checked pmcust.test just now: missing');
    const detail = unescapeHtml((await admin.agent.get(`/admin/postmaster/${id}`)).text);
    expect(detail).toContain('pmcust (owner pmres) on pm1.example.test');
    expect(detail).toContain('checked on request');
    expect(detail).toContain('>sweep<');
    expect((await admin.agent.get('/admin/postmaster/999999')).status).toBe(404);
  });

  it('settings: every field with help text; saved and audited; a bad value re-renders with the entered values (422)', async () => {
    const form = await admin.agent.get('/admin/postmaster/settings');
    expect(form.status).toBe(200);
    for (const key of Object.keys(defaultPostmasterSettings)) expect(form.text, key).toContain(`id="${key}-help"`);
    expect(form.text).toContain('Never changed: the defaults apply.');

    const bad = await admin.agent.post('/admin/postmaster/settings').type('form').send({ _csrf: await admin.csrf('/admin/postmaster/settings'), scope: 'dedicated', readIntervalDays: '3', readGraceDays: '14', escalationGraceDays: '7', positiveCacheHours: '24', negativeCacheHours: '2', probeConcurrency: '10', jitterSeconds: '' });
    expect(bad.status).toBe(422);
    expect(bad.text).toContain('Read confirmation interval is at least 7');
    expect(bad.text).toContain('value="3"');
    expect(bad.text).toMatch(/<option value="dedicated" selected>/);

    const ok = await admin.agent.post('/admin/postmaster/settings').type('form').send({ _csrf: await admin.csrf('/admin/postmaster/settings'), scope: 'dedicated', readIntervalDays: '30', readGraceDays: '10', escalationGraceDays: '5', positiveCacheHours: '12', negativeCacheHours: '1', probeConcurrency: '4', jitterSeconds: '0' });
    expect(ok.status).toBe(302);
    const saved = await rig.h.container.postmaster.readSettings();
    expect(saved.settings).toEqual({ scope: 'dedicated', readIntervalDays: 30, readGraceDays: 10, escalationGraceDays: 5, escalationEnabled: false, positiveCacheHours: 12, negativeCacheHours: 1, probeConcurrency: 4, jitterSeconds: 0 });
    const page = await admin.agent.get('/admin/postmaster/settings');
    expect(page.text).toContain('Postmaster settings saved');
    expect(page.text).toContain('Last changed by <strong>admin</strong>');
    expect(await rig.h.db('audit_log').where('action', 'settings.postmaster')).toHaveLength(1);
  });

  it('the admin area is for admins only', async () => {
    const customer = await loginAs(rig.h.app, rig.h.f.logins.customerA1, rig.h.f.password);
    expect((await customer.agent.get('/admin/postmaster')).status).toBe(403);
    expect((await customer.agent.get('/admin/postmaster/settings')).status).toBe(403);
  });
});
