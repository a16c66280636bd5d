import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toNumber } from '../db/dialect';
import { PolicyService } from '../policy/policyService';
import { UserService } from '../auth/userService';
import { buildHarness, csrfFromHtml, firstColumn, loginAs, nextHref, type Agent, type Harness } from '../testing/appHarness';
import { engines } from '../testing/testDb';
import type { Role } from './actor';

/**
 * Tenancy and role gates of every browser route: the right role gets the page, another role 403,
 * an anonymous visitor the sign-in page; ids of another tenant are 404 and their data never shows.
 */

type SignedIn = 'admin' | 'resellerA' | 'resellerA2' | 'resellerB' | 'customerA1' | 'customerB1';
const roleOf: Record<SignedIn, Role> = {
  admin: 'admin',
  resellerA: 'reseller',
  resellerA2: 'reseller',
  resellerB: 'reseller',
  customerA1: 'customer',
  customerB1: 'customer',
};
/** The user that stands for each role in the role-gate checks. */
const userFor: Record<Role, SignedIn> = { admin: 'admin', reseller: 'resellerA', customer: 'customerA1' };
const roles: Role[] = ['admin', 'reseller', 'customer'];

interface Ctx {
  h: Harness;
  tokenIds: Record<SignedIn, number>;
}

/** Every GET page of each context, as a path built from the fixture (ids are only known after beforeAll). */
const pages: Array<{ role: Role; name: string; path: (c: Ctx) => string }> = [
  { role: 'admin', name: '/admin', path: () => '/admin' },
  { role: 'admin', name: '/admin/servers', path: () => '/admin/servers' },
  { role: 'admin', name: '/admin/resellers', path: () => '/admin/resellers' },
  { role: 'admin', name: '/admin/accounts', path: () => '/admin/accounts' },
  { role: 'admin', name: '/admin/accounts?filters', path: (c) => `/admin/accounts?q=cust&status=active&server=${c.h.f.servers.s1}&kind=customer` },
  { role: 'admin', name: '/admin/accounts/:id', path: (c) => `/admin/accounts/${c.h.f.accounts.b1}` },
  { role: 'admin', name: '/admin/domains', path: () => '/admin/domains' },
  { role: 'admin', name: '/admin/domains?account', path: (c) => `/admin/domains?account=${c.h.f.accounts.c}&type=main&mail=yes` },
  { role: 'admin', name: '/admin/policy', path: () => '/admin/policy' },
  { role: 'admin', name: '/admin/policy?state', path: () => '/admin/policy?state=never&q=cust' },
  { role: 'admin', name: '/admin/policy/new', path: () => '/admin/policy/new' },
  { role: 'admin', name: '/admin/policy/:version', path: () => '/admin/policy/1' },
  { role: 'admin', name: '/admin/users', path: () => '/admin/users' },
  { role: 'admin', name: '/admin/audit', path: () => '/admin/audit' },
  { role: 'admin', name: '/admin/audit?filters', path: () => '/admin/audit?action=policy.&actor=admin&subjectType=policy_version&from=2026-01-01' },
  { role: 'admin', name: '/admin/audit/:seq', path: () => '/admin/audit/1' },
  { role: 'admin', name: '/admin/settings/tokens', path: () => '/admin/settings/tokens' },
  { role: 'admin', name: '/admin/settings/tokens/:id/revoke', path: (c) => `/admin/settings/tokens/${c.tokenIds.admin}/revoke` },
  { role: 'reseller', name: '/reseller', path: () => '/reseller' },
  { role: 'reseller', name: '/reseller/customers', path: () => '/reseller/customers' },
  { role: 'reseller', name: '/reseller/customers/:id', path: (c) => `/reseller/customers/${c.h.f.accounts.a1}` },
  { role: 'reseller', name: '/reseller/domains', path: () => '/reseller/domains' },
  { role: 'reseller', name: '/reseller/domains?account', path: (c) => `/reseller/domains?account=${c.h.f.accounts.a1}` },
  { role: 'reseller', name: '/reseller/policy', path: () => '/reseller/policy' },
  { role: 'reseller', name: '/reseller/consent', path: () => '/reseller/consent' },
  { role: 'reseller', name: '/reseller/consent?q&sort', path: () => '/reseller/consent?q=cust&sort=share&dir=asc&limit=2' },
  { role: 'reseller', name: '/reseller/policy/:version', path: () => '/reseller/policy/1' },
  { role: 'reseller', name: '/reseller/settings/tokens', path: () => '/reseller/settings/tokens' },
  { role: 'reseller', name: '/reseller/settings/tokens/:id/revoke', path: (c) => `/reseller/settings/tokens/${c.tokenIds.resellerA}/revoke` },
  { role: 'customer', name: '/customer', path: () => '/customer' },
  { role: 'customer', name: '/customer/domains', path: () => '/customer/domains' },
  { role: 'customer', name: '/customer/domains?account', path: (c) => `/customer/domains?account=${c.h.f.accounts.a1}` },
  { role: 'customer', name: '/customer/policy', path: () => '/customer/policy' },
  { role: 'customer', name: '/customer/settings/tokens', path: () => '/customer/settings/tokens' },
  { role: 'customer', name: '/customer/settings/tokens/:id/revoke', path: (c) => `/customer/settings/tokens/${c.tokenIds.customerA1}/revoke` },
];

