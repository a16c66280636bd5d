import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toNumber } from '../db/dialect';
import { buildHarness, csrfFromHtml, firstColumn, loginAs, nextHref, type Harness, type LoggedIn } from '../testing/appHarness';
import { engines } from '../testing/testDb';
import { auditRepository } from './auditRepository';

/** Admin → Audit log (page, entry, CSV, Verify chain), GET /api/v1/audit, and the audit of sign-ins. */
describe.each(engines)('audit log pages on %s', (engine) => {
  let h: Harness;
  let admin: LoggedIn;
  const rows = (where: Record<string, string | number>) => h.db('audit_log').where(where).orderBy('seq') as Promise<Array<Record<string, unknown>>>;
  const total = async () => toNumber((await h.db('audit_log').count({ n: '*' }).first())?.n);
  const signIn = (login: string, password: string) =>
    request
      .agent(h.app)
      .get('/login')
      .then(async (page) => request(h.app).post('/login').set('Cookie', page.headers['set-cookie']!).type('form').send({ login, password, _csrf: csrfFromHtml(page.text) }));

  beforeAll(async () => {
    h = await buildHarness(engine);
    admin = await loginAs(h.app, h.f.logins.admin, h.f.password);
  });
  afterAll(async () => {
    await h?.cleanup();
  });

  describe('sign-ins', () => {
    it('audits sign-ins of admins and resellers with their address, and not those of customers', async () => {
      const [adminLogin] = await rows({ action: 'user.login', actor_login: h.f.logins.admin });
      expect(adminLogin).toMatchObject({ subject_type: 'user', subject_id: String(h.f.users.admin), ip: '127.0.0.1' });
      expect(JSON.parse(String(adminLogin!.data))).toEqual({ role: 'admin', method: 'password' });
      await loginAs(h.app, h.f.logins.resellerA, h.f.password);
      expect(await rows({ action: 'user.login', actor_login: h.f.logins.resellerA })).toHaveLength(1);
      const before = await total();
      await loginAs(h.app, h.f.logins.customerA1, h.f.password);
      expect(await total(), 'a customer sign-in writes no entry').toBe(before);
      expect((await h.db('users').where({ id: h.f.users.customerA1 }).first()).last_login_at, 'but its time is kept').not.toBeNull();
    });

    it('audits refused sign-ins naming an admin or reseller, not unknown logins or customers, and nothing once rate-limited', async () => {
      const before = await total();
      expect((await signIn(h.f.logins.admin, 'not the password')).status).toBe(401);
      const [failed] = await rows({ action: 'user.login_failed' });
      expect(failed).toMatchObject({ actor_login: h.f.logins.admin, subject_id: String(h.f.users.admin), ip: '127.0.0.1' });
      expect(JSON.parse(String(failed!.data))).toEqual({ role: 'admin', method: 'password', reason: 'wrong password' });
      expect((await signIn('nobody-here', 'whatever')).status).toBe(401);
      expect((await signIn(h.f.logins.customerB1, 'not the password')).status).toBe(401);
      expect(await total(), 'one entry: the admin one').toBe(before + 1);
      // Three failures from this address: the limiter answers 429 before any password is checked.
      expect((await signIn(h.f.logins.resellerB, 'not the password')).status).toBe(429);
      expect(await total()).toBe(before + 1);
      h.clock.advance(16 * 60_000);
    });
  });

  describe('the page', () => {
    beforeAll(async () => {
      for (let n = 1; n <= 60; n++) {
        await h.db.transaction((trx) => auditRepository.append(trx, { actorUserId: null, actorLogin: 'system', action: 'test.page', subjectType: 'server', subjectId: n % 2 ? 'odd' : 'even', data: { n, why: `<b>${n}</b>` } }, h.clock.now()));
      }
    });

    it('lists the newest 50 entries with their data (escaped), and pages to the rest', async () => {
      const count = await total();
      const page = await admin.agent.get('/admin/audit');
      expect(page.status).toBe(200);
      const shown = firstColumn(page.text, 'audit-table').map(Number);
      expect(shown).toEqual(Array.from({ length: 50 }, (_, i) => count - i));
      expect(page.text).toContain(`Showing 50 of ${count}`);
      expect(page.text).toContain('<span class="text-muted">why:</span> &lt;b&gt;60&lt;/b&gt;');
      expect(page.text).not.toContain('<b>60</b>');
      expect(page.text).toContain('What the hash chain proves');
      expect(page.text).toContain('<option value="test.page">');
      const next = await admin.agent.get(nextHref(page.text)!);
      expect(firstColumn(next.text, 'audit-table').map(Number)).toEqual(Array.from({ length: count - 50 }, (_, i) => count - 50 - i));
      expect(nextHref(next.text)).toBeNull();
      expect(next.text).toContain('First page');
    });

    it('filters by action, who, subject and dates, with links that keep the filters', async () => {
      const filtered = async (qs: string) => firstColumn((await admin.agent.get(`/admin/audit?${qs}`)).text, 'audit-table').map(Number);
      const loginSeqs = (await rows({ action: 'user.login' })).map((r) => toNumber(r.seq));
      const failedSeqs = (await rows({ action: 'user.login_failed' })).map((r) => toNumber(r.seq));
      expect(await filtered('action=user.login')).toEqual([...loginSeqs, ...failedSeqs].sort((a, b) => b - a));
      expect(await filtered(`actor=${h.f.logins.resellerA.toUpperCase()}`)).toEqual((await rows({ actor_login: h.f.logins.resellerA })).map((r) => toNumber(r.seq)).reverse());
      const odd = await filtered('subjectType=server&subjectId=odd');
      expect(odd).toHaveLength(30);
      const paged = await admin.agent.get('/admin/audit?action=test.&subjectType=server');
      expect(paged.text).toContain('Showing 50 of 60');
      expect(nextHref(paged.text)).toMatch(/^\/admin\/audit\?action=test\.&subjectType=server&cursor=/);
      expect(paged.text).toContain('href="/admin/audit.csv?action=test.&amp;subjectType=server"');
      const today = h.clock.now().toISOString().slice(0, 10);
      const tomorrow = new Date(h.clock.now().getTime() + 86_400_000).toISOString().slice(0, 10);
      expect(await filtered(`from=${today}&to=${tomorrow}&action=test.page`)).toHaveLength(50);
      const none = await admin.agent.get(`/admin/audit?from=${tomorrow}`);
      expect(none.status).toBe(200);
      expect(none.text).toContain('data-testid="empty"');
      expect(none.text).toContain('No entry matches these filters');
      expect((await admin.agent.get('/admin/audit?from=yesterday')).status).toBe(422);
    });

    it('exports the filtered view, every page, as CSV', async () => {
      const res = await admin.agent.get('/admin/audit.csv?action=test.page&subjectId=even');
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/csv/);
      expect(res.headers['content-disposition']).toMatch(/^attachment; filename="?audit-log-\d{4}-\d{2}-\d{2}\.csv"?$/);
      const lines = res.text.trim().split('\r\n');
      expect(lines[0]).toBe('seq,at,actor,actor_user_id,action,subject_type,subject_id,ip,data,prev_hash,hash');
      expect(lines).toHaveLength(31);
      const last = (await rows({ action: 'test.page', subject_id: 'even' })).at(-1)!;
      expect(lines[1]).toBe(`${toNumber(last.seq)},${h.clock.now().toISOString()},system,,test.page,server,even,,"{""n"":60,""why"":""<b>60</b>""}",${String(last.prev_hash)},${String(last.hash)}`);
    });

    it('shows one entry with its hashes and whether it checks out; an unknown entry is 404', async () => {
      const [entry] = await rows({ action: 'user.login', actor_login: h.f.logins.admin });
      const page = await admin.agent.get(`/admin/audit/${String(entry!.seq)}`);
      expect(page.status).toBe(200);
      expect(page.text).toContain('data-testid="entry-intact"');
      expect(page.text).toContain(String(entry!.hash));
      expect(page.text).toContain(String(entry!.prev_hash));
      expect((await admin.agent.get('/admin/audit/999999')).status).toBe(404);
      expect((await admin.agent.get('/admin/audit/abc')).status).toBe(422);
    });
  });

  describe('Verify chain', () => {
    it('reports an intact chain with its newest entry, needs the CSRF token, and names the first altered entry', async () => {
      const csrf = await admin.csrf('/admin/audit');
      const ok = await admin.agent.post('/admin/audit/verify').type('form').send({ _csrf: csrf });
      expect(ok.status).toBe(302);
      expect(ok.headers.location).toBe('/admin/audit');
      const count = await total();
      const newest = (await h.db('audit_log').orderBy('seq', 'desc').first()) as Record<string, unknown>;
      expect((await admin.agent.get('/admin/audit')).text).toContain(`Audit chain intact: ${count} entries checked, from #1 to #${count} (hash ${String(newest.hash)}).`);

      const refused = await admin.agent.post('/admin/audit/verify').type('form').send({});
      expect(refused.status).toBe(403);
      expect(refused.text).toContain('<code>csrf_failed</code>');

      const target = (await h.db('audit_log').where('seq', 3).first()) as Record<string, unknown>;
      await h.db('audit_log').where('seq', 3).update({ actor_login: 'mallory' });
      try {
        const broken = await admin.agent.post('/admin/audit/verify').type('form').send({ _csrf: csrf });
        expect(broken.headers.location).toBe('/admin/audit/3');
        const page = await admin.agent.get('/admin/audit/3');
        expect(page.text).toContain("The audit chain is broken at entry #3: hash does not match the entry&#39;s contents. 2 entries before it check out.");
        expect(page.text).toContain('data-testid="entry-broken"');
        expect(page.text).toContain('mallory');
      } finally {
        await h.db('audit_log').where('seq', 3).update({ actor_login: target.actor_login });
      }
    });
  });

  describe('who may see it', () => {
    it('is for admins only: resellers and customers get 403, anonymous visitors the sign-in page', async () => {
      const seq = toNumber((await h.db('audit_log').min({ s: 'seq' }).first())?.s);
      for (const login of [h.f.logins.resellerA, h.f.logins.customerA1]) {
        const other = await loginAs(h.app, login, h.f.password);
        for (const path of ['/admin/audit', '/admin/audit?action=user.', '/admin/audit.csv', `/admin/audit/${seq}`]) {
          const res = await other.agent.get(path);
          expect(res.status, `${login} ${path}`).toBe(403);
          expect(res.text).not.toContain('user.login');
        }
        const post = await other.agent.post('/admin/audit/verify').type('form').send({ _csrf: await other.csrf() });
        expect(post.status).toBe(403);
      }
      const anonymous = await request(h.app).get('/admin/audit');
      expect(anonymous.status).toBe(302);
      expect(anonymous.headers.location).toBe('/login?next=%2Fadmin%2Faudit');
    });
  });

  describe('GET /api/v1/audit', () => {
    it('answers admin tokens with the same filters and pages, and refuses other tokens', async () => {
      const { token, record } = await h.container.users.issueToken(h.f.users.admin, 'siem export', '198.51.100.7');
      const api = (qs: string, bearer = token) => request(h.app).get(`/api/v1/audit${qs}`).set('Authorization', `Bearer ${bearer}`);
      const created = await api(`?action=api_token.create&subjectId=${record.id}`);
      expect(created.status).toBe(200);
      expect(created.body).toMatchObject({ total: 1, nextCursor: null });
      expect(created.body.data[0]).toMatchObject({ actor: h.f.logins.admin, actorUserId: h.f.users.admin, action: 'api_token.create', subjectType: 'api_token', subjectId: String(record.id), data: { name: 'siem export' }, ip: '198.51.100.7' });
      expect(created.body.data[0].hash).toMatch(/^[0-9a-f]{64}$/);

      const first = await api('?action=test.page&limit=20');
      expect(first.body.data).toHaveLength(20);
      expect(first.body.total).toBe(60);
      const second = await api(`?action=test.page&limit=20&cursor=${encodeURIComponent(first.body.nextCursor)}`);
      expect(second.body.data[0].seq).toBe(first.body.data[19].seq - 1);

      const invalid = await api('?to=soon');
      expect(invalid.status).toBe(422);
      expect(invalid.body.error.details.fields).toHaveProperty('to');

      const reseller = await h.container.users.issueToken(h.f.users.resellerA, 'mine');
      const refused = await api('', reseller.token);
      expect(refused.status).toBe(403);
      expect(refused.body.error.code).toBe('forbidden');
      expect((await request(h.app).get('/api/v1/audit')).status).toBe(401);
    });
  });
});
