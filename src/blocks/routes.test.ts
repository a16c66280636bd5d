import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pageOf } from '../api/schemas';
import { buildHarness, buildTestApp, loginAs, unescapeHtml, type Harness, type LoggedIn } from '../testing/appHarness';
import { engines } from '../testing/testDb';
import { blockJson } from './apiEndpoints';
import { CsfStandIn } from './testing/csfStandIn';

/** Admin → IP blocks pages and the /api/v1/blocks endpoints through the real app. */
describe.each(engines)('IP block pages and API on %s', { timeout: 120_000 }, (engine) => {
  let h: Harness;
  let csf: CsfStandIn;
  let admin: LoggedIn;
  const tokens: Record<'admin' | 'resellerA' | 'customerA1', string> = { admin: '', resellerA: '', customerA1: '' };
  const api = (method: 'get' | 'post', path: string, token: string) => request(h.app)[method](`/api/v1${path}`).set('Authorization', `Bearer ${token}`);

  beforeAll(async () => {
    csf = CsfStandIn.create();
    h = await buildHarness(engine, { env: { FIREWALL: 'csf', CSF_PATH: csf.path, CSF_CONF: csf.confPath } });
    admin = await loginAs(h.app, h.f.logins.admin, h.f.password);
    for (const who of Object.keys(tokens) as Array<keyof typeof tokens>) tokens[who] = (await h.container.users.issueToken(h.f.users[who], 'blocks test')).token;
  });
  afterAll(async () => {
    await h?.cleanup();
    csf?.cleanup();
  });

  it('the list starts empty, says how blocks get there, and is in the admin navigation', async () => {
    const res = await admin.agent.get('/admin/blocks');
    expect(res.status).toBe(200);
    expect(res.text).toContain('data-testid="empty"');
    expect(res.text).toContain('No address is blocked yet');
    expect(res.text).toContain('href="/admin/blocks/new"');
    expect(res.text).toMatch(/<a class="nav-link active" aria-current="page" href="\/admin\/blocks">IP blocks<\/a>/);
    expect(res.text).not.toContain('data-testid="firewall-none"');
    expect(res.text).not.toContain('data-testid="csf-testing"');
  });

  it('the add form blocks an address, refuses unsafe input with 422 beside the field (values kept, nothing run)', async () => {
    const form = await admin.agent.get('/admin/blocks/new');
    expect(form.status).toBe(200);
    expect(form.text).toContain('data-testid="block-form"');
    expect(form.text).toContain('4 times within 24 hours');
    const csrf = await admin.csrf('/admin/blocks/new');
    csf.clearCalls();
    const bad = await admin.agent.post('/admin/blocks').type('form').send({ _csrf: csrf, address: '192.0.2.1; reboot', reason: 'manual', reasonText: 'kept text', duration: '3600' });
    expect(bad.status).toBe(422);
    expect(bad.text).toContain('data-testid="form-errors"');
    expect(bad.text).toContain('cannot be part of an address');
    expect(bad.text).toContain('kept text');
    expect(unescapeHtml(bad.text)).toContain('value="192.0.2.1; reboot"');
    const badDuration = await admin.agent.post('/admin/blocks').type('form').send({ _csrf: csrf, address: '192.0.2.1', reason: 'manual', duration: '5' });
    expect(badDuration.status).toBe(422);
    expect(csf.calls()).toEqual([]);

    const ok = await admin.agent.post('/admin/blocks').type('form').send({ _csrf: csrf, address: '192.0.2.10', reason: 'login_failure', reasonText: 'SMTP AUTH brute force', duration: '86400', server: String(h.f.servers.s1) });
    expect(ok.status).toBe(302);
    const location = String(ok.headers.location);
    expect(location).toMatch(/^\/admin\/blocks\/\d+$/);
    const page = await admin.agent.get(location);
    expect(page.text).toMatch(/Blocked 192\.0\.2\.10 until .* UTC\. Applied through csf\./);
    expect(page.text).toContain('data-testid="block-facts"');
    expect(page.text).toContain('SMTP AUTH brute force');
    expect(page.text).toContain('srv1.example.net');
    expect(page.text).toContain('data-testid="block-history"');
    expect(page.text).toContain('href="' + location + '/lift"');
    expect(csf.calls()).toEqual([['-td', '192.0.2.10', '86400', `antispam #${location.split('/').pop()} login failures: SMTP AUTH brute force`]]);

    // The same address again: the existing block is extended, and the flash says so.
    const again = await admin.agent.post('/admin/blocks').type('form').send({ _csrf: csrf, address: '192.0.2.10', reason: 'manual', duration: 'permanent' });
    expect(again.headers.location).toBe(location);
    expect((await admin.agent.get(location)).text).toContain('192.0.2.10 was already blocked: block #');
  });

  it('the list shows blocks with filters, search and a pager', async () => {
    for (let i = 20; i < 75; i++) await h.container.blocks.add(h.f.actors.admin, { address: `198.18.0.${i}`, reason: 'port_scan', expiry: { permanent: false, ttlSeconds: 3600 } });
    const list = await admin.agent.get('/admin/blocks');
    expect(list.text).toContain('data-testid="blocks-table"');
    expect(list.text).toContain('Showing 50 of');
    const next = /href="([^"]+)" rel="next"/.exec(list.text);
    expect(next).not.toBeNull();
    const page2 = await admin.agent.get(unescapeHtml(next![1]!));
    expect(page2.status).toBe(200);
    expect(page2.text).toContain('192.0.2.10');
    const search = await admin.agent.get('/admin/blocks?q=198.18.0.33');
    expect(search.text).toContain('198.18.0.33');
    expect(search.text).not.toContain('198.18.0.34');
    expect((await admin.agent.get('/admin/blocks?reason=login_failure')).text).not.toContain('198.18.0.');
    expect((await admin.agent.get('/admin/blocks?status=lifted&reason=hacking')).text).toContain('No block matches these filters');
    expect((await admin.agent.get('/admin/blocks?status=bogus')).status).toBe(422);
    expect(search.text).toContain('href="/admin/blocks.csv?q=198.18.0.33"');
    const csv = await admin.agent.get('/admin/blocks.csv?reason=port_scan');
    expect(csv.headers['content-type']).toContain('text/csv');
    expect(csv.headers['content-disposition']).toMatch(/^attachment; filename="?ip-blocks-\d{4}-\d{2}-\d{2}\.csv"?$/);
    const lines = csv.text.split('\r\n').filter(Boolean);
    expect(lines[0]).toBe('id,address,status,reason,reason_text,trigger,blocked_at,blocked_by,expires_at,lifted_at,lifted_by,lift_reason,firewall,server,events');
    expect(lines).toHaveLength(1 + 55);
    expect(lines.slice(1).every((l) => l.split(',')[3] === 'port_scan')).toBe(true);
  });

  it('lifting goes through a confirmation page and needs a reason', async () => {
    const { block } = await h.container.blocks.add(h.f.actors.admin, { address: '192.0.2.20', reason: 'hacking', expiry: { permanent: true } });
    const confirm = await admin.agent.get(`/admin/blocks/${block.id}/lift`);
    expect(confirm.status).toBe(200);
    expect(confirm.text).toContain('data-testid="lift-confirm"');
    expect(confirm.text).toContain('csf -dr 192.0.2.20');
    const csrf = await admin.csrf(`/admin/blocks/${block.id}/lift`);
    const noReason = await admin.agent.post(`/admin/blocks/${block.id}/lift`).type('form').send({ _csrf: csrf, reason: '' });
    expect(noReason.status).toBe(422);
    expect(noReason.text).toContain('at least 5 characters');
    csf.clearCalls();
    const done = await admin.agent.post(`/admin/blocks/${block.id}/lift`).type('form').send({ _csrf: csrf, reason: 'Our own monitoring host' });
    expect(done.status).toBe(302);
    const page = await admin.agent.get(`/admin/blocks/${block.id}`);
    expect(page.text).toContain('Lifted the block of 192.0.2.20. Applied through csf.');
    expect(page.text).toContain('Our own monitoring host');
    expect(page.text).not.toContain('data-testid="lift-link"');
    expect(csf.calls()).toEqual([['-dr', '192.0.2.20'], ['-tr', '192.0.2.20']]);
    const twice = await admin.agent.post(`/admin/blocks/${block.id}/lift`).type('form').send({ _csrf: csrf, reason: 'Our own monitoring host' });
    expect(twice.status).toBe(302);
    expect((await admin.agent.get(`/admin/blocks/${block.id}`)).text).toContain('is already lifted');
    expect((await admin.agent.get('/admin/blocks/999999')).status).toBe(404);
    expect((await admin.agent.get('/admin/blocks/abc')).status).toBe(422);
  });

  it('a failed firewall run shows on the block with its output, and "try again" re-runs it', async () => {
    csf.failNext('iptables: Resource temporarily unavailable.\n');
    const { block } = await h.container.blocks.add(h.f.actors.admin, { address: '192.0.2.30', reason: 'manual', expiry: { permanent: false, ttlSeconds: 3600 } });
    const page = await admin.agent.get(`/admin/blocks/${block.id}`);
    expect(page.text).toContain('data-testid="sync-error"');
    expect(page.text).toContain('iptables: Resource temporarily unavailable.');
    expect((await admin.agent.get('/admin/blocks')).text).toContain('data-testid="sync-failed"');
    const csrf = await admin.csrf(`/admin/blocks/${block.id}`);
    const retried = await admin.agent.post(`/admin/blocks/${block.id}/sync`).type('form').send({ _csrf: csrf });
    expect(retried.status).toBe(302);
    expect((await admin.agent.get(`/admin/blocks/${block.id}`)).text).toContain('The firewall is up to date for this block.');
  });

  it('banners: FIREWALL=none says blocks are recorded only; CSF TESTING mode warns', async () => {
    csf.setTesting('1');
    expect((await admin.agent.get('/admin/blocks')).text).toContain('data-testid="csf-testing"');
    csf.setTesting(null);
    expect((await admin.agent.get('/admin/blocks')).text).toContain('data-testid="csf-conf-unreadable"');
    csf.setTesting('0');
    const plain = buildTestApp(h.db, { clock: h.clock });
    const session = await loginAs(plain.app, h.f.logins.admin, h.f.password);
    const list = await session.agent.get('/admin/blocks');
    expect(list.text).toContain('data-testid="firewall-none"');
    const csrf = await session.csrf('/admin/blocks/new');
    const added = await session.agent.post('/admin/blocks').type('form').send({ _csrf: csrf, address: '192.0.2.40', reason: 'manual', duration: '3600' });
    expect((await session.agent.get(String(added.headers.location))).text).toContain('Recorded only: no firewall is configured (FIREWALL=none).');
  });

  it('resellers and customers get 403 on every block page and action', async () => {
    const { block } = await h.container.blocks.add(h.f.actors.admin, { address: '192.0.2.50', reason: 'manual', expiry: { permanent: false, ttlSeconds: 3600 } });
    for (const who of [h.f.logins.resellerA, h.f.logins.customerA1]) {
      const other = await loginAs(h.app, who, h.f.password);
      for (const path of ['/admin/blocks', '/admin/blocks.csv', '/admin/blocks/new', `/admin/blocks/${block.id}`, `/admin/blocks/${block.id}/lift`]) expect((await other.agent.get(path)).status, `${who} ${path}`).toBe(403);
      const csrf = await other.csrf();
      expect((await other.agent.post('/admin/blocks').type('form').send({ _csrf: csrf, address: '192.0.2.51', reason: 'manual', duration: '3600' })).status).toBe(403);
      expect((await other.agent.post(`/admin/blocks/${block.id}/lift`).type('form').send({ _csrf: csrf, reason: 'not allowed to' })).status).toBe(403);
    }
    expect((await h.container.blocks.get(h.f.actors.admin, block.id)).block.status).toBe('active');
    expect((await request(h.app).get('/admin/blocks')).status).toBe(302);
  });

  it('API: admin tokens list, add, show and lift; other tokens get 403; errors are JSON with field names', async () => {
    const added = await api('post', '/blocks', tokens.admin).send({ address: '2001:DB8:0:0:1::/80', reason: 'spam_source', reasonText: 'Snowshoe range', ttlSeconds: 7200 });
    expect(added.status, JSON.stringify(added.body)).toBe(200);
    expect(added.body).toMatchObject({ address: '2001:db8:0:0:1::/80', family: 6, reason: 'spam_source', permanent: false, outcome: 'created', permanentBecause: null, syncState: 'synced', status: 'active' });
    const id = added.body.id as number;
    const shown = await api('get', `/blocks/${id}`, tokens.admin);
    expect(blockJson.parse(shown.body)).toEqual(shown.body);
    const listed = await api('get', '/blocks?q=2001:db8::1:0:0:5&limit=5', tokens.admin);
    expect(pageOf(blockJson).parse(listed.body).data.map((b) => b.id)).toEqual([id]);
    const perm = await api('post', '/blocks', tokens.admin).send({ address: '2001:db8:0:0:1::/80', permanent: true });
    expect(perm.body).toMatchObject({ id, outcome: 'extended', permanent: true, expiresAt: null });

    const errors = [
      [{ address: '192.0.2.60 && id', ttlSeconds: 3600 }, 'address'],
      [{ address: '192.0.2.60' }, 'ttlSeconds'],
      [{ address: '192.0.2.60', ttlSeconds: 3600, permanent: true }, 'ttlSeconds'],
      [{ address: '192.0.2.60', ttlSeconds: 10 }, 'ttlSeconds'],
      [{ address: '192.0.2.60', ttlSeconds: 3600, reason: 'revenge' }, 'reason'],
      [{ address: '192.0.2.0/2', ttlSeconds: 3600 }, 'address'],
    ] as const;
    for (const [body, field] of errors) {
      const res = await api('post', '/blocks', tokens.admin).send(body);
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(res.body.error.code).toBe('validation_failed');
      expect(Object.keys(res.body.error.details.fields)).toEqual([field]);
    }

    const lifted = await api('post', `/blocks/${id}/lift`, tokens.admin).send({ reason: 'Range reassigned to a customer' });
    expect(lifted.body).toMatchObject({ id, status: 'lifted', liftReason: 'Range reassigned to a customer', liftedBy: h.f.logins.admin });
    expect((await api('post', `/blocks/${id}/lift`, tokens.admin).send({ reason: 'Range reassigned to a customer' })).status).toBe(409);
    expect((await api('post', `/blocks/${id}/lift`, tokens.admin).send({ reason: 'no' })).status).toBe(422);
    expect((await api('get', '/blocks/999999', tokens.admin)).status).toBe(404);

    for (const who of ['resellerA', 'customerA1'] as const) {
      for (const [method, path] of [['get', '/blocks'], ['get', `/blocks/${id}`], ['post', '/blocks'], ['post', `/blocks/${id}/lift`]] as const) {
        const res = await api(method, path, tokens[who]).send(method === 'post' ? { address: '192.0.2.61', ttlSeconds: 3600, reason: 'ok then' } : undefined);
        expect(res.status, `${who} ${method} ${path}`).toBe(403);
        expect(res.body.error.code).toBe('forbidden');
      }
    }
    expect((await request(h.app).get('/api/v1/blocks')).status).toBe(401);
  });
});