/** Every state-changing browser route of each context, with a valid body for that route. */
const posts: Array<{ role: Role; name: string; path: (c: Ctx) => string; body: Record<string, string> }> = [
  { role: 'admin', name: 'POST /admin/policy', path: () => '/admin/policy', body: { title: 'Hijacked', body: 'A policy text that is long enough to publish.' } },
  { role: 'admin', name: 'POST /admin/settings/tokens', path: () => '/admin/settings/tokens', body: { name: 'hijacked' } },
  { role: 'admin', name: 'POST /admin/servers/sync', path: () => '/admin/servers/sync', body: {} },
  { role: 'admin', name: 'POST /admin/audit/verify', path: () => '/admin/audit/verify', body: {} },
  { role: 'admin', name: 'POST /admin/settings/tokens/:id/revoke', path: (c) => `/admin/settings/tokens/${c.tokenIds.admin}/revoke`, body: {} },
  { role: 'reseller', name: 'POST /reseller/settings/tokens', path: () => '/reseller/settings/tokens', body: { name: 'hijacked' } },
  { role: 'reseller', name: 'POST /reseller/settings/tokens/:id/revoke', path: (c) => `/reseller/settings/tokens/${c.tokenIds.resellerA}/revoke`, body: {} },
  { role: 'customer', name: 'POST /customer/policy/accept', path: () => '/customer/policy/accept', body: { version: '1', confirm: 'yes' } },
  { role: 'customer', name: 'POST /customer/settings/tokens', path: () => '/customer/settings/tokens', body: { name: 'hijacked' } },
  { role: 'customer', name: 'POST /customer/settings/tokens/:id/revoke', path: (c) => `/customer/settings/tokens/${c.tokenIds.customerA1}/revoke`, body: {} },
];

