import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/load';
import { fromDbJson, fromDbTime, toNumber } from '../db/dialect';
import { buildHarness, buildTestApp, csrfFromHtml, firstColumn, sessionIdFrom, type Agent, type Harness } from '../testing/appHarness';
import { createAccount, createUser } from '../testing/factories';
import { engines } from '../testing/testDb';
import { unusablePasswordHash, verifyPassword } from './password';
import { verifySsoToken } from './ssoToken';

/**
 * Panel SSO (GET /sso?token=…) through the real app. Tokens are minted here exactly as the Perl shims
 * in plugin/ mint them, independently of src/auth/ssoToken.ts, so a drift in the format shows up.
 */

const secret = 'sso-test-secret-0123456789abcdef';
const secretDir = fs.mkdtempSync(path.join(os.tmpdir(), 'antispam-sso-'));
const secretFile = path.join(secretDir, 'sso.key');
// A trailing newline, as `echo secret > file` leaves it: not part of the secret.
fs.writeFileSync(secretFile, `${secret}\n`, { mode: 0o600 });

interface Claims {
  v?: unknown;
  user?: unknown;
  role?: unknown;
  iat?: unknown;
  exp?: unknown;
  nonce?: unknown;
}

const b64url = (data: Buffer | string) => Buffer.from(data).toString('base64').replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

/** `<payload>.<sig>`: payload = base64url(JSON), sig = base64url(HMAC-SHA256(secret, payload string)). */
function mint(claims: Claims, key = secret): string {
  const payload = b64url(JSON.stringify(claims));
  const sig = b64url(crypto.createHmac('sha256', key).update(payload).digest());
  return `${payload}.${sig}`;
}

const nonce = () => crypto.randomBytes(16).toString('hex');

function setCookies(res: request.Response): string[] {
  const header = res.headers['set-cookie'] as string[] | string | undefined;
  return header === undefined ? [] : Array.isArray(header) ? header : [header];
}

afterAll(() => fs.rmSync(secretDir, { recursive: true, force: true }));

describe('panel SSO token checks (unit)', () => {
  const now = new Date('2026-11-28T10:00:00.000Z');
  const t = now.getTime() / 1000;
  const claims = (over: Claims = {}): Claims => ({ v: 1, user: 'bluefin', role: 'customer', iat: t, exp: t + 60, nonce: nonce(), ...over });

  it('accepts the limits exactly and refuses one second past them', () => {
    expect(verifySsoToken(mint(claims()), secret, now).ok).toBe(true);
    expect(verifySsoToken(mint(claims({ iat: t - 59, exp: t + 1 })), secret, now).ok).toBe(true);
    expect(verifySsoToken(mint(claims({ iat: t - 60, exp: t })), secret, now)).toMatchObject({ ok: false, reason: 'expired' });
    expect(verifySsoToken(mint(claims({ iat: t, exp: t + 61 })), secret, now)).toMatchObject({ ok: false, reason: 'lifetime_too_long' });
    expect(verifySsoToken(mint(claims({ iat: t + 30, exp: t + 90 })), secret, now).ok).toBe(true);
    expect(verifySsoToken(mint(claims({ iat: t + 31, exp: t + 91 })), secret, now)).toMatchObject({ ok: false, reason: 'issued_in_future' });
  });

  it('refuses malformed tokens without parsing further', () => {
    for (const bad of ['', 'abc', 'a.b.c', 'a b.c', `${'x'.repeat(3000)}.y`, `${b64url('not json')}.${b64url(crypto.createHmac('sha256', secret).update(b64url('not json')).digest())}`]) {
      const result = verifySsoToken(bad, secret, now);
      expect(result.ok, bad.slice(0, 40)).toBe(false);
    }
    expect(verifySsoToken(mint(claims({ nonce: 'short' })), secret, now)).toMatchObject({ ok: false, reason: 'malformed' });
    expect(verifySsoToken(mint(claims({ user: 'Blue Fin' })), secret, now)).toMatchObject({ ok: false, reason: 'malformed' });
    expect(verifySsoToken(mint(claims({ iat: '1' })), secret, now)).toMatchObject({ ok: false, reason: 'malformed' });
    expect(verifySsoToken(mint(claims({ v: 2 })), secret, now)).toMatchObject({ ok: false, reason: 'unsupported_version' });
    expect(verifySsoToken(mint(claims({ role: 'root' })), secret, now)).toMatchObject({ ok: false, reason: 'invalid_role' });
  });

  it('returns the claims of a refused token only when its signature was valid', () => {
    expect(verifySsoToken(mint(claims({ exp: t - 1, iat: t - 10 })), secret, now)).toMatchObject({ reason: 'expired', claims: { user: 'bluefin' } });
    const forged = verifySsoToken(mint(claims(), 'another-secret-0123456789'), secret, now);
    expect(forged).toEqual({ ok: false, reason: 'bad_signature' });
  });
});

