import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pageOf } from '../api/schemas';
import { UserService } from '../auth/userService';
import { engines } from '../testing/testDb';
import { checkOutcomeJson, postmasterDomainJson } from './apiEndpoints';
import { startPostmasterRig, type PostmasterRig } from './pageTestRig';

const domainPage = pageOf(postmasterDomainJson);

/** The JSON API: the postmaster list scoped by the token's role with filters and a cursor, and "check now". */
describe.each(engines)('postmaster API on %s', { timeout: 120_000 }, (engine) => {
  let rig: PostmasterRig;
  const tokens: Record<'admin' | 'pmres' | 'pmcust' | 'resellerA', string> = { admin: '', pmres: '', pmcust: '', resellerA: '' };
  const api = (method: 'get' | 'post', path: string, token: string) => request(rig.h.app)[method](`/api/v1${path}`).set('Authorization', `Bearer ${token}`);

  /** Every page of the list, following nextCursor. */
  async function walk(path: string, token: string, limit: number): Promise<{ names: string[]; total: number; pages: number }> {
    const names: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    let total = 0;
    do {
      const res = await api('get', `${path}${path.includes('?') ? '&' : '?'}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, token);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      const page = domainPage.parse(res.body);
      expect(page).toEqual(res.body);
      names.push(...page.data.map((d) => d.domain));
      total = page.total;
      cursor = page.nextCursor;
      pages += 1;
    } while (cursor && pages < 50);
    return { names, total, pages };
  }

  beforeAll(async () => {
    rig = await startPostmasterRig(engine);
    const users = new UserService(rig.h.db, rig.h.clock);
    const pmres = await rig.user('pmres', 'reseller', 'pmres');
    const pmcust = await rig.user('pmcust', 'customer', 'pmcust');
    tokens.admin = (await users.issueToken(rig.h.f.users.admin, 'admin api')).token;
    tokens.resellerA = (await users.issueToken(rig.h.f.users.resellerA, 'resa api')).token;
    tokens.pmres = (await users.issueToken(pmres.userId!, 'pmres api')).token;
    tokens.pmcust = (await users.issueToken(pmcust.userId!, 'pmcust api')).token;
  });
  afterAll(async () => {
    await rig?.close();
  });

  it('lists the domains each token may see, by name, across pages', async () => {
    const admin = await walk('/postmaster/domains', tokens.admin, 7);
    expect(admin.total).toBe(24);
    expect(admin.names).toHaveLength(24);
    expect(admin.pages).toBe(4);
    expect([...admin.names].sort()).toEqual(admin.names);
    expect((await walk('/postmaster/domains', tokens.pmres, 2)).names).toEqual(['hole-pmcust.test', 'ok-pmcust.test', 'pmcust.test', 'pmnocontact.test']);
    expect((await walk('/postmaster/domains', tokens.pmcust, 50)).names).toEqual(['hole-pmcust.test', 'ok-pmcust.test', 'pmcust.test']);
    const resa = await walk('/postmaster/domains', tokens.resellerA, 50);
    expect(resa.names).not.toContain('pmcust.test');
    expect(resa.names).not.toContain(rig.h.f.domainNames.A.main);
    expect(resa.names).toContain(rig.h.f.domainNames.a3.main);
  });

  it('checks a visible domain now and returns the outcome; another tenant\'s domain is a 404', async () => {
    const id = await rig.domainId('pmcust.test');
    const res = await api('post', `/postmaster/domains/${id}/check`, tokens.pmcust);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(checkOutcomeJson.parse(res.body)).toEqual(res.body);
    expect(res.body).toMatchObject({ domainId: id, domain: 'pmcust.test', verdict: 'missing', route: { route: 'default_fail', finding: 'missing' }, smtp: null });
    const viaReseller = await api('post', `/postmaster/domains/${await rig.domainId('ok-pmcust.test')}/check`, tokens.pmres);
    expect(viaReseller.body).toMatchObject({ verdict: 'ok', route: { route: 'mailbox', target: 'postmaster@ok-pmcust.test' } });

    for (const [token, name] of [[tokens.pmcust, 'pmroot.test'], [tokens.resellerA, 'pmcust.test'], [tokens.pmres, 'pmres.test']] as const) {
      const denied = await api('post', `/postmaster/domains/${await rig.domainId(name)}/check`, token);
      expect(denied.status, name).toBe(404);
      expect(denied.body.error.code).toBe('not_found');
    }
    expect((await rig.h.db('postmaster_checks').where('domain', 'pmroot.test'))).toHaveLength(0);
  });

  it('filters by verdict (unchecked too), failing, customer and search; invalid filters are a 422', async () => {
    expect((await walk('/postmaster/domains?verdict=missing', tokens.admin, 50)).names).toEqual(['pmcust.test']);
    expect((await walk('/postmaster/domains?failing=yes', tokens.pmres, 50)).names).toEqual(['pmcust.test']);
    const unchecked = await walk('/postmaster/domains?verdict=unchecked&customer=pmcust', tokens.admin, 50);
    expect(unchecked.names).toEqual(['hole-pmcust.test']);
    expect((await walk('/postmaster/domains?q=nocontact', tokens.pmres, 50)).names).toEqual(['pmnocontact.test']);
    const item = (await api('get', '/postmaster/domains?q=ok-pmcust', tokens.pmcust)).body.data[0];
    expect(item).toMatchObject({ domain: 'ok-pmcust.test', account: 'pmcust', owner: 'pmres', verdict: 'ok', readSentAt: null });
    expect(item.lastCheckedAt).toBe(rig.h.clock.now().toISOString());
    for (const bad of ['verdict=fine', 'failing=maybe', 'limit=0', 'cursor=garbage']) {
      const res = await api('get', `/postmaster/domains?${bad}`, tokens.admin);
      expect(res.status, bad).toBe(422);
      expect(res.body.error.code).toBe('validation_failed');
    }
  });
});
