import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserService } from '../auth/userService';
import { buildHarness, firstColumn, loginAs, nextHref, unescapeHtml, type Harness, type LoggedIn } from '../testing/appHarness';
import { createAccount } from '../testing/factories';
import { engines } from '../testing/testDb';
import { panelActionRepository, type PanelAction } from './panelActionRepository';
import { defaultEnforcementSettings } from './settings';

/**
 * Admin → Enforcement pages, the account page's Enforcement card, and the JSON API, on every engine.
 * The worker is not started here: queued actions stay pending, which is what these tests look at.
 */
describe.each(engines)('enforcement pages and API on %s', { timeout: 120_000 }, (engine) => {
  let h: Harness;
  let admin: LoggedIn;
  const tokens = { admin: '', resellerA: '', customerA1: '' };
  const actor = () => h.f.actors.admin;
  const svc = () => h.container.enforcement;

  /** A fresh customer of reseller A, so every test starts from a clean ladder. */
  const freshAccount = () => createAccount(h.db, { serverId: h.f.servers.s1, ownerAccountId: h.f.accounts.A, clock: h.clock });
  const usernameOf = async (id: number) => String(((await h.db('accounts').where('id', id).first('username')) as { username: string }).username);

  /** Two manual strikes with the default ladder: the second proposes termination, awaiting approval. */
  async function awaitingTermination(accountId: number): Promise<PanelAction> {
    await svc().addManualStrike(actor(), accountId, 'Spam run seen in the exim log.');
    await svc().addManualStrike(actor(), accountId, 'Second spam run after the warning.');
    const page = await svc().list({ accountId, status: 'awaiting_approval' }, { limit: 5 });
    expect(page.items.map((a) => a.kind)).toEqual(['terminate_account']);
    return page.items[0]!;
  }

  const post = async (session: LoggedIn, path: string, form: Record<string, string>) => session.agent.post(path).type('form').send({ _csrf: await session.csrf('/admin/enforcement'), ...form });
  const api = (method: 'get' | 'post', path: string, token: string, body?: object) => {
    const req = request(h.app)[method](`/api/v1${path}`).set('Authorization', `Bearer ${token}`);
    return body ? req.send(body) : req;
  };
  /** Follows a redirect and returns the page (with its flash). */
  const follow = async (session: LoggedIn, res: request.Response) => session.agent.get(String(res.headers.location));

  beforeAll(async () => {
    h = await buildHarness(engine);
    admin = await loginAs(h.app, h.f.logins.admin, h.f.password);
    const users = new UserService(h.db, h.clock);
    for (const key of ['admin', 'resellerA', 'customerA1'] as const) tokens[key] = (await users.issueToken(h.f.users[key], `${key} api`)).token;
  });
  afterAll(async () => {
    await h?.cleanup();
  });

  it('the queue: empty state first, then status tabs with counts, filters, links and the navigation entry', async () => {
    const empty = await admin.agent.get('/admin/enforcement');
    expect(empty.status).toBe(200);
    expect(empty.text).toContain('No panel actions yet');
    expect(empty.text).toContain('aria-current="page" href="/admin/enforcement">Enforcement</a>');
    expect(empty.text).toContain('href="/admin/enforcement/settings"');

    const id = await freshAccount();
    const username = await usernameOf(id);
    const termination = await awaitingTermination(id);
    const all = await admin.agent.get('/admin/enforcement');
    expect(all.text).toContain('data-testid="awaiting-callout"');
    expect(firstColumn(all.text, 'actions-table')).toEqual(expect.arrayContaining([`#${termination.id}`]));
    expect(all.text).toMatch(/data-testid="tab-awaiting_approval">awaiting approval <span class="badge text-bg-light">1<\/span>/);
    expect(all.text).toContain(`href="/admin/accounts/${id}">${username}</a>`);

    const waiting = await admin.agent.get('/admin/enforcement?status=awaiting_approval');
    expect(firstColumn(waiting.text, 'actions-table')).toEqual([`#${termination.id}`]);
    expect(waiting.text).toContain('Terminate account');
    expect(waiting.text).toContain('policy ladder');

    const search = await admin.agent.get(`/admin/enforcement?q=${username.toUpperCase()}`);
    const found = firstColumn(search.text, 'actions-table');
    expect(found.length).toBeGreaterThanOrEqual(4); // strike 1: mail + account; strike 2: mail + termination
    expect((await admin.agent.get('/admin/enforcement?q=second%20spam%20run&kind=terminate_account')).text).toContain(`#${termination.id}`);
    const byAccount = await admin.agent.get(`/admin/enforcement?account=${id}`);
    expect(byAccount.text).toContain('data-testid="account-filter"');
    expect(firstColumn(byAccount.text, 'actions-table')).toEqual(found);

    const none = await admin.agent.get('/admin/enforcement?q=nobody-has-this');
    expect(none.text).toContain('No action matches these filters');
    expect((await admin.agent.get('/admin/enforcement?status=bogus')).status).toBe(422);
    expect((await admin.agent.get('/admin/enforcement?kind=nuke_everything')).status).toBe(422);
  });

  it('pages the queue 50 at a time with a keyset cursor', async () => {
    const id = await freshAccount();
    const username = await usernameOf(id);
    for (let i = 0; i < 53; i++) {
      await panelActionRepository.enqueue(h.db, { key: `test:page:${id}:${i}`, kind: 'hold_outgoing_email', serverId: h.f.servers.s1, accountId: id, username, reason: `paging test ${i}`, origin: 'api', requestedBy: 'test', needsApproval: false, maxAttempts: 3 }, h.clock.now());
    }
    const first = await admin.agent.get(`/admin/enforcement?q=${username}`);
    expect(first.text).toContain('Showing 50 of 53');
    const next = nextHref(first.text)!;
    expect(next).toContain('cursor=');
    const second = await admin.agent.get(next);
    expect(second.text).toContain('Showing 3 of 53');
    expect(nextHref(second.text)).toBeNull();
    const ids = [...firstColumn(first.text, 'actions-table'), ...firstColumn(second.text, 'actions-table')];
    expect(new Set(ids).size).toBe(53);
  });

  it('approves a termination only with the username typed; shows it on the detail page and in the audit log', async () => {
    const id = await freshAccount();
    const username = await usernameOf(id);
    const action = await awaitingTermination(id);
    const page = await admin.agent.get(`/admin/enforcement/${action.id}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('data-testid="approve-form"');
    expect(page.text).toContain('cannot be undone');
    expect(page.text).toContain(`Type <strong>${username}</strong> to confirm`);
    expect(page.text).toContain('data-testid="cancel-form"');
    expect(page.text).not.toContain('data-testid="retry-form"');
    expect(page.text).toContain('enforcement.ladder');

    const wrong = await post(admin, `/admin/enforcement/${action.id}/approve`, { confirm: 'someone-else' });
    expect(wrong.status).toBe(422);
    expect(unescapeHtml(wrong.text)).toContain(`type "${username}" to approve: terminate account cannot be undone`);
    expect(wrong.text).toContain('value="someone-else"');
    expect((await post(admin, `/admin/enforcement/${action.id}/approve`, {})).status).toBe(422);
    expect((await svc().find(action.id)).status).toBe('awaiting_approval');

    const ok = await post(admin, `/admin/enforcement/${action.id}/approve`, { confirm: ` ${username.toUpperCase()} ` });
    expect(ok.status).toBe(302);
    expect(ok.headers.location).toBe(`/admin/enforcement/${action.id}`);
    const after = await follow(admin, ok);
    expect(after.text).toContain(`Approved: terminate account for ${username}`);
    expect(after.text).toContain('data-status="pending"');
    expect(after.text).toContain('enforcement.approve');
    expect(await svc().find(action.id)).toMatchObject({ status: 'pending', approvedBy: h.f.logins.admin });

    const again = await post(admin, `/admin/enforcement/${action.id}/approve`, { confirm: username });
    expect(again.status).toBe(409);
    expect(again.text).toContain('not awaiting approval');
    const audit = await h.db('audit_log').where({ action: 'enforcement.approve', subject_type: 'account', subject_id: String(id) });
    expect(audit).toHaveLength(1);
  });

  it('cancels with a reason; retries only a failed action', async () => {
    const id = await freshAccount();
    const action = await awaitingTermination(id);
    const noReason = await post(admin, `/admin/enforcement/${action.id}/cancel`, { reason: ' ' });
    expect(noReason.status).toBe(422);
    expect(noReason.text).toContain('say why (at least 3 characters)');
    const cancelled = await post(admin, `/admin/enforcement/${action.id}/cancel`, { reason: 'Customer proved the list was opt-in.' });
    expect(cancelled.status).toBe(302);
    expect((await follow(admin, cancelled)).text).toContain('is cancelled; the panel will not be called');
    expect(await svc().find(action.id)).toMatchObject({ status: 'cancelled', cancelledBy: h.f.logins.admin, cancelReason: 'Customer proved the list was opt-in.' });
    const twice = await post(admin, `/admin/enforcement/${action.id}/cancel`, { reason: 'Cancelling it twice.' });
    expect(twice.status).toBe(409);
    expect((await admin.agent.get(`/admin/enforcement/${action.id}`)).text).toContain('nothing more can be done with it');

    // A pending action that then failed after every attempt.
    const [pending] = (await svc().list({ accountId: id, status: 'pending' }, { limit: 1 })).items;
    const notFailed = await post(admin, `/admin/enforcement/${pending!.id}/retry`, {});
    expect(notFailed.status).toBe(409);
    expect(notFailed.text).toContain('Only a failed action can be retried');
    await h.db('panel_actions').where('id', pending!.id).update({ status: 'failed', attempts: 3, last_error: 'connect ECONNREFUSED 192.0.2.1:2087', next_attempt_at: null });
    const failedPage = await admin.agent.get(`/admin/enforcement/${pending!.id}`);
    expect(failedPage.text).toContain('data-testid="retry-form"');
    expect(failedPage.text).toContain('connect ECONNREFUSED 192.0.2.1:2087');
    expect((await admin.agent.get('/admin/enforcement')).text).toContain('data-testid="failed-callout"');
    const retried = await post(admin, `/admin/enforcement/${pending!.id}/retry`, {});
    expect(retried.status).toBe(302);
    expect((await follow(admin, retried)).text).toContain('queued again with a fresh budget');
    expect(await svc().find(pending!.id)).toMatchObject({ status: 'pending', attempts: 0 });
    expect((await admin.agent.get('/admin/enforcement/99999999')).status).toBe(404);
    expect((await admin.agent.get('/admin/enforcement/abc')).status).toBe(422);
  });

  it('the account page has the Enforcement card for admins only; its forms validate, queue, and add strikes', async () => {
    const id = await freshAccount();
    const username = await usernameOf(id);
    const page = await admin.agent.get(`/admin/accounts/${id}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('data-testid="enforcement-card"');
    expect(page.text).toContain('data-testid="no-account-actions"');
    expect(page.text).toContain(`Terminate only: type <strong>${username}</strong> to confirm`);
    expect(page.text).toContain('Terminate account (cannot be undone)');
    const reseller = await loginAs(h.app, h.f.logins.resellerA, h.f.password);
    const resellerView = await reseller.agent.get(`/reseller/customers/${id}`);
    expect(resellerView.status).toBe(200);
    expect(resellerView.text).not.toContain('data-testid="enforcement-card"');

    const base = `/admin/enforcement/accounts/${id}`;
    const noReason = await post(admin, `${base}/actions`, { kind: 'suspend_account', reason: '' });
    expect(noReason.status).toBe(422);
    expect(noReason.text).toContain('say why (at least 3 characters)');
    expect(noReason.text).toContain('<option value="suspend_account" selected>');
    const wrongName = await post(admin, `${base}/actions`, { kind: 'terminate_account', reason: 'Third spam run this month.', confirmUsername: 'nope' });
    expect(wrongName.status).toBe(422);
    expect(unescapeHtml(wrongName.text)).toContain(`type the username "${username}" to confirm: terminate account cannot be undone`);
    expect(wrongName.text).toContain('Third spam run this month.');
    expect((await post(admin, `${base}/actions`, { kind: 'format_disk', reason: 'Not an action at all.' })).status).toBe(422);

    const ok = await post(admin, `${base}/actions`, { kind: 'suspend_account', reason: 'Phishing kit found in public_html.', lockSuspension: '1' });
    expect(ok.status).toBe(302);
    expect(ok.headers.location).toBe(`/admin/accounts/${id}`);
    const after = await follow(admin, ok);
    expect(after.text).toContain(`Suspend account queued for ${username}`);
    const [queued] = (await svc().list({ accountId: id }, { limit: 5 })).items;
    expect(queued).toMatchObject({ kind: 'suspend_account', status: 'pending', origin: 'admin', requestedBy: h.f.logins.admin, params: { disallowResellerUnsuspend: true } });
    expect(after.text).toContain(`href="/admin/enforcement/${queued!.id}"`);

    const noStrike = await post(admin, `${base}/strikes`, { strikeReason: 'x' });
    expect(noStrike.status).toBe(422);
    expect(noStrike.text).toContain('id="strikeReason" name="strikeReason" rows="2" class="form-control is-invalid"');
    const strike = await post(admin, `${base}/strikes`, { strikeReason: 'Spam run seen in the exim log.' });
    expect(strike.status).toBe(302);
    expect((await follow(admin, strike)).text).toContain('Strike recorded. The ladder queued: suspend outgoing mail (pending)');
    expect(await h.db('strikes').where({ account_id: id, source: 'manual' })).toHaveLength(1);

    await h.db('accounts').where('id', id).update({ status: 'terminated' });
    const gone = await post(admin, `${base}/actions`, { kind: 'unsuspend_account', reason: 'Lifting the suspension.' });
    expect(gone.status).toBe(409);
    expect(gone.text).toContain('is terminated; nothing more can be done to it');
    expect((await admin.agent.get(`/admin/accounts/${id}`)).text).toContain('data-testid="terminated"');
    expect((await admin.agent.get('/admin/enforcement/accounts/99999999')).status).toBe(404);
  });

  it('proposes suspending a server: it waits for approval with the server name typed, one at a time', async () => {
    const form = await admin.agent.get('/admin/enforcement/servers/suspend');
    expect(form.status).toBe(200);
    expect(form.text).toContain('srv1.example.net');
    expect(form.text).toContain('suspend every account on the server');
    const noServer = await post(admin, '/admin/enforcement/servers/suspend', { server: '', reason: 'Owner keeps spamming.' });
    expect(noServer.status).toBe(422);
    expect(noServer.text).toContain('expects a server from the list');
    expect((await post(admin, '/admin/enforcement/servers/suspend', { server: '99999999', reason: 'Owner keeps spamming.' })).status).toBe(422);

    const ok = await post(admin, '/admin/enforcement/servers/suspend', { server: String(h.f.servers.s2), reason: 'Owner keeps spamming after two warnings.' });
    expect(ok.status).toBe(302);
    const actionId = Number(/\/admin\/enforcement\/(\d+)$/.exec(String(ok.headers.location))![1]);
    expect(await svc().find(actionId)).toMatchObject({ kind: 'suspend_server', status: 'awaiting_approval', accountId: null, serverName: 'srv2.example.net', origin: 'admin' });
    const detail = await follow(admin, ok);
    expect(detail.text).toContain('Type <strong>srv2.example.net</strong> to confirm');
    const dup = await post(admin, '/admin/enforcement/servers/suspend', { server: String(h.f.servers.s2), reason: 'Proposing it once more.' });
    expect(dup.status).toBe(409);
    expect(dup.text).toContain('already waiting or running');
    const wrong = await post(admin, `/admin/enforcement/${actionId}/approve`, { confirm: 'srv1.example.net' });
    expect(wrong.status).toBe(422);
    expect(unescapeHtml(wrong.text)).toContain('type "srv2.example.net" to approve');
    expect((await post(admin, `/admin/enforcement/${actionId}/cancel`, { reason: 'Owner cleaned up; no suspension.' })).status).toBe(302);
  });

  it('settings: every field with its help, per-field errors with the values kept, saved and audited with who and when', async () => {
    const page = await admin.agent.get('/admin/enforcement/settings');
    expect(page.status).toBe(200);
    for (const key of Object.keys(defaultEnforcementSettings)) expect(page.text, key).toContain(`name="${key}"`);
    expect(page.text).toContain('Never changed: the defaults apply.');
    expect(page.text).toContain('At 1 strike within 365 days: suspend the account and its outgoing mail');
    expect(page.text).toContain('not configured');

    const form = { ladderEnabled: '1', strikeWindowDays: '180', suspendAt: '2', firstStrikeMode: 'mail_only', lockSuspensions: '1', terminateAt: '2', terminateNeedsApproval: '1', resellerWarnAt: '5', resellerWindowDays: '', serverSuspendAt: '0', serverSuspensionMode: 'command', maxAttempts: '99' };
    const bad = await post(admin, '/admin/enforcement/settings', form);
    expect(bad.status).toBe(422);
    const text = unescapeHtml(bad.text);
    expect(text).toContain('Reseller window expects a whole number');
    expect(text).toContain('Attempts is at most 50');
    expect(bad.text).toContain('value="180"');
    expect(bad.text).toContain('<option value="mail_only" selected>');
    const cross = await post(admin, '/admin/enforcement/settings', { ...form, resellerWindowDays: '30', maxAttempts: '5' });
    expect(cross.status).toBe(422);
    expect(unescapeHtml(cross.text)).toContain('Terminate at must be more strikes than Suspend at');
    expect(unescapeHtml(cross.text)).toContain('the command mode needs SERVER_SUSPEND_COMMAND');
    expect((await svc().readSettings()).updatedBy).toBeNull();

    const saved = await post(admin, '/admin/enforcement/settings', { ...form, resellerWindowDays: '30', maxAttempts: '5', terminateAt: '3', serverSuspensionMode: 'suspend_accounts', terminateNeedsApproval: '' });
    expect(saved.status).toBe(302);
    const after = await follow(admin, saved);
    expect(after.text).toContain('Enforcement settings saved');
    expect(after.text).toContain(`Last changed by <strong>${h.f.logins.admin}</strong>`);
    expect((await svc().readSettings()).settings).toEqual({ ...defaultEnforcementSettings, strikeWindowDays: 180, suspendAt: 2, firstStrikeMode: 'mail_only', terminateAt: 3, terminateNeedsApproval: false, resellerWarnAt: 5, serverSuspendAt: 0, maxAttempts: 5 });
    const audit = (await h.db('audit_log').where('action', 'settings.enforcement')) as Array<{ data: string }>;
    expect(audit).toHaveLength(1);
    expect(JSON.parse(audit[0]!.data)).toMatchObject({ before: { suspendAt: 1 }, after: { suspendAt: 2 } });
    // Back to the defaults for the other tests.
    await svc().saveSettings(actor(), { ...defaultEnforcementSettings });
  });

  it('resellers and customers get 403 on every admin enforcement page and form', async () => {
    const id = await freshAccount();
    const action = await awaitingTermination(id);
    for (const login of [h.f.logins.resellerA, h.f.logins.customerA1]) {
      const other = await loginAs(h.app, login, h.f.password);
      for (const path of ['/admin/enforcement', `/admin/enforcement/${action.id}`, '/admin/enforcement/settings', '/admin/enforcement/servers/suspend', `/admin/enforcement/accounts/${id}`]) {
        expect((await other.agent.get(path)).status, `${login} GET ${path}`).toBe(403);
      }
      const csrf = await other.csrf();
      for (const [path, form] of [[`/admin/enforcement/${action.id}/approve`, { confirm: 'x' }], [`/admin/enforcement/accounts/${id}/strikes`, { strikeReason: 'Spam run.' }], ['/admin/enforcement/settings', {}]] as const) {
        expect((await other.agent.post(path).type('form').send({ _csrf: csrf, ...form })).status, `${login} POST ${path}`).toBe(403);
      }
    }
    expect((await svc().find(action.id)).status).toBe('awaiting_approval');
  });

  it('API: admin tokens list, read, request, approve, retry and cancel; resellers and customers get 403', async () => {
    const id = await freshAccount();
    const username = await usernameOf(id);
    const waiting = await awaitingTermination(id);

    const list = await api('get', `/enforcement/actions?account=${id}&limit=2`, tokens.admin);
    expect(list.status).toBe(200);
    expect(list.body.total).toBe(4);
    expect(list.body.data).toHaveLength(2);
    const rest = await api('get', `/enforcement/actions?account=${id}&limit=2&cursor=${encodeURIComponent(list.body.nextCursor as string)}`, tokens.admin);
    expect([...list.body.data, ...rest.body.data].map((a: { id: number }) => a.id)).toEqual((await svc().list({ accountId: id }, { limit: 10 })).items.map((a) => a.id));
    expect(rest.body.nextCursor).toBeNull();
    const filtered = await api('get', `/enforcement/actions?status=awaiting_approval&q=${username}`, tokens.admin);
    expect(filtered.body.data.map((a: { id: number }) => a.id)).toEqual([waiting.id]);
    expect((await api('get', '/enforcement/actions?status=gone', tokens.admin)).status).toBe(422);

    const one = await api('get', `/enforcement/actions/${waiting.id}`, tokens.admin);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ id: waiting.id, kind: 'terminate_account', status: 'awaiting_approval', accountId: id, username, server: 'srv1.example.net', origin: 'ladder', approvedAt: null });
    expect((await api('get', '/enforcement/actions/99999999', tokens.admin)).body.error.code).toBe('not_found');

    const wrong = await api('post', `/enforcement/actions/${waiting.id}/approve`, tokens.admin, { confirm: 'not-it' });
    expect(wrong.status).toBe(422);
    expect(wrong.body.error.details.fields.confirm).toContain(`type "${username}" to approve`);
    const approved = await api('post', `/enforcement/actions/${waiting.id}/approve`, tokens.admin, { confirm: username });
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({ status: 'pending', approvedBy: h.f.logins.admin });
    expect((await api('post', `/enforcement/actions/${waiting.id}/approve`, tokens.admin, { confirm: username })).status).toBe(409);

    const other = await freshAccount();
    const otherName = await usernameOf(other);
    const missing = await api('post', `/accounts/${other}/actions`, tokens.admin, { kind: 'hold_outgoing_email' });
    expect(missing.status).toBe(422);
    expect(missing.body.error.details.fields).toHaveProperty('reason');
    const unconfirmed = await api('post', `/accounts/${other}/actions`, tokens.admin, { kind: 'terminate_account', reason: 'Botnet command and control.' });
    expect(unconfirmed.status).toBe(422);
    expect(unconfirmed.body.error.details.fields.confirmUsername).toContain(`type the username "${otherName}"`);
    const created = await api('post', `/accounts/${other}/actions`, tokens.admin, { kind: 'hold_outgoing_email', reason: 'Queue flooded with spam; holding it.' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ kind: 'hold_outgoing_email', status: 'pending', origin: 'api', username: otherName, requestedBy: h.f.logins.admin });
    expect((await api('post', '/accounts/99999999/actions', tokens.admin, { kind: 'hold_outgoing_email', reason: 'No such account.' })).status).toBe(404);

    // A client retrying with the same Idempotency-Key gets the first action back, not a second one.
    const keyed = (kind: string, key: string) => api('post', `/accounts/${other}/actions`, tokens.admin).set('Idempotency-Key', key).send({ kind, reason: 'Billing system retry test.' });
    const first = await keyed('release_outgoing_email', 'bill-42');
    const again = await keyed('release_outgoing_email', 'bill-42');
    expect([first.status, again.status]).toEqual([201, 201]);
    expect(again.body.id).toBe(first.body.id);
    expect(await h.db('panel_actions').where('kind', 'release_outgoing_email').where('account_id', other).count({ n: '*' }).first()).toMatchObject({ n: 1 });
    expect((await keyed('suspend_outgoing_email', 'bill-42')).status).toBe(409);
    expect((await keyed('suspend_outgoing_email', 'no spaces allowed')).status).toBe(422);

    expect((await api('post', `/enforcement/actions/${created.body.id}/retry`, tokens.admin)).status).toBe(409);
    await h.db('panel_actions').where('id', created.body.id).update({ status: 'failed', last_error: 'HTTP 503 from WHM' });
    const retried = await api('post', `/enforcement/actions/${created.body.id}/retry`, tokens.admin);
    expect(retried.body).toMatchObject({ status: 'pending', attempts: 0 });
    expect((await api('post', `/enforcement/actions/${created.body.id}/cancel`, tokens.admin, {})).status).toBe(422);
    const cancelled = await api('post', `/enforcement/actions/${created.body.id}/cancel`, tokens.admin, { reason: 'Queue cleaned by the customer.' });
    expect(cancelled.body).toMatchObject({ status: 'cancelled', cancelReason: 'Queue cleaned by the customer.' });

    await h.db('accounts').where('id', other).update({ status: 'terminated' });
    const conflict = await api('post', `/accounts/${other}/actions`, tokens.admin, { kind: 'unsuspend_account', reason: 'Lifting the suspension.' });
    expect(conflict.status).toBe(409);
    expect(conflict.body.error.code).toBe('conflict');

    for (const token of [tokens.resellerA, tokens.customerA1]) {
      for (const [method, path, body] of [
        ['get', '/enforcement/actions', undefined],
        ['get', `/enforcement/actions/${waiting.id}`, undefined],
        ['post', `/accounts/${id}/actions`, { kind: 'suspend_account', reason: 'Trying as a non-admin.' }],
        ['post', `/enforcement/actions/${waiting.id}/approve`, { confirm: username }],
        ['post', `/enforcement/actions/${waiting.id}/retry`, undefined],
        ['post', `/enforcement/actions/${waiting.id}/cancel`, { reason: 'Trying as a non-admin.' }],
      ] as const) {
        const res = await api(method, path, token, body);
        expect(res.status, `${method} ${path}`).toBe(403);
        expect(res.body.error.code).toBe('forbidden');
      }
    }
    expect((await svc().find(waiting.id)).status).toBe('pending');
  });
});