describe.each(engines)('browser routes on %s', (engine) => {
  const c = {} as Ctx;
  const agents = {} as Record<SignedIn, Agent>;
  const csrf = {} as Record<SignedIn, string>;
  let h: Harness;

  /** A snapshot of every table a POST above could change. */
  async function stateSnapshot() {
    const count = async (table: string) => toNumber((await h.db(table).count({ n: '*' }).first())?.n);
    return {
      policyVersions: await count('policy_versions'),
      acceptances: await count('policy_acceptances'),
      tokens: await h.db('api_tokens').select('id', 'name', 'revoked_at').orderBy('id'),
      audit: await count('audit_log'),
      jobRuns: await count('job_runs'),
    };
  }

  beforeAll(async () => {
    h = await buildHarness(engine);
    c.h = h;
    await new PolicyService(h.db, h.clock).publish(h.f.actors.admin, { title: 'Anti-spam policy', body: 'Do not send unsolicited bulk mail from our servers.' }, null);
    const users = new UserService(h.db, h.clock);
    c.tokenIds = {} as Record<SignedIn, number>;
    for (const key of Object.keys(roleOf) as SignedIn[]) {
      c.tokenIds[key] = (await users.issueToken(h.f.users[key], `${key} billing`)).record.id;
      const session = await loginAs(h.app, h.f.logins[key], h.f.password);
      agents[key] = session.agent;
      csrf[key] = await session.csrf();
    }
  });

  afterAll(async () => {
    await h?.cleanup();
  });

  /** Strings that would only appear on a page if another tenant's account leaked into it. */
  const traces = (key: 'A' | 'a1' | 'a2' | 'A2' | 'a3' | 'B' | 'b1' | 'c') => {
    const username = h.f.usernames[key];
    return [username, `admin@${username}.example`, ...Object.values(h.f.domainNames[key])];
  };
  const expectNoTrace = (html: string, ...keys: Array<Parameters<typeof traces>[0]>) => {
    for (const key of keys) {
      for (const trace of traces(key)) {
        // Whole words only: "resa" must not match the signed-in sub-reseller "resa2".
        const word = new RegExp(`(?<![a-z0-9])${trace.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![a-z0-9])`, 'i');
        expect(html, `page shows ${trace}`).not.toMatch(word);
      }
    }
  };

  describe('role gates', () => {
    it.each(pages)('$name: its own role gets the page (200)', async ({ role, path }) => {
      const res = await agents[userFor[role]].get(path(c));
      expect(res.status).toBe(200);
      expect(res.type).toBe('text/html');
      // Strict CSP: no inline script or style may appear on any page.
      expect(res.text).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
      expect(res.text).not.toMatch(/\sstyle="/);
      expect(res.text).not.toMatch(/\son[a-z]+="/);
    });

    it.each(pages)('$name: other roles get 403 and none of the page', async ({ role, path }) => {
      for (const other of roles.filter((r) => r !== role)) {
        const res = await agents[userFor[other]].get(path(c));
        expect(res.status, `${other} on ${path(c)}`).toBe(403);
        expect(res.text).toContain(`This area is for ${role}s`);
        expect(res.text).not.toContain('data-testid="accounts-table"');
        expect(res.text).not.toContain('data-testid="domains-table"');
        expect(res.text).not.toContain('data-testid="tokens-table"');
      }
    });

    it.each(pages)('$name: an anonymous visitor is sent to /login with next', async ({ path }) => {
      const res = await request(h.app).get(path(c));
      expect(res.status).toBe(302);
      expect(res.headers.location).toBe(`/login?next=${encodeURIComponent(path(c))}`);
    });

    it.each(posts)('$name: other roles get 403 (with a valid CSRF token) and nothing changes', async ({ role, path, body }) => {
      const before = await stateSnapshot();
      for (const other of roles.filter((r) => r !== role)) {
        const who = userFor[other];
        const res = await agents[who].post(path(c)).type('form').send({ ...body, _csrf: csrf[who] });
        expect(res.status, `${other} on ${path(c)}`).toBe(403);
        expect(res.text).toContain('forbidden');
      }
      expect(await stateSnapshot()).toEqual(before);
    });

    it.each(posts)('$name: an anonymous visitor with a valid CSRF token is sent to /login and nothing changes', async ({ path, body }) => {
      const before = await stateSnapshot();
      const anon = request.agent(h.app);
      const token = csrfFromHtml((await anon.get('/login')).text);
      const res = await anon.post(path(c)).type('form').send({ ...body, _csrf: token });
      expect(res.status).toBe(302);
      expect(res.headers.location).toMatch(/^\/login\?next=/);
      expect(await stateSnapshot()).toEqual(before);
    });

    it('/ sends each visitor to their home, anonymous visitors to /login', async () => {
      expect((await request(h.app).get('/')).headers.location).toBe('/login');
      for (const key of ['admin', 'resellerA', 'customerA1'] as const) {
        const res = await agents[key].get('/');
        expect(res.status).toBe(302);
        expect(res.headers.location).toBe(`/${roleOf[key]}`);
      }
    });

    it('an unknown page inside a context is a 404 page', async () => {
      const res = await agents.admin.get('/admin/no-such-page');
      expect(res.status).toBe(404);
      expect(res.text).toContain('not_found');
    });
  });

  describe("another tenant's ids", () => {
    it('a reseller opening an account outside its tree gets 404 without its data, the same as for an id that does not exist', async () => {
      const cases: Array<[SignedIn, Array<'A' | 'a1' | 'a2' | 'A2' | 'a3' | 'B' | 'b1' | 'c'>]> = [
        ['resellerA', ['B', 'b1', 'c']],
        ['resellerA2', ['A', 'a1', 'a2']],
        ['resellerB', ['A', 'a1', 'A2', 'a3', 'c']],
      ];
      for (const [who, keys] of cases) {
        for (const key of keys) {
          const res = await agents[who].get(`/reseller/customers/${h.f.accounts[key]}`);
          expect(res.status, `${who} opens ${key}`).toBe(404);
          expect(res.text).toContain('Account was not found');
          expectNoTrace(res.text, key);
        }
        const missing = await agents[who].get('/reseller/customers/999999');
        expect(missing.status).toBe(404);
        expect(missing.text).toContain('Account was not found');
      }
    });

    it("a reseller filtering domains by another tenant's account gets 404 without its domains", async () => {
      for (const [who, key] of [
        ['resellerA', 'b1'],
        ['resellerA', 'c'],
        ['resellerA2', 'a1'],
        ['resellerB', 'a3'],
      ] as const) {
        const res = await agents[who].get(`/reseller/domains?account=${h.f.accounts[key]}`);
        expect(res.status, `${who} filters by ${key}`).toBe(404);
        expectNoTrace(res.text, key);
      }
    });

    it("a customer filtering domains by another account gets 404 without its domains", async () => {
      for (const key of ['a2', 'b1', 'A'] as const) {
        const res = await agents.customerA1.get(`/customer/domains?account=${h.f.accounts[key]}`);
        expect(res.status, `customerA1 filters by ${key}`).toBe(404);
        expectNoTrace(res.text, key);
      }
      const res = await agents.customerB1.get(`/customer/domains?account=${h.f.accounts.a1}`);
      expect(res.status).toBe(404);
      expectNoTrace(res.text, 'a1');
    });

    it('non-admins opening /admin/accounts/:id get 403 whether or not the id exists, and no account data', async () => {
      for (const who of ['resellerA', 'resellerB', 'customerA1', 'customerB1'] as const) {
        for (const id of [h.f.accounts.b1, h.f.accounts.a1, 999999]) {
          const res = await agents[who].get(`/admin/accounts/${id}`);
          expect(res.status, `${who} opens /admin/accounts/${id}`).toBe(403);
          expect(res.text).not.toContain('data-testid="account-facts"');
        }
        expectNoTrace((await agents[who].get(`/admin/accounts/${h.f.accounts.c}`)).text, 'c');
        expectNoTrace((await agents[who].get(`/admin/domains?account=${h.f.accounts.c}`)).text, 'c');
      }
    });

    it("another user's API token cannot be seen or revoked", async () => {
      const before = await stateSnapshot();
      for (const [who, victim] of [
        ['resellerA', 'resellerB'],
        ['resellerA', 'resellerA2'],
        ['customerA1', 'customerB1'],
        ['admin', 'customerA1'],
      ] as const) {
        const base = `/${roleOf[who]}/settings/tokens/${c.tokenIds[victim]}/revoke`;
        const page = await agents[who].get(base);
        expect(page.status, `${who} opens ${victim}'s token`).toBe(404);
        expect(page.text).not.toContain(`${victim} billing`);
        const post = await agents[who].post(base).type('form').send({ _csrf: csrf[who] });
        expect(post.status, `${who} revokes ${victim}'s token`).toBe(404);
        const list = await agents[who].get(`/${roleOf[who]}/settings/tokens`);
        expect(list.text).not.toContain(`${victim} billing`);
        expect(list.text).toContain(`${who} billing`);
      }
      expect(await stateSnapshot()).toEqual(before);
    });

    it("filters naming another tenant's owner or server stay inside the tenancy", async () => {
      const byOwner = await agents.resellerA.get(`/reseller/customers?owner=${h.f.accounts.B}`);
      expect(byOwner.status).toBe(200);
      expect(firstColumn(byOwner.text, 'accounts-table')).toEqual([]);
      expectNoTrace(byOwner.text, 'B', 'b1');
      const byServer = await agents.resellerA.get(`/reseller/domains?server=${h.f.servers.s2}`);
      expect(byServer.status).toBe(200);
      expect(firstColumn(byServer.text, 'domains-table')).toEqual([]);
      expectNoTrace(byServer.text, 'B', 'b1', 'c');
    });
  });

  describe('what each tenant sees', () => {
    it("a reseller sees its sub-reseller's customers transitively, and nothing of other trees", async () => {
      const list = await agents.resellerA.get('/reseller/customers');
      expect(list.status).toBe(200);
      expect(firstColumn(list.text, 'accounts-table')).toEqual(['custa1', 'custa2', 'custa3', 'resa2']);
      expect(list.text).toContain('Showing 4 of 4');
      expectNoTrace(list.text, 'B', 'b1', 'c');

      const a3 = await agents.resellerA.get(`/reseller/customers/${h.f.accounts.a3}`);
      expect(a3.status).toBe(200);
      expect(a3.text).toContain('custa3');
      expect(firstColumn(a3.text, 'domains-table').sort()).toEqual(Object.values(h.f.domainNames.a3).sort());

      const domains = await agents.resellerA.get('/reseller/domains');
      const expected = (['A', 'a1', 'a2', 'A2', 'a3'] as const).flatMap((k) => Object.values(h.f.domainNames[k]));
      expect(firstColumn(domains.text, 'domains-table').sort()).toEqual(expected.sort());
      expectNoTrace(domains.text, 'B', 'b1', 'c');

      const a3Domains = await agents.resellerA.get(`/reseller/domains?account=${h.f.accounts.a3}`);
      expect(a3Domains.status).toBe(200);
      expect(firstColumn(a3Domains.text, 'domains-table').sort()).toEqual(Object.values(h.f.domainNames.a3).sort());
    });

    it('a sub-reseller sees only its own customers; another reseller only its own', async () => {
      const a2 = await agents.resellerA2.get('/reseller/customers');
      expect(firstColumn(a2.text, 'accounts-table')).toEqual(['custa3']);
      expectNoTrace(a2.text, 'a1', 'a2', 'B', 'b1', 'c');
      const b = await agents.resellerB.get('/reseller/customers');
      expect(firstColumn(b.text, 'accounts-table')).toEqual(['custb1']);
      expectNoTrace(b.text, 'a1', 'a2', 'A2', 'a3', 'c');
      const home = await agents.resellerB.get('/reseller');
      expect(firstColumn(home.text, 'customers-table')).toEqual(['custb1']);
      const policy = await agents.resellerB.get('/reseller/policy');
      expect(firstColumn(policy.text, 'acceptance-table')).toEqual(['custb1']);
      expectNoTrace(policy.text, 'a1', 'a2', 'A2', 'a3', 'c');
    });

    it('a customer sees only its own account and domains', async () => {
      const home = await agents.customerA1.get('/customer');
      expect(home.status).toBe(200);
      expect(home.text).toContain('custa1 on srv1.example.net');
      expect(firstColumn(home.text, 'domains-table').sort()).toEqual(Object.values(h.f.domainNames.a1).sort());
      const domains = await agents.customerA1.get('/customer/domains');
      expect(firstColumn(domains.text, 'domains-table').sort()).toEqual(Object.values(h.f.domainNames.a1).sort());
      for (const page of [home, domains]) expectNoTrace(page.text, 'a2', 'a3', 'b1', 'c', 'A2', 'B');
    });
  });

  describe('admin filters and pagination', () => {
    const allUsernames = ['custa1', 'custa2', 'custa3', 'custb1', 'custc', 'resa', 'resa2', 'resb'];

    async function accountsAt(query: string): Promise<{ status: number; rows: string[]; text: string }> {
      const res = await agents.admin.get(`/admin/accounts${query}`);
      return { status: res.status, rows: firstColumn(res.text, 'accounts-table'), text: res.text };
    }
    async function domainsAt(query: string): Promise<{ status: number; rows: string[]; text: string }> {
      const res = await agents.admin.get(`/admin/domains${query}`);
      return { status: res.status, rows: firstColumn(res.text, 'domains-table'), text: res.text };
    }
    /** Follows rel="next" from `first` to the last page; returns every row in order. */
    async function walk(first: string, testId: string): Promise<{ rows: string[]; pages: number }> {
      const rows: string[] = [];
      let href: string | null = first;
      let pages = 0;
      while (href) {
        const res = await agents.admin.get(href);
        expect(res.status, href).toBe(200);
        rows.push(...firstColumn(res.text, testId));
        if (pages > 0) expect(res.text, 'later pages link back to the first').toContain('First page');
        href = nextHref(res.text);
        if (++pages > 50) throw new Error('pager does not end');
      }
      return { rows, pages };
    }

    it('lists every account, sorted by username, with the count', async () => {
      const { status, rows, text } = await accountsAt('');
      expect(status).toBe(200);
      expect(rows).toEqual(allUsernames);
      expect(text).toContain('Showing 8 of 8');
      expect(nextHref(text)).toBeNull();
    });

    it('filters accounts by search text, status, kind and server', async () => {
      expect((await accountsAt('?q=custa')).rows).toEqual(['custa1', 'custa2', 'custa3']);
      expect((await accountsAt('?q=ADMIN%40RESB')).rows, 'search in contact email, case-insensitive').toEqual(['resb']);
      expect((await accountsAt('?q=%25')).rows, 'LIKE wildcards are literal').toEqual([]);
      expect((await accountsAt('?status=suspended')).rows).toEqual(['custa2']);
      expect((await accountsAt('?status=active')).rows).toEqual(allUsernames.filter((u) => u !== 'custa2'));
      expect((await accountsAt('?kind=reseller')).rows).toEqual(['resa', 'resa2', 'resb']);
      expect((await accountsAt(`?server=${h.f.servers.s2}`)).rows).toEqual(['custb1', 'custc', 'resb']);
      expect((await accountsAt(`?server=${h.f.servers.s1}&kind=customer&status=active`)).rows).toEqual(['custa1', 'custa3']);
      expect((await accountsAt(`?owner=${h.f.accounts.A}`)).rows).toEqual(['custa1', 'custa2', 'resa2']);
      const none = await accountsAt('?q=nobody-has-this');
      expect(none.status).toBe(200);
      expect(none.text).toContain('No account matches these filters');
      // Empty form fields mean "no filter".
      expect((await accountsAt('?q=&status=&server=&kind=')).rows).toEqual(allUsernames);
    });

    it('answers a bad filter value with a 422 page naming the field', async () => {
      for (const [query, field] of [
        ['?status=deleted', 'status'],
        ['?server=abc', 'server'],
        ['?kind=robot', 'kind'],
        ['?limit=0', 'limit'],
      ] as const) {
        const res = await accountsAt(query);
        expect(res.status, query).toBe(422);
        expect(res.text).toContain(field);
        expect(res.rows).toEqual([]);
      }
    });

    it('pages through accounts with the cursor, keeping the filters, without gaps or repeats', async () => {
      const all = await walk('/admin/accounts?limit=3', 'accounts-table');
      expect(all.rows).toEqual(allUsernames);
      expect(all.pages).toBe(3);
      const first = await accountsAt('?limit=3');
      expect(first.rows).toEqual(['custa1', 'custa2', 'custa3']);
      expect(first.text).toContain('Showing 3 of 8');
      expect(nextHref(first.text)).toMatch(/^\/admin\/accounts\?limit=3&cursor=[A-Za-z0-9_-]+$/);

      const filtered = await walk(`/admin/accounts?q=cust&server=${h.f.servers.s1}&limit=2`, 'accounts-table');
      expect(filtered.rows).toEqual(['custa1', 'custa2', 'custa3']);
      expect(filtered.pages).toBe(2);
    });

    it('answers a cursor this server did not issue with a 422 page', async () => {
      for (const cursor of ['garbage', Buffer.from('{"a":1}').toString('base64url')]) {
        const res = await accountsAt(`?cursor=${cursor}`);
        expect(res.status).toBe(422);
        expect(res.text).toContain('cursor');
        expect(res.text).toContain('validation_failed');
        const domains = await domainsAt(`?cursor=${cursor}`);
        expect(domains.status).toBe(422);
        expect(domains.text).toContain('cursor');
      }
    });

    it('filters domains by type, mail, search text, account and server', async () => {
      const names = h.f.domainNames;
      const customers = ['a1', 'a2', 'a3', 'b1', 'c'] as const;
      const all = await domainsAt('');
      expect(all.status).toBe(200);
      expect(all.rows).toHaveLength(23);
      expect(all.text).toContain('Showing 23 of 23');
      expect((await domainsAt('?type=parked')).rows.sort()).toEqual(customers.map((k) => names[k].parked!).sort());
      expect((await domainsAt('?mail=no')).rows.sort()).toEqual(customers.map((k) => names[k].parked!).sort());
      expect((await domainsAt('?mail=yes')).rows).toHaveLength(18);
      expect((await domainsAt('?q=shop.')).rows.sort()).toEqual(customers.map((k) => names[k].sub!).sort());
      expect((await domainsAt('?q=SHOP.CUSTB1')).rows).toEqual([names.b1.sub]);
      expect((await domainsAt(`?account=${h.f.accounts.a2}`)).rows.sort()).toEqual(Object.values(names.a2).sort());
      const s2 = (['B', 'b1', 'c'] as const).flatMap((k) => Object.values(names[k]));
      expect((await domainsAt(`?server=${h.f.servers.s2}`)).rows.sort()).toEqual(s2.sort());
      expect((await domainsAt(`?server=${h.f.servers.s2}&type=main`)).rows.sort()).toEqual([names.B.main!, names.b1.main!, names.c.main!].sort());
      for (const [query, field] of [
        ['?type=cname', 'type'],
        ['?mail=maybe', 'mail'],
        ['?account=-1', 'account'],
        ['?limit=201', 'limit'],
      ] as const) {
        const res = await domainsAt(query);
        expect(res.status, query).toBe(422);
        expect(res.text).toContain(field);
      }
    });

    it('pages through domains in the same order as one long page', async () => {
      const unpaged = (await domainsAt('?limit=200')).rows;
      const paged = await walk('/admin/domains?limit=5', 'domains-table');
      expect(paged.rows).toEqual(unpaged);
      expect(new Set(paged.rows).size).toBe(23);
      expect(paged.pages).toBe(5);
      const parked = await walk('/admin/domains?type=parked&limit=2', 'domains-table');
      expect(parked.rows).toEqual((await domainsAt('?type=parked')).rows);
      expect(parked.pages).toBe(3);
    });
  });
});