describe('PANEL_SSO_SECRET_FILE configuration', () => {
  it('is optional: unset means panel SSO is off', () => {
    expect(loadConfig({ DEMO_DATA: 'off' }).panelSsoSecretFile).toBeUndefined();
    expect(loadConfig({ PANEL_SSO_SECRET_FILE: secretFile }).panelSsoSecretFile).toBe(secretFile);
  });

  it('names the variable when the file is missing or holds too short a secret, without echoing the secret', () => {
    expect(() => loadConfig({ PANEL_SSO_SECRET_FILE: path.join(secretDir, 'missing.key') })).toThrow(
      /PANEL_SSO_SECRET_FILE expects a readable file holding the secret shared with the panel shims \(cannot read .*missing\.key: ENOENT\)/,
    );
    const short = path.join(secretDir, 'short.key');
    fs.writeFileSync(short, 'tiny-secret\n');
    let message = '';
    try {
      loadConfig({ PANEL_SSO_SECRET_FILE: short });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/PANEL_SSO_SECRET_FILE expects a file holding a secret of at least 16 characters \(.*short\.key holds 11\)/);
    expect(message).not.toContain('tiny-secret');
  });
});

describe.each(engines)('panel SSO on %s', (engine) => {
  let h: Harness;
  const nowS = () => Math.floor(h.clock.now().getTime() / 1000);
  const token = (over: Claims = {}, key = secret) => mint({ v: 1, user: 'custa1', role: 'customer', iat: nowS(), exp: nowS() + 60, nonce: nonce(), ...over }, key);
  const userRow = (login: string) => h.db('users').where({ login }).first();
  const auditOf = async (action: string): Promise<Array<Record<string, unknown> & { data: Record<string, unknown> | null }>> =>
    ((await h.db('audit_log').where({ action }).orderBy('seq')) as Array<Record<string, unknown>>).map((r) => ({ ...r, data: fromDbJson<Record<string, unknown>>(r.data) }));

  /** Follows a token with a fresh browser; returns the agent and the /sso response. */
  async function sso(tok: string, opts: { embedded?: boolean; agent?: Agent } = {}) {
    const agent = opts.agent ?? request.agent(h.app);
    const res = await agent.get(`/sso?token=${encodeURIComponent(tok)}${opts.embedded === false ? '' : '&embedded=1'}`);
    return { agent, res };
  }

  async function expectRefused(tok: string, reason: string, text: string) {
    const { agent, res } = await sso(tok);
    expect(res.status, res.text.slice(0, 300)).toBe(401);
    expect(res.type).toBe('text/html');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.text).toContain(`data-testid="sso-reason">${reason}<`);
    expect(res.text).toContain(text);
    expect((await agent.get('/customer')).status, 'not signed in').toBe(302);
    return res;
  }

  beforeAll(async () => {
    h = await buildHarness(engine, { env: { PANEL_SSO_SECRET_FILE: secretFile } });
  });
  afterAll(async () => {
    await h?.cleanup();
  });

  describe('valid tokens', () => {
    it('a customer token provisions the user, starts a session in the customer context (embedded) and shows only its own domains', async () => {
      expect(await userRow('custa1')).toBeUndefined();
      // A visitor who already has a (pre-login) session: the sign-in must not keep its id.
      const agent = request.agent(h.app);
      const pre = await agent.get('/login');
      const preSid = sessionIdFrom(setCookies(pre));
      expect(preSid).toBeTruthy();

      const { res } = await sso(token(), { agent });
      expect(res.status, res.text.slice(0, 300)).toBe(302);
      expect(res.headers.location).toBe('/customer?embedded=1');
      const sid = sessionIdFrom(setCookies(res));
      expect(sid).toBeTruthy();
      expect(sid, 'session regenerated at sign-in').not.toBe(preSid);
      expect(toNumber((await h.db('sessions').where({ sid: preSid! }).count({ n: '*' }).first())?.n)).toBe(0);

      const home = await agent.get('/customer?embedded=1');
      expect(home.status).toBe(200);
      expect(home.text).not.toContain('data-testid="signed-in-as"');
      expect(home.text).toContain('class="context-customer embedded"');
      expect(home.text).toContain('custa1 on srv1.example.net');
      expect(firstColumn(home.text, 'domains-table').sort()).toEqual(Object.values(h.f.domainNames.a1).sort());
      expect(home.text).not.toContain(h.f.domainNames.a2.main!);
      expect((await agent.get('/reseller')).status).toBe(403);
      expect((await agent.get('/admin')).status).toBe(403);
      expect((await agent.get(`/customer/domains?account=${h.f.accounts.b1}`)).status).toBe(404);

      const user = await userRow('custa1');
      expect(user).toMatchObject({ role: 'customer', password_hash: unusablePasswordHash });
      expect(toNumber(user.account_id)).toBe(h.f.accounts.a1);
      expect(fromDbTime(user.last_login_at).toISOString()).toBe(h.clock.now().toISOString());
      const provisioned = await auditOf('user.provision_sso');
      expect(provisioned.find((e) => e.subject_id === String(user.id))).toMatchObject({ actor_login: 'panel-sso', data: { login: 'custa1', role: 'customer', accountId: h.f.accounts.a1 } });
      const logins = await auditOf('user.sso_login');
      expect(logins.at(-1)).toMatchObject({ actor_login: 'custa1', subject_id: String(user.id), data: { role: 'customer', embedded: true }, ip: '127.0.0.1' });
    });

    it('keeps the embedded frame for the whole session, and shows the full frame without it', async () => {
      const { agent } = await sso(token({ user: 'custb1' }));
      for (const page of ['/customer', '/customer/domains', '/customer/policy']) {
        const res = await agent.get(page);
        expect(res.status, page).toBe(200);
        expect(res.text, page).not.toContain('data-testid="signed-in-as"');
        expect(res.text, page).toContain(' embedded"');
      }
      const { agent: plain, res } = await sso(token({ user: 'custb1' }), { embedded: false });
      expect(res.headers.location).toBe('/customer');
      const page = await plain.get('/customer');
      expect(page.text).toContain('data-testid="signed-in-as"');
      expect(page.text).toContain('Signed in as <strong>custb1</strong>');
    });

    it('signs the same panel user in again with a new token, without provisioning twice', async () => {
      const before = (await auditOf('user.provision_sso')).length;
      const { agent, res } = await sso(token({ user: 'custc' }));
      expect(res.status).toBe(302);
      const again = await sso(token({ user: 'custc' }));
      expect(again.res.status).toBe(302);
      expect((await agent.get('/customer')).status).toBe(200);
      expect((await auditOf('user.provision_sso')).length).toBe(before + 1);
      expect(toNumber((await h.db('users').where({ login: 'custc' }).count({ n: '*' }).first())?.n)).toBe(1);
    });

    it('a reseller token lands in the reseller context over its own customers', async () => {
      const { agent, res } = await sso(token({ user: 'resa', role: 'reseller' }));
      expect(res.status, res.text.slice(0, 300)).toBe(302);
      expect(res.headers.location).toBe('/reseller?embedded=1');
      const home = await agent.get('/reseller');
      expect(home.status).toBe(200);
      expect(firstColumn(home.text, 'customers-table').sort()).toEqual(['custa1', 'custa2', 'custa3', 'resa2']);
      expect((await agent.get('/customer')).status).toBe(403);
      expect((await agent.get('/admin')).status).toBe(403);
      expect((await agent.get(`/reseller/customers/${h.f.accounts.b1}`)).status).toBe(404);
      expect(await userRow('resa')).toMatchObject({ role: 'reseller', account_id: expect.anything() });
      expect(toNumber((await userRow('resa')).account_id)).toBe(h.f.accounts.A);
    });

    it('an admin token for root provisions the admin user `root`; an existing admin login is reused', async () => {
      const { agent, res } = await sso(token({ user: 'root', role: 'admin' }));
      expect(res.status).toBe(302);
      expect(res.headers.location).toBe('/admin?embedded=1');
      expect((await agent.get('/admin')).status).toBe(200);
      expect((await agent.get('/customer')).status).toBe(403);
      expect(await userRow('root')).toMatchObject({ role: 'admin', account_id: null, password_hash: unusablePasswordHash });

      const existing = await sso(token({ user: 'admin', role: 'admin' }), { embedded: false });
      expect(existing.res.headers.location).toBe('/admin');
      const page = await existing.agent.get('/admin');
      expect(page.text).toContain('Signed in as <strong>admin</strong>');
      const provisioned = (await auditOf('user.provision_sso')).map((e) => e.data?.login);
      expect(provisioned).toContain('root');
      expect(provisioned).not.toContain('admin');
    });

    it('accepts a token issued up to 30 s in the future (clock skew)', async () => {
      const { res } = await sso(token({ user: 'custa3', iat: nowS() + 30, exp: nowS() + 90 }));
      expect(res.status).toBe(302);
    });
  });

  describe('refusals', () => {
    it('a token used a second time is refused as already used, and audited without the token', async () => {
      const tok = token({ user: 'custa1' });
      expect((await sso(tok)).res.status).toBe(302);
      await expectRefused(tok, 'replayed', 'This sign-in link was already used.');
      const refused = (await auditOf('user.sso_refused')).at(-1)!;
      expect(refused).toMatchObject({ actor_login: 'panel-sso', data: { panelUser: 'custa1', panelRole: 'customer', reason: 'replayed' } });
      const raw = JSON.stringify(await h.db('audit_log').select('*'));
      expect(raw).not.toContain(tok.split('.')[1]!);
      expect(raw).not.toContain(tok.split('.')[0]!);
    });

    it('an expired token is refused', async () => {
      await expectRefused(token({ iat: nowS() - 90, exp: nowS() - 30 }), 'expired', 'This sign-in link has expired. Open the plugin again from cPanel/WHM.');
      // The same token minted in time, then used after the clock moved past its expiry.
      const tok = token({ user: 'custa1' });
      h.clock.advance(61_000);
      try {
        await expectRefused(tok, 'expired', 'This sign-in link has expired.');
      } finally {
        h.clock.advance(-61_000);
      }
    });

    it('a token valid for longer than 60 s is refused', async () => {
      await expectRefused(token({ exp: nowS() + 61 }), 'lifetime_too_long', 'longer than the 60 seconds allowed');
    });

    it('a token issued more than 30 s in the future is refused', async () => {
      await expectRefused(token({ iat: nowS() + 31, exp: nowS() + 60 }), 'issued_in_future', 'clocks of the panel server and of this app differ');
    });

    it('a token signed with another secret is refused and not audited', async () => {
      const before = toNumber((await h.db('audit_log').count({ n: '*' }).first())?.n);
      await expectRefused(token({}, 'not-the-shared-secret-at-all'), 'bad_signature', 'not signed with the secret this app shares with the panel');
      expect(toNumber((await h.db('audit_log').count({ n: '*' }).first())?.n)).toBe(before);
    });

    it('a tampered payload (another user, same signature) is refused', async () => {
      const [, sig] = token({ user: 'custa1' }).split('.');
      const payload = b64url(JSON.stringify({ v: 1, user: 'resb', role: 'reseller', iat: nowS(), exp: nowS() + 60, nonce: nonce() }));
      await expectRefused(`${payload}.${sig}`, 'bad_signature', 'cannot be trusted');
      const [payload2, sig2] = token({ role: 'customer' }).split('.');
      await expectRefused(`${payload2!.slice(0, -2)}${payload2!.slice(-2) === 'AA' ? 'AB' : 'AA'}.${sig2}`, 'bad_signature', 'cannot be trusted');
    });

    it('missing and damaged tokens are refused', async () => {
      const res = await request(h.app).get('/sso?embedded=1');
      expect(res.status).toBe(401);
      expect(res.text).toContain('carries no sign-in token');
      await expectRefused('not-a-token', 'malformed', 'damaged or incomplete');
      await expectRefused(token({ nonce: 'xyz' }), 'malformed', 'damaged or incomplete');
    });

    it('an unsupported version and an unknown role are refused', async () => {
      await expectRefused(token({ v: 2 }), 'unsupported_version', 'version of the panel plugin');
      await expectRefused(token({ role: 'superuser' }), 'invalid_role', 'names a panel role this app does not know');
    });

    it('a token for an unknown account is refused and provisions nothing', async () => {
      await expectRefused(token({ user: 'nosuchacct' }), 'unknown_account', 'does not know a panel account named &#34;nosuchacct&#34;');
      await expectRefused(token({ user: 'nosuchres', role: 'reseller' }), 'unknown_account', 'nosuchres');
      expect(await userRow('nosuchacct')).toBeUndefined();
    });

    it('a token for a terminated account is refused, for a new and an existing user', async () => {
      await createAccount(h.db, { serverId: h.f.servers.s1, username: 'gone1', status: 'terminated' });
      await expectRefused(token({ user: 'gone1' }), 'account_terminated', 'The account &#34;gone1&#34; is terminated');
      expect(await userRow('gone1')).toBeUndefined();

      const id = await createAccount(h.db, { serverId: h.f.servers.s1, username: 'gone2' });
      expect((await sso(token({ user: 'gone2' }))).res.status).toBe(302);
      await h.db('accounts').where({ id }).update({ status: 'terminated' });
      await expectRefused(token({ user: 'gone2' }), 'account_terminated', 'terminated');
    });

    it('a reseller token for an account that is not a reseller is refused', async () => {
      await expectRefused(token({ user: 'custa2', role: 'reseller' }), 'not_reseller', 'not a reseller in this app');
      expect(await userRow('custa2')).toBeUndefined();
    });

    it('a user whose role or account differs from the token is refused and left unchanged', async () => {
      // The admin user `admin` against a customer token.
      await createAccount(h.db, { serverId: h.f.servers.s2, username: 'admin' });
      await expectRefused(token({ user: 'admin', role: 'customer' }), 'role_mismatch', 'exists in this app with a different role or account');
      expect(await userRow('admin')).toMatchObject({ role: 'admin', account_id: null });
      // A customer user `mixup` linked to another account than the panel account `mixup`.
      await createAccount(h.db, { serverId: h.f.servers.s1, username: 'mixup' });
      await createUser(h.db, { login: 'mixup', role: 'customer', accountId: h.f.accounts.b1 });
      await expectRefused(token({ user: 'mixup' }), 'role_mismatch', 'the panel says: customer');
      expect(toNumber((await userRow('mixup')).account_id)).toBe(h.f.accounts.b1);
      // A customer token for the reseller account resa, whose user is a reseller.
      await expectRefused(token({ user: 'resa', role: 'customer' }), 'role_mismatch', 'different role');
    });

    it('a disabled user is refused', async () => {
      const id = await createAccount(h.db, { serverId: h.f.servers.s2, username: 'sleepy' });
      await createUser(h.db, { login: 'sleepy', role: 'customer', accountId: id });
      await h.db('users').where({ login: 'sleepy' }).update({ disabled: 1 });
      await expectRefused(token({ user: 'sleepy' }), 'user_disabled', 'is disabled in this app');
    });

    it('a username on two servers is ambiguous for a new user', async () => {
      await createAccount(h.db, { serverId: h.f.servers.s1, username: 'twin' });
      await createAccount(h.db, { serverId: h.f.servers.s2, username: 'twin' });
      await expectRefused(token({ user: 'twin' }), 'ambiguous_account', 'More than one server');
    });

    it('a refused link ends the session a previous user had in this browser', async () => {
      const { agent } = await sso(token({ user: 'custb1' }));
      expect((await agent.get('/customer')).status).toBe(200);
      const res = await agent.get(`/sso?token=${encodeURIComponent(token({ user: 'nosuchacct' }))}`);
      expect(res.status).toBe(401);
      expect((await agent.get('/customer')).status).toBe(302);
    });
  });

  describe('around it', () => {
    it('a provisioned user can never sign in with a password', async () => {
      expect((await sso(token({ user: 'custa1' }))).res.status).toBe(302);
      expect(await verifyPassword('', unusablePasswordHash)).toBe(false);
      expect(await verifyPassword(unusablePasswordHash, unusablePasswordHash)).toBe(false);
      expect(await h.container.users.authenticate('custa1', unusablePasswordHash)).toBeNull();
      const agent = request.agent(h.app);
      const page = await agent.get('/login');
      for (const password of [unusablePasswordHash, h.f.password, 'anything-at-all']) {
        const res = await agent.post('/login').type('form').send({ login: 'custa1', password, _csrf: csrfFromHtml(page.text) });
        expect(res.status, password).toBe(401);
      }
      await h.db('login_failures').delete();
    });

    it('prunes nonces of expired tokens when a token is used', async () => {
      expect((await sso(token({ user: 'custa1' }))).res.status).toBe(302);
      const count = async () => toNumber((await h.db('sso_nonces').count({ n: '*' }).first())?.n);
      expect(await count()).toBeGreaterThan(1);
      h.clock.advance(120_000);
      try {
        expect((await sso(token({ user: 'custa1' }))).res.status).toBe(302);
        expect(await count()).toBe(1);
      } finally {
        h.clock.advance(-120_000);
      }
    });

    it('answers 404 "not configured" when PANEL_SSO_SECRET_FILE is not set', async () => {
      const off = buildTestApp(h.db, { clock: h.clock });
      expect(off.container.sso).toBeNull();
      const res = await request(off.app).get(`/sso?token=${encodeURIComponent(token())}&embedded=1`);
      expect(res.status).toBe(404);
      expect(res.text).toContain('Single sign-on is not configured');
      expect(res.text).toContain('PANEL_SSO_SECRET_FILE is not configured');
      expect(res.text).toContain('data-testid="sso-reason">sso_not_configured<');
    });
  });
});
