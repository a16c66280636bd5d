import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { firstColumn, loginAs, unescapeHtml, type LoggedIn } from '../testing/appHarness';
import { engines } from '../testing/testDb';
import { startPostmasterRig, type PostmasterRig } from './pageTestRig';

/**
 * Reseller → Postmaster: compliance across its customers only (not its own domains, not another
 * reseller's), filters, and "Notify failing customers": a confirmation with the count, then one notice
 * per failing domain per day, in one transaction with its audit entry.
 */
describe.each(engines)('reseller postmaster pages on %s', { timeout: 120_000 }, (engine) => {
  let rig: PostmasterRig;
  let reseller: LoggedIn;
  let otherReseller: LoggedIn;
  const ids: Record<string, number> = {};
  const post = async (session: LoggedIn, path: string, form: Record<string, string> = {}) => session.agent.post(path).type('form').send({ _csrf: await session.csrf('/reseller/postmaster'), ...form });

  beforeAll(async () => {
    rig = await startPostmasterRig(engine);
    for (const name of ['pmcust.test', 'ok-pmcust.test', 'hole-pmcust.test', 'pmnocontact.test', 'pmroot.test', 'pmres.test']) ids[name] = await rig.domainId(name);
    await rig.user('pmres', 'reseller', 'pmres');
    reseller = await loginAs(rig.h.app, 'pmres', rig.h.f.password);
    otherReseller = await loginAs(rig.h.app, rig.h.f.logins.resellerA, rig.h.f.password);
    // Every domain of the simulated server checked once (the sweep's own path, without jitter).
    const run = await rig.h.container.postmasterSweep('manual', { jitter: false });
    expect(run.ran).toBe(true);
  });
  afterAll(async () => {
    await rig?.close();
  });

  it('shows its customers\' domains with counts and % compliant; not its own, not the provider\'s, not another reseller\'s', async () => {
    const page = await reseller.agent.get('/reseller/postmaster');
    expect(page.status).toBe(200);
    expect(page.text).toContain('aria-current="page" href="/reseller/postmaster">Postmaster</a>');
    expect(firstColumn(page.text, 'postmaster-table').sort()).toEqual(['hole-pmcust.test', 'ok-pmcust.test', 'pmcust.test', 'pmnocontact.test']);
    // 4 domains: ok 1, missing 2, undeliverable 1 → 1 of 4 decided complies.
    expect(page.text).toMatch(/data-testid="count-missing">2</);
    expect(page.text).toMatch(/data-testid="count-ok">1</);
    expect(page.text).toMatch(/data-testid="count-undeliverable">1</);
    expect(page.text).toMatch(/data-testid="compliance-percent">25%</);
    expect(page.text).toContain('1 of 4 decided');

    const theirs = firstColumn((await otherReseller.agent.get('/reseller/postmaster')).text, 'postmaster-table');
    for (const name of Object.keys(ids)) expect(theirs).not.toContain(name);
  });

  it('filters by verdict, customer, failing only and search; a bad verdict is a 422', async () => {
    const names = async (qs: string) => firstColumn((await reseller.agent.get(`/reseller/postmaster?${qs}`)).text, 'postmaster-table').sort();
    expect(await names('verdict=missing')).toEqual(['pmcust.test', 'pmnocontact.test']);
    expect(await names('failing=yes')).toEqual(['hole-pmcust.test', 'pmcust.test', 'pmnocontact.test']);
    expect(await names('customer=PMCUST&failing=yes')).toEqual(['hole-pmcust.test', 'pmcust.test']);
    expect(await names('q=hole')).toEqual(['hole-pmcust.test']);
    const filtered = await reseller.agent.get('/reseller/postmaster?failing=yes&customer=pmcust');
    expect(unescapeHtml(filtered.text)).toContain('href="/reseller/postmaster.csv?failing=yes&customer=pmcust"');
    const csv = await reseller.agent.get('/reseller/postmaster.csv?failing=yes&customer=pmcust');
    expect(csv.type).toBe('text/csv');
    const lines = csv.text.trim().split('\r\n');
    expect(lines[0]).toBe('domain,account,owner,server,verdict,reason,verdict_since,last_checked_at,failing_since,notified_at,read_sent_at,read_confirmed_at');
    expect(lines.slice(1).map((l) => l.split(',')[0])).toEqual(['hole-pmcust.test', 'pmcust.test']);
    expect((await otherReseller.agent.get('/reseller/postmaster.csv?customer=pmcust')).text.trim().split('\r\n')).toHaveLength(1);
    const none = await reseller.agent.get('/reseller/postmaster?verdict=unread');
    expect(none.text).toContain('No domain matches these filters');
    expect((await reseller.agent.get('/reseller/postmaster?verdict=bogus')).status).toBe(422);
  });

  it('a domain outside its customers is a 404 (page and check), for both resellers', async () => {
    for (const name of ['pmres.test', 'pmroot.test']) {
      expect((await reseller.agent.get(`/reseller/postmaster/${ids[name]}`)).status, name).toBe(404);
      expect((await post(reseller, `/reseller/postmaster/${ids[name]}/check`)).status, name).toBe(404);
    }
    expect((await reseller.agent.get(`/reseller/postmaster/${rig.h.f.domains.a1.main}`)).status).toBe(404);
    expect((await otherReseller.agent.get(`/reseller/postmaster/${ids['pmcust.test']}`)).status).toBe(404);
    expect((await post(otherReseller, `/reseller/postmaster/${ids['pmcust.test']}/check`)).status).toBe(404);
    const own = await reseller.agent.get(`/reseller/postmaster/${ids['pmcust.test']}`);
    expect(own.status).toBe(200);
    expect(unescapeHtml(own.text)).toContain('pmcust (owner pmres)');
  });

  it('notifies failing customers after a confirmation with the count; a second press the same day sends nothing new', async () => {
    const confirm = unescapeHtml((await reseller.agent.get('/reseller/postmaster/notify?failing=yes')).text);
    expect(confirm).toContain('2 customers</strong> will be notified about <strong>3 failing domains');
    expect(firstColumn(confirm, 'notify-table').sort()).toEqual(['hole-pmcust.test', 'pmcust.test', 'pmnocontact.test']);
    expect(await rig.h.db('notices').where('kind', 'postmaster_failing')).toHaveLength(0);

    const first = await post(reseller, '/reseller/postmaster/notify', { failing: 'yes', customer: 'pmcust' });
    expect(first.status).toBe(302);
    expect(first.headers.location).toBe('/reseller/postmaster?failing=yes&customer=pmcust');
    const flashed = unescapeHtml((await reseller.agent.get(String(first.headers.location))).text);
    expect(flashed).toContain('Notices queued for 2 failing domains of 1 customer');
    const notices = (await rig.h.db('notices').where('kind', 'postmaster_failing').orderBy('id')) as Array<Record<string, unknown>>;
    expect(notices.map((n) => n.idempotency_key).sort()).toEqual([`postmaster-reseller:${ids['hole-pmcust.test']}:`, `postmaster-reseller:${ids['pmcust.test']}:`].map((k) => k + rig.h.clock.now().toISOString().slice(0, 10)).sort());
    expect(notices[0]).toMatchObject({ to_address: 'owner@pmcust.test', cc_address: 'owner@pmres.test', created_by: 'pmres' });

    // The whole filter again: the two already notified today are not sent twice, the third one is.
    const second = await post(reseller, '/reseller/postmaster/notify', { failing: 'yes' });
    expect(unescapeHtml((await reseller.agent.get(String(second.headers.location))).text)).toContain('Notices queued for 1 failing domain of 2 customers');
    await post(reseller, '/reseller/postmaster/notify', { failing: 'yes' });
    expect(await rig.h.db('notices').where('kind', 'postmaster_failing')).toHaveLength(3);
    const audit = (await rig.h.db('audit_log').where('action', 'postmaster.notify').orderBy('seq')) as Array<{ actor_login: string; data: string }>;
    expect(audit).toHaveLength(3);
    expect(audit[0]!.actor_login).toBe('pmres');
    expect(JSON.parse(audit[0]!.data)).toMatchObject({ domains: ['hole-pmcust.test', 'pmcust.test'], customers: 1, queued: 2 });

    // Nothing failing in the filter: said so, nothing queued.
    const nothing = await post(reseller, '/reseller/postmaster/notify', { verdict: 'ok' });
    expect(nothing.status).toBe(409);
    expect(nothing.text).toContain('nobody to notify');
    expect((await reseller.agent.get('/reseller/postmaster/notify?verdict=ok')).text).toContain('data-testid="notify-nothing"');
    // Another reseller's notify never reaches these customers.
    expect((await post(otherReseller, '/reseller/postmaster/notify', { customer: 'pmcust', failing: 'yes' })).status).toBe(409);
  });

  it('"Check now" on a customer\'s domain returns to the filtered table with the new verdict', async () => {
    const res = await post(reseller, `/reseller/postmaster/${ids['pmcust.test']}/check`, { back: '/reseller/postmaster?failing=yes' });
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe('/reseller/postmaster?failing=yes');
    expect(unescapeHtml((await reseller.agent.get(String(res.headers.location))).text)).toContain('Checked pmcust.test just now: missing');
  });
});
