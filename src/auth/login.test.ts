import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fromDbTime, toNumber } from '../db/dialect';
import { PolicyService } from '../policy/policyService';
import {
  buildHarness,
  buildTestApp,
  csrfFromHtml,
  firstColumn,
  loginAs,
  sessionIdFrom,
  testLoginMaxFailures,
  testLoginWindowMinutes,
  type Agent,
  type Harness,
} from '../testing/appHarness';
import type { UserKey } from '../testing/factories';
import { engines } from '../testing/testDb';

/** Sign-in, sessions, CSRF, security headers and policy acceptance through the real browser routes. */

function setCookies(res: request.Response): string[] {
  const header = res.headers['set-cookie'] as string[] | string | undefined;
  return header === undefined ? [] : Array.isArray(header) ? header : [header];
}

function sessionCookie(res: request.Response): string {
  const cookie = setCookies(res).find((c) => c.startsWith('antispam.sid='));
  if (!cookie) throw new Error(`no session cookie in ${JSON.stringify(res.headers)}`);
  return cookie;
}

describe.each(engines)('sign-in and browser security on %s', (engine) => {
  let h: Harness;
  let policyVersion1Id: number;

  const count = async (table: string, where: Record<string, unknown> = {}) => toNumber((await h.db(table).where(where).count({ n: '*' }).first())?.n);
  const sessionExists = async (sid: string) => (await count('sessions', { sid })) > 0;

  /** A fresh visitor with the sign-in page loaded: the agent, its CSRF token and pre-login session id. */
  async function visitor(): Promise<{ agent: Agent; csrf: string; sid: string; cookie: string }> {
    const agent = request.agent(h.app);
    const page = await agent.get('/login');
    expect(page.status).toBe(200);
    const sid = sessionIdFrom(setCookies(page));
    expect(sid, 'the sign-in page starts a session to hold the CSRF token').toBeTruthy();
    return { agent, csrf: csrfFromHtml(page.text), sid: sid!, cookie: sessionCookie(page).split(';')[0]! };
  }

  async function postLogin(v: { agent: Agent; csrf: string }, login: string, password: string, extra: Record<string, string> = {}) {
    return v.agent.post('/login').type('form').send({ login, password, _csrf: v.csrf, ...extra });
  }

  beforeAll(async () => {
    h = await buildHarness(engine);
    await new PolicyService(h.db, h.clock).publish(h.f.actors.admin, { title: 'Anti-spam policy', body: 'Version one: do not send unsolicited bulk mail.' }, null);
    policyVersion1Id = toNumber((await h.db('policy_versions').where({ version: 1 }).first()).id);
  });

  beforeEach(async () => {
    // Every test starts with no failed sign-ins counted (they are counted per IP, and supertest is always 127.0.0.1).
    await h.db('login_failures').delete();
  });

  afterAll(async () => {
    await h?.cleanup();
  });

  describe('sign-in', () => {
    it.each([
      ['admin', '/admin'],
      ['resellerA', '/reseller'],
      ['customerA1', '/customer'],
    ] as Array<[UserKey, string]>)('%s is sent to %s, under a new session id', async (key, home) => {
      const v = await visitor();
      const res = await postLogin(v, h.f.logins[key], h.f.password);
      expect(res.status).toBe(302);
      expect(res.headers.location).toBe(home);
      const newSid = sessionIdFrom(setCookies(res));
      expect(newSid).toBeTruthy();
      expect(newSid, 'session id regenerated at sign-in').not.toBe(v.sid);
      expect(await sessionExists(v.sid), 'the pre-login session is gone').toBe(false);
      expect(await sessionExists(newSid!)).toBe(true);

      const page = await v.agent.get(home);
      expect(page.status).toBe(200);
      expect(page.text).toContain(`Signed in as <strong>${h.f.logins[key]}</strong>`);
      const last = await h.db('users').where({ id: h.f.users[key] }).first();
      expect(fromDbTime(last.last_login_at).toISOString()).toBe(h.clock.now().toISOString());

      // The cookie of the pre-login session (a fixation attempt) does not carry the sign-in.
      const fixated = await request(h.app).get(home).set('Cookie', v.cookie);
      expect(fixated.status).toBe(302);
      expect(fixated.headers.location).toBe(`/login?next=${encodeURIComponent(home)}`);
    });

    it('accepts the login case-insensitively and follows `next` only inside the user\'s own context', async () => {
      for (const [next, expected] of [
        ['/customer/policy', '/customer/policy'],
        ['/admin/users', '/customer'],
        ['//evil.example/customer', '/customer'],
        ['https://evil.example/customer', '/customer'],
      ] as const) {
        const res = await postLogin(await visitor(), h.f.logins.customerA1.toUpperCase(), h.f.password, { next });
        expect(res.status).toBe(302);
        expect(res.headers.location, `next=${next}`).toBe(expected);
      }
      const page = await request(h.app).get('/login?next=%2Fcustomer%2Fpolicy');
      expect(page.text).toContain('name="next" value="/customer/policy"');
    });

    it('answers a wrong password with a 401 page and a message, and no session', async () => {
      const v = await visitor();
      const res = await postLogin(v, h.f.logins.resellerA, 'not the password');
      expect(res.status).toBe(401);
      expect(res.type).toBe('text/html');
      expect(res.text).toContain('That login and password do not match an active user');
      expect(res.text).toContain(`value="${h.f.logins.resellerA}"`);
      expect(res.text).not.toContain('not the password');
      expect((await v.agent.get('/reseller')).status).toBe(302);
    });

    it('answers an unknown login and a disabled user with the same 401 message', async () => {
      const unknown = await postLogin(await visitor(), 'nobody-here', h.f.password);
      expect(unknown.status).toBe(401);
      expect(unknown.text).toContain('That login and password do not match an active user');
      await h.db('users').where({ id: h.f.users.customerC }).update({ disabled: 1 });
      try {
        const disabled = await postLogin(await visitor(), h.f.logins.customerC, h.f.password);
        expect(disabled.status).toBe(401);
        expect(disabled.text).toContain('That login and password do not match an active user');
      } finally {
        await h.db('users').where({ id: h.f.users.customerC }).update({ disabled: 0 });
      }
    });

    it('answers an empty form with 422', async () => {
      const res = await postLogin(await visitor(), '', '');
      expect(res.status).toBe(422);
      expect(res.text).toContain('Enter your login and your password');
    });

    it('signs a user out when the account is disabled while signed in', async () => {
      const { agent } = await loginAs(h.app, h.f.logins.customerB1, h.f.password);
      expect((await agent.get('/customer')).status).toBe(200);
      await h.db('users').where({ id: h.f.users.customerB1 }).update({ disabled: 1 });
      try {
        expect((await agent.get('/customer')).status).toBe(302);
      } finally {
        await h.db('users').where({ id: h.f.users.customerB1 }).update({ disabled: 0 });
      }
    });
  });

  describe('rate limit', () => {
    it(`after ${testLoginMaxFailures} failures answers 429 with Retry-After, refuses even the right password, and lifts after the window`, async () => {
      const login = h.f.logins.customerA2;
      for (let i = 0; i < testLoginMaxFailures; i++) {
        expect((await postLogin(await visitor(), login, `wrong ${i}`)).status).toBe(401);
      }
      const windowSeconds = testLoginWindowMinutes * 60;

      const limited = await postLogin(await visitor(), login, 'wrong again');
      expect(limited.status).toBe(429);
      expect(limited.headers['retry-after']).toBe(String(windowSeconds));
      expect(limited.text).toContain(`Too many failed sign-in attempts. Wait ${testLoginWindowMinutes} minutes and try again`);

      const v = await visitor();
      const right = await postLogin(v, login, h.f.password);
      expect(right.status, 'the right password is refused while limited').toBe(429);
      expect(right.headers['retry-after']).toBe(String(windowSeconds));
      expect(sessionIdFrom(setCookies(right)) ?? v.sid).toBe(v.sid);
      expect((await v.agent.get('/customer')).status, 'no session was created').toBe(302);
      expect(await count('login_failures', { key: `login:${login}` }), 'refused attempts are not counted as failures').toBe(testLoginMaxFailures);

      // The limit is per client IP too: another login from the same address is refused as well.
      expect((await postLogin(await visitor(), h.f.logins.customerA3, h.f.password)).status).toBe(429);

      h.clock.advance(5 * 60_000);
      const later = await postLogin(await visitor(), login, h.f.password);
      expect(later.status).toBe(429);
      expect(later.headers['retry-after']).toBe(String(windowSeconds - 5 * 60));
      expect(later.text).toContain(`Wait ${testLoginWindowMinutes - 5} minutes`);

      h.clock.advance((testLoginWindowMinutes - 5) * 60_000 + 1000);
      const after = await postLogin(await visitor(), login, h.f.password);
      expect(after.status, 'the oldest failure aged out of the window').toBe(302);
      expect(after.headers.location).toBe('/customer');
    });
  });

  describe('CSRF', () => {
    async function expectCsrfRefused(res: request.Response) {
      expect(res.status).toBe(403);
      expect(res.text).toContain('<code>csrf_failed</code>');
      expect(res.text).toContain('This form has expired or did not come from this site');
    }

    it('refuses POST /login without, with a wrong, or with another session\'s _csrf, and signs nobody in', async () => {
      const before = await h.db('users').where({ id: h.f.users.admin }).first();
      const failures = await count('login_failures');
      const other = await visitor();
      const noSession = await request(h.app).post('/login').type('form').send({ login: h.f.logins.admin, password: h.f.password });
      await expectCsrfRefused(noSession);
      for (const token of [undefined, 'wrong-token', other.csrf]) {
        const v = await visitor();
        const form: Record<string, string> = { login: h.f.logins.admin, password: h.f.password };
        if (token !== undefined) form._csrf = token;
        await expectCsrfRefused(await v.agent.post('/login').type('form').send(form));
        expect((await v.agent.get('/admin')).status, 'not signed in').toBe(302);
      }
      const json = await request(h.app).post('/login').set('Accept', 'application/json').type('form').send({ login: h.f.logins.admin, password: h.f.password });
      expect(json.status).toBe(403);
      expect(json.body.error.code).toBe('csrf_failed');
      expect(await h.db('users').where({ id: h.f.users.admin }).first()).toEqual(before);
      expect(await count('login_failures')).toBe(failures);
    });

    it('refuses POST /logout without or with a wrong _csrf, and the user stays signed in', async () => {
      const admin = await loginAs(h.app, h.f.logins.admin, h.f.password);
      const customer = await loginAs(h.app, h.f.logins.customerA1, h.f.password);
      const foreign = await customer.csrf();
      for (const token of [undefined, 'wrong-token', foreign]) {
        await expectCsrfRefused(await admin.agent.post('/logout').type('form').send(token === undefined ? {} : { _csrf: token }));
        expect((await admin.agent.get('/admin')).status).toBe(200);
      }
    });

    it('refuses POST /customer/policy/accept without or with a wrong _csrf, and records nothing', async () => {
      const customer = await loginAs(h.app, h.f.logins.customerA3, h.f.password);
      const reseller = await loginAs(h.app, h.f.logins.resellerA, h.f.password);
      const foreign = await reseller.csrf();
      const before = await count('policy_acceptances');
      const audit = await count('audit_log');
      for (const token of [undefined, '', 'wrong-token', foreign]) {
        const form: Record<string, string> = { version: '1', confirm: 'yes' };
        if (token !== undefined) form._csrf = token;
        await expectCsrfRefused(await customer.agent.post('/customer/policy/accept').type('form').send(form));
      }
      expect(await count('policy_acceptances')).toBe(before);
      expect(await count('audit_log')).toBe(audit);
      expect((await customer.agent.get('/customer/policy')).text).toContain('Accept version 1');
    });

    it('refuses POST /reseller/settings/tokens without or with a wrong _csrf; with the right one the token is created', async () => {
      const reseller = await loginAs(h.app, h.f.logins.resellerB, h.f.password);
      const admin = await loginAs(h.app, h.f.logins.admin, h.f.password);
      const foreign = await admin.csrf();
      const before = await h.db('api_tokens').orderBy('id');
      for (const token of [undefined, 'wrong-token', foreign]) {
        const form: Record<string, string> = { name: 'billing' };
        if (token !== undefined) form._csrf = token;
        await expectCsrfRefused(await reseller.agent.post('/reseller/settings/tokens').type('form').send(form));
        const viaHeader = await reseller.agent.post('/reseller/settings/tokens').set('X-CSRF-Token', token ?? '').type('form').send({ name: 'billing' });
        await expectCsrfRefused(viaHeader);
      }
      expect(await h.db('api_tokens').orderBy('id')).toEqual(before);

      // Positive control: the same request with this session's token works.
      const ok = await reseller.agent.post('/reseller/settings/tokens').type('form').send({ name: 'billing', _csrf: await reseller.csrf('/reseller/settings/tokens') });
      expect(ok.status).toBe(302);
      expect(await count('api_tokens', { user_id: h.f.users.resellerB })).toBe(before.filter((t) => toNumber(t.user_id) === h.f.users.resellerB).length + 1);
      const reveal = await reseller.agent.get('/reseller/settings/tokens');
      expect(reveal.text).toMatch(/data-testid="new-token">asp_[A-Za-z0-9_-]+</);
      expect((await reseller.agent.get('/reseller/settings/tokens')).text, 'the token is shown once').not.toContain('data-testid="new-token"');
    });
  });

  describe('sessions and headers', () => {
    it('sign-out destroys access, and the old cookie no longer works', async () => {
      const { agent, csrf } = await loginAs(h.app, h.f.logins.admin, h.f.password);
      const home = await agent.get('/admin');
      expect(home.status).toBe(200);
      const oldSid = sessionIdFrom(setCookies(home))!;
      const oldCookie = sessionCookie(home).split(';')[0]!;
      const res = await agent.post('/logout').type('form').send({ _csrf: await csrf() });
      expect(res.status).toBe(302);
      expect(res.headers.location).toBe('/login');
      expect(await sessionExists(oldSid)).toBe(false);
      const after = await agent.get('/admin');
      expect(after.status).toBe(302);
      expect(after.headers.location).toBe('/login?next=%2Fadmin');
      expect((await agent.get('/login')).text).toContain('You are signed out.');
      const replay = await request(h.app).get('/admin/users').set('Cookie', oldCookie);
      expect(replay.status).toBe(302);
      expect(replay.headers.location).toMatch(/^\/login/);
    });

    it('sets the session cookie HttpOnly and SameSite=Lax (Secure only over TLS)', async () => {
      const page = await request(h.app).get('/login');
      const v = { agent: request.agent(h.app), csrf: '' };
      const first = await v.agent.get('/login');
      v.csrf = csrfFromHtml(first.text);
      const signedIn = await postLogin(v, h.f.logins.admin, h.f.password);
      for (const res of [page, signedIn]) {
        const cookie = sessionCookie(res);
        expect(cookie).toMatch(/;\s*HttpOnly/i);
        expect(cookie).toMatch(/;\s*SameSite=Lax/i);
        expect(cookie).toMatch(/;\s*Path=\//i);
        expect(cookie).not.toMatch(/;\s*Secure/i);
      }
      // Behind a trusted TLS proxy the cookie is Secure.
      const behindProxy = buildTestApp(h.db, { clock: h.clock, env: { TRUST_PROXY: 'true' } });
      const tls = await request(behindProxy.app).get('/login').set('X-Forwarded-Proto', 'https');
      expect(sessionCookie(tls)).toMatch(/;\s*Secure/i);
      expect(sessionCookie(tls)).toMatch(/;\s*HttpOnly/i);
    });

    it('anonymous pages other than sign-in create no session', async () => {
      expect(setCookies(await request(h.app).get('/admin'))).toEqual([]);
      expect(setCookies(await request(h.app).get('/healthz'))).toEqual([]);
    });

    it('sends a strict CSP without unsafe-inline on pages, errors and the API', async () => {
      const admin = await loginAs(h.app, h.f.logins.admin, h.f.password);
      const responses = [
        await request(h.app).get('/login'),
        await admin.agent.get('/admin/accounts'),
        await admin.agent.get('/admin/no-such-page'),
        await request(h.app).get('/api/v1/me'),
      ];
      for (const res of responses) {
        const csp = String(res.headers['content-security-policy']);
        expect(csp).toContain("default-src 'self'");
        expect(csp).toContain("script-src 'self'");
        expect(csp).toContain("style-src 'self'");
        expect(csp).toContain("object-src 'none'");
        expect(csp).toContain("frame-ancestors 'self'");
        expect(csp).not.toContain('unsafe-inline');
        expect(csp).not.toContain('unsafe-eval');
        expect(res.headers['x-content-type-options']).toBe('nosniff');
        expect(res.headers['x-powered-by']).toBeUndefined();
      }
    });
  });

  describe('policy acceptance', () => {
    let customer: Awaited<ReturnType<typeof loginAs>>;
    let resellerA: Awaited<ReturnType<typeof loginAs>>;
    let admin: Awaited<ReturnType<typeof loginAs>>;

    beforeAll(async () => {
      customer = await loginAs(h.app, h.f.logins.customerA1, h.f.password);
      resellerA = await loginAs(h.app, h.f.logins.resellerA, h.f.password);
      admin = await loginAs(h.app, h.f.logins.admin, h.f.password);
    });

    const acceptancesOf = (accountId: number) => h.db('policy_acceptances').where({ account_id: accountId }).orderBy('id');

    it('asks for the confirmation box before recording anything (422)', async () => {
      const res = await customer.agent.post('/customer/policy/accept').type('form').send({ version: '1', _csrf: await customer.csrf('/customer/policy') });
      expect(res.status).toBe(422);
      expect(res.text).toContain('Tick the box to confirm');
      expect(await acceptancesOf(h.f.accounts.a1)).toEqual([]);
    });

    it('records a customer accepting the current version with IP, version and time', async () => {
      const page = await customer.agent.get('/customer/policy');
      expect(page.text).toContain('Accept version 1');
      const res = await customer.agent.post('/customer/policy/accept').type('form').send({ version: '1', confirm: 'yes', _csrf: csrfFromHtml(page.text) });
      expect(res.status).toBe(302);
      expect(res.headers.location).toBe('/customer/policy');
      const rows = await acceptancesOf(h.f.accounts.a1);
      expect(rows).toHaveLength(1);
      expect(toNumber(rows[0].policy_version_id)).toBe(policyVersion1Id);
      expect(toNumber(rows[0].user_id)).toBe(h.f.users.customerA1);
      expect(rows[0].ip).toBe('127.0.0.1');
      expect(fromDbTime(rows[0].accepted_at).toISOString()).toBe(h.clock.now().toISOString());
      const audit = await h.db('audit_log').where({ action: 'policy.accept', subject_id: String(h.f.accounts.a1) });
      expect(audit).toHaveLength(1);
      expect(audit[0].actor_login).toBe(h.f.logins.customerA1);
      const after = await customer.agent.get('/customer/policy');
      expect(after.text).toContain('Thank you. Your acceptance of version 1 is recorded.');
      expect(after.text).toMatch(/data-testid="accepted">You accepted version 1 on [^<]+ from 127\.0\.0\.1/);
    });

    it('accepting twice keeps the one first record', async () => {
      const [first] = await acceptancesOf(h.f.accounts.a1);
      h.clock.advance(60_000);
      const res = await customer.agent.post('/customer/policy/accept').type('form').send({ version: '1', confirm: 'yes', _csrf: await customer.csrf('/customer/policy') });
      expect(res.status).toBe(302);
      expect(await acceptancesOf(h.f.accounts.a1)).toEqual([first]);
      expect((await customer.agent.get('/customer/policy')).text).toContain('You had already accepted version 1.');
    });

    it('a reseller cannot accept (403) and nothing is recorded', async () => {
      const before = await count('policy_acceptances');
      const res = await resellerA.agent.post('/customer/policy/accept').type('form').send({ version: '1', confirm: 'yes', _csrf: await resellerA.csrf() });
      expect(res.status).toBe(403);
      expect(await count('policy_acceptances')).toBe(before);
      expect(await acceptancesOf(h.f.accounts.A)).toEqual([]);
    });

    it('an admin publishing an empty form gets 422 with field errors and nothing is published', async () => {
      const versions = await count('policy_versions');
      const audit = await count('audit_log');
      const res = await admin.agent.post('/admin/policy').type('form').send({ _csrf: await admin.csrf('/admin/policy/new') });
      expect(res.status).toBe(422);
      expect(res.text).toContain('The version was not published');
      expect(res.text).toMatch(/id="title" name="title" class="form-control is-invalid"/);
      expect(res.text).toMatch(/id="body" name="body" rows="16" class="form-control is-invalid"/);
      expect(res.text).toContain('give the policy a title of 1-191 characters');
      expect(res.text).toContain('write the policy text (at least 20 characters)');
      expect(await count('policy_versions')).toBe(versions);
      expect(await count('audit_log')).toBe(audit);
    });

    it('an admin publishes version 2 through the form, with an audit entry', async () => {
      const form = await admin.agent.get('/admin/policy/new');
      expect(form.text).toContain('Publish version 2');
      const res = await admin.agent
        .post('/admin/policy')
        .type('form')
        .send({ title: 'Anti-spam policy 2027', body: 'Version two: complaint charges apply from the first complaint.', changeSummary: 'Charges raised', _csrf: csrfFromHtml(form.text) });
      expect(res.status).toBe(302);
      expect(res.headers.location).toBe('/admin/policy/2');
      const row = await h.db('policy_versions').where({ version: 2 }).first();
      expect(row).toMatchObject({ title: 'Anti-spam policy 2027', change_summary: 'Charges raised' });
      expect(toNumber(row.published_by)).toBe(h.f.users.admin);
      expect(fromDbTime(row.published_at).toISOString()).toBe(h.clock.now().toISOString());
      const audit = await h.db('audit_log').where({ action: 'policy.publish', subject_id: '2' });
      expect(audit).toHaveLength(1);
      expect(audit[0]).toMatchObject({ actor_login: h.f.logins.admin, subject_type: 'policy_version', ip: '127.0.0.1' });
      const shown = await admin.agent.get('/admin/policy/2');
      expect(shown.status).toBe(200);
      expect(shown.text).toContain('Anti-spam policy 2027 — version 2');
      expect(shown.text).toContain('Version 2 is published.');
    });

    it("shows a customer who accepted an older version as outdated in the reseller's list, and asks the customer again", async () => {
      const rowsFor = async (state: string, who = resellerA) => {
        const res = await who.agent.get(`/reseller/policy?state=${state}`);
        expect(res.status).toBe(200);
        return firstColumn(res.text, 'acceptance-table');
      };
      expect(await rowsFor('outdated')).toEqual(['custa1']);
      expect(await rowsFor('current')).toEqual([]);
      // Reseller accounts (resa2) do not accept the policy themselves, so they are not listed.
      expect(await rowsFor('never')).toEqual(['custa2', 'custa3']);
      const outdated = await resellerA.agent.get('/reseller/policy?state=outdated');
      expect(outdated.text).toMatch(/<td>custa1<\/td><td>resa<\/td>\s*<td><span class="badge text-bg-warning">outdated<\/span>\s*version 1<\/td>/);

      const resellerB = await loginAs(h.app, h.f.logins.resellerB, h.f.password);
      expect(await rowsFor('outdated', resellerB), "another reseller does not see A's customer").toEqual([]);

      const page = await customer.agent.get('/customer/policy');
      expect(page.text).toContain('Accept version 2');
      expect((await customer.agent.get('/customer')).text).toContain('data-testid="policy-reminder"');
      const stale = await customer.agent.post('/customer/policy/accept').type('form').send({ version: '1', confirm: 'yes', _csrf: csrfFromHtml(page.text) });
      expect(stale.status, 'an old version cannot be accepted any more').toBe(409);
      const res = await customer.agent.post('/customer/policy/accept').type('form').send({ version: '2', confirm: 'yes', _csrf: csrfFromHtml(page.text) });
      expect(res.status).toBe(302);
      expect(await rowsFor('current')).toEqual(['custa1']);
      expect(await rowsFor('outdated')).toEqual([]);
      expect(await acceptancesOf(h.f.accounts.a1)).toHaveLength(2);
    });
  });
});
