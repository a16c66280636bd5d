import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Mailer } from '../mail/mailer';
import { buildHarness, firstColumn, loginAs, nextHref, type Harness, type LoggedIn } from '../testing/appHarness';
import { insertValidComplaint } from '../testing/enforcementRows';
import { createAccount } from '../testing/factories';
import { startSmtpCapture, type SmtpCapture } from '../testing/smtpCapture';
import { engines } from '../testing/testDb';
import { defaultNextSteps, defaultTemplates } from './defaultTemplates';
import { enqueueNotice, type NoticeRequest } from './noticeQueue';
import { NoticeSender } from './noticeSender';

/** A port nothing listens on: SMTP to it fails at once. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

let seq = 0;
const key = (label: string) => `test:${label}:${++seq}`;

describe.each(engines)('notices on %s', { timeout: 120_000 }, (engine) => {
  let h: Harness;
  let smtp: SmtpCapture;
  let admin: LoggedIn;
  const from = 'notices@provider.example';

  const enqueue = (req: Omit<NoticeRequest, 'createdBy' | 'key'> & { key?: string; createdBy?: string }) =>
    h.db.transaction((trx) => enqueueNotice(trx, { key: req.key ?? key(req.kind), createdBy: req.createdBy ?? 'policy-ladder', ...req }, h.clock.now()));
  const notice = async (id: number) => (await h.db('notices').where('id', id).first()) as Record<string, unknown>;
  const outboxRowsOf = async (id: number) => (await h.db('mail_outbox').where('kind', 'enforcement_notice').andWhere('headers', 'like', `%"X-Antispam-Notice":"${id} %`)) as Array<Record<string, unknown>>;
  const post = async (path: string, form: Record<string, string>) => admin.agent.post(path).type('form').send({ _csrf: await admin.csrf('/admin/notices/templates'), ...form });

  beforeAll(async () => {
    smtp = await startSmtpCapture();
    h = await buildHarness(engine, { env: { SMTP_URL: smtp.url, MAIL_FROM: from } });
    admin = await loginAs(h.app, h.f.logins.admin, h.f.password);
  });
  afterAll(async () => {
    await h?.cleanup();
    await smtp?.close();
  });

  it('enqueueing the same key twice is a no-op returning the first id, also when two decisions race', async () => {
    const k = key('same');
    const first = await enqueue({ key: k, kind: 'warning', accountId: h.f.accounts.a1, reason: 'Valid complaint.' });
    const again = await enqueue({ key: k, kind: 'warning', accountId: h.f.accounts.a1, reason: 'Something else entirely.' });
    expect(again).toBe(first);
    expect(await h.db('notices').where('idempotency_key', k)).toHaveLength(1);
    expect(await notice(first)).toMatchObject({ reason: 'Valid complaint.', status: 'pending', created_by: 'policy-ladder' });

    // Two transactions with one key at the same time: one row, both get its id.
    const raced = key('race');
    const ids = await Promise.all([0, 1].map(() => enqueue({ key: raced, kind: 'warning', accountId: h.f.accounts.a1, reason: 'Race.' })));
    expect(ids[0]).toBe(ids[1]);
    expect(await h.db('notices').where('idempotency_key', raced)).toHaveLength(1);
  });

  it('refuses a malformed request, naming the field', async () => {
    await expect(enqueue({ kind: 'warning', accountId: 999_999, reason: 'x' })).rejects.toMatchObject({ status: 422, fields: { accountId: 'no account has id 999999' } });
    await expect(enqueue({ kind: 'warning', accountId: h.f.accounts.a1, reason: '  ' })).rejects.toMatchObject({ fields: { reason: expect.stringContaining('is required') } });
    await expect(enqueue({ kind: 'nonsense' as 'warning', accountId: h.f.accounts.a1, reason: 'x' })).rejects.toMatchObject({ fields: { kind: expect.stringContaining('got nonsense') } });
  });

  it('sends to the customer with a copy to its reseller; no copy for the provider’s own customers or a reseller’s own warning; skipped without an address', async () => {
    const a1 = await notice(await enqueue({ kind: 'warning', accountId: h.f.accounts.a1, reason: 'r' }));
    expect(a1).toMatchObject({ to_address: 'admin@custa1.example', cc_address: 'admin@resa.example', status: 'pending', last_error: null });
    // Nested: the direct owner (sub-reseller resa2) gets the copy.
    expect(await notice(await enqueue({ kind: 'warning', accountId: h.f.accounts.a3, reason: 'r' }))).toMatchObject({ to_address: 'admin@custa3.example', cc_address: 'admin@resa2.example' });
    expect(await notice(await enqueue({ kind: 'termination_pending', accountId: h.f.accounts.c, reason: 'r' }))).toMatchObject({ to_address: 'admin@custc.example', cc_address: null });
    expect(await notice(await enqueue({ kind: 'reseller_warning', accountId: h.f.accounts.A, reason: 'r' }))).toMatchObject({ to_address: 'admin@resa.example', cc_address: null });

    const silent = await createAccount(h.db, { serverId: h.f.servers.s2, username: 'noaddress', ownerAccountId: h.f.accounts.B, contactEmail: null, clock: h.clock });
    const skipped = await notice(await enqueue({ kind: 'warning', accountId: silent, reason: 'r' }));
    expect(skipped).toMatchObject({ to_address: null, status: 'skipped', next_attempt_at: null });
    expect(String(skipped.last_error)).toContain('noaddress has no contact email address in the panel');
    expect(String(skipped.last_error)).toContain('reseller resb was not copied either');
  });

  it('renders the template when queued: reason, the complaints behind it, strikes, next step and how to appeal', async () => {
    const day = 86_400_000;
    const c1 = await insertValidComplaint(h.db, { accountId: h.f.accounts.a1, domainId: h.f.domains.a1.main, resellerAccountId: h.f.accounts.A, recipient: 'victim@isp.example', at: new Date(h.clock.now().getTime() - 2 * day) });
    const c2 = await insertValidComplaint(h.db, { accountId: h.f.accounts.a1, domainId: h.f.domains.a1.main, resellerAccountId: h.f.accounts.A, recipient: null, at: new Date(h.clock.now().getTime() - day) });
    await h.db('accounts').where('id', h.f.accounts.a1).update({ strikes: 1 });
    const id = await enqueue({ kind: 'warning', accountId: h.f.accounts.a1, reason: 'Mail to a recipient who never asked for it.\nSecond line.', complaintIds: [c2, c1] });
    const n = await notice(id);
    const day1 = new Date(h.clock.now().getTime() - 2 * day).toISOString().slice(0, 10);
    expect(n.subject).toBe('Warning: spam from custa1.example.com (custa1) — suspended with a warning');
    const body = String(n.body);
    expect(body).toContain('Hello custa1,');
    expect(body).toContain(`- ${day1} · to victim@isp.example · complaint #${c1} · custa1.example.com`);
    expect(body).toMatch(new RegExp(`- \\d{4}-\\d\\d-\\d\\d · to redacted · complaint #${c2} · custa1\\.example\\.com`));
    expect(body.indexOf(`#${c1}`)).toBeLessThan(body.indexOf(`#${c2}`));
    expect(body).toContain('Reason: Mail to a recipient who never asked for it.');
    expect(body).toContain('Your account now has 1 active strike(s).');
    expect(body).toContain(defaultNextSteps.warning);
    expect(body).toContain('Reply to this message: it reaches our abuse desk.');
    expect(body).not.toMatch(/\{\{/);
    expect(JSON.parse(String(n.data))).toMatchObject({ complaintIds: [c1, c2], domain: 'custa1.example.com', strikes: 1, ccAccount: 'resa' });

    // A reseller's warning names whose each complaint is; a next step given by the ladder replaces the default.
    const r = await notice(await enqueue({ kind: 'reseller_warning', accountId: h.f.accounts.A, reason: 'Customers collected strikes.', complaintIds: [c1], nextStep: 'Call custa1 today.' }));
    expect(String(r.body)).toContain(`complaint #${c1} · custa1.example.com · customer custa1`);
    expect(String(r.body)).toContain('Call custa1 today.');
  });

  it('templates: an unknown placeholder is refused naming it; an edit applies to new notices and is audited; reset restores the default', async () => {
    const list = await admin.agent.get('/admin/notices/templates');
    expect(list.status).toBe(200);
    expect(list.text).toContain('Warning (strike 1)');
    expect(list.text).toContain('data-testid="no-abuse-address"');

    const edit = await admin.agent.get('/admin/notices/templates/warning');
    expect(edit.status).toBe(200);
    expect(edit.text).toContain('{{complaints}}');
    expect(edit.text).toMatch(/data-testid="template-preview"[\s\S]*Hello examplecust,[\s\S]*complaint #101/);

    // Preview renders what was typed with sample data and stores nothing.
    const preview = await post('/admin/notices/templates/warning', { subject: 'Preview {{account}}', body: 'Dear {{account}} at {{server}}', action: 'preview' });
    expect(preview.status).toBe(200);
    expect(preview.text).toContain('Dear examplecust at cp1.example.net');
    expect(await h.db('notice_templates').where('kind', 'warning')).toHaveLength(0);

    const bad = await post('/admin/notices/templates/warning', { subject: 'About {{acount}}', body: 'Hello {{account}} {{complaint_list}}', action: 'save' });
    expect(bad.status).toBe(422);
    expect(bad.text).toContain('unknown placeholder {{acount}}');
    expect(bad.text).toContain('unknown placeholder {{complaint_list}}');
    expect(bad.text).toContain('value="About {{acount}}"');
    expect(await h.db('notice_templates').where('kind', 'warning')).toHaveLength(0);

    const before = await enqueue({ kind: 'warning', accountId: h.f.accounts.c, reason: 'Before the edit.' });
    const saved = await post('/admin/notices/templates/warning', { subject: 'Final warning for {{account}}', body: 'Account {{account}}: {{reason}}\n{{appeal}}\n', action: 'save' });
    expect(saved.status).toBe(302);
    expect(await h.db('notice_templates').where('kind', 'warning').first()).toMatchObject({ subject: 'Final warning for {{account}}', updated_by: h.f.logins.admin });
    const audit = await h.db('audit_log').where({ action: 'notice_template.update', subject_id: 'warning' }).first();
    expect(audit).toMatchObject({ actor_login: h.f.logins.admin, subject_type: 'notice_template' });
    const after = await notice(await enqueue({ kind: 'warning', accountId: h.f.accounts.c, reason: 'After the edit.' }));
    expect(after).toMatchObject({ subject: 'Final warning for custc' });
    expect(String(after.body)).toMatch(/^Account custc: After the edit\.\nReply to this message/);
    // A notice already written keeps the text it was written with.
    expect((await notice(before)).subject).toBe('Warning: spam from custc.example.com (custc) — suspended with a warning');

    const confirm = await admin.agent.get('/admin/notices/templates/warning/reset');
    expect(confirm.status).toBe(200);
    expect(confirm.text).toContain('data-testid="reset-warning"');
    const reset = await post('/admin/notices/templates/warning/reset', {});
    expect(reset.status).toBe(302);
    expect(await h.db('notice_templates').where('kind', 'warning')).toHaveLength(0);
    expect(await h.db('audit_log').where({ action: 'notice_template.reset', subject_id: 'warning' })).toHaveLength(1);
    const defaulted = await notice(await enqueue({ kind: 'warning', accountId: h.f.accounts.c, reason: 'After the reset.' }));
    expect(defaulted.subject).toBe(defaultTemplates.warning.subject.replace('{{domain}}', 'custc.example.com').replace('{{account}}', 'custc'));

    expect((await admin.agent.get('/admin/notices/templates/nonsense')).status).toBe(422);
  });

  it('settings: the provider name, abuse desk and appeal page go into new notices; bad values are refused by field', async () => {
    const bad = await post('/admin/notices/settings', { providerName: '', abuseAddress: 'not-an-address', appealUrl: 'ftp://x.example' });
    expect(bad.status).toBe(422);
    expect(bad.text).toMatch(/providerName<\/a>: is required/);
    expect(bad.text).toContain('abuseAddress</a>: expects an email address');
    expect(bad.text).toContain('appealUrl</a>: expects an');
    const ok = await post('/admin/notices/settings', { providerName: 'Crux Softwares', abuseAddress: 'Abuse@Provider.Example', appealUrl: 'https://provider.example/appeal' });
    expect(ok.status).toBe(302);
    expect(await h.db('audit_log').where({ action: 'notice_settings.update' })).toHaveLength(1);
    const body = String((await notice(await enqueue({ kind: 'terminated', accountId: h.f.accounts.a1, reason: 'Terminated after review.' }))).body);
    expect(body).toContain('it reaches our abuse desk at abuse@provider.example');
    expect(body).toContain('You can also appeal at https://provider.example/appeal.');
    expect(body).toContain('The abuse desk of Crux Softwares');
  });

  it('the sender delivers over SMTP to the customer with the reseller in copy, replies going to the abuse desk, and records the mail', async () => {
    const id = await enqueue({ kind: 'warning', accountId: h.f.accounts.a2, reason: 'Delivered over SMTP.' });
    expect(await h.container.noticeSender.hasDue()).toBe(true);
    const report = await h.container.noticeSender.sendDue();
    expect(report.claimed).toBeGreaterThanOrEqual(1);
    const row = await notice(id);
    expect(row).toMatchObject({ status: 'sent', attempts: 1, last_error: null, lease_holder: null, next_attempt_at: null });
    expect(row.sent_at).not.toBeNull();

    const mail = smtp.messages.find((m) => m.headers.get('x-antispam-notice') === `${id} warning`)!;
    expect(mail).toBeDefined();
    expect(mail.to.sort()).toEqual(['admin@custa2.example', 'admin@resa.example']);
    expect(mail.from).toBe(from);
    expect(mail.subject).toBe(String(row.subject));
    expect(mail.text.trim()).toBe(String(row.body).trim());
    expect(mail.raw).toMatch(/^Cc: admin@resa\.example/m);
    expect(mail.raw).toMatch(/^Reply-To: abuse@provider\.example/m);

    const outbox = await outboxRowsOf(id);
    expect(outbox).toHaveLength(1);
    expect(outbox[0]).toMatchObject({ id: row.mail_id, status: 'sent', transport: 'smtp', to_address: 'admin@custa2.example', account_id: h.f.accounts.a2 });
    expect(JSON.parse(String(outbox[0]!.headers))).toMatchObject({ Cc: 'admin@resa.example', 'Reply-To': 'abuse@provider.example' });

    // Nothing left to send for it.
    await h.container.noticeSender.sendDue();
    expect(await outboxRowsOf(id)).toHaveLength(1);
  });

  it('a failed send is retried with growing pauses and given up after the last attempt; an admin can send it again', async () => {
    const down = new Mailer(h.db, h.clock, { smtpUrl: `smtp://127.0.0.1:${await closedPort()}`, from, timeoutMs: 2000 });
    const failing = new NoticeSender({ db: h.db, clock: h.clock, mailer: down }, { maxAttempts: 3, baseDelayMs: 60_000 });
    // Earlier tests' notices go first, so this one is alone in the queue.
    await h.container.noticeSender.sendDue(500);
    const id = await enqueue({ kind: 'termination_pending', accountId: h.f.accounts.b1, reason: 'Second strike.' });

    expect(await failing.sendDue()).toMatchObject({ claimed: 1, retrying: 1 });
    let row = await notice(id);
    expect(row).toMatchObject({ status: 'pending', attempts: 1, lease_holder: null });
    expect(String(row.last_error)).toMatch(/^Attempt 1 of 3: /);
    const start = h.clock.now().getTime();
    expect(new Date(String(row.next_attempt_at).replace(' ', 'T') + 'Z').getTime()).toBe(start + 60_000);

    // Not due yet: nobody touches it.
    expect(await failing.sendDue()).toMatchObject({ claimed: 0 });
    h.clock.advance(60_000);
    expect(await failing.sendDue()).toMatchObject({ claimed: 1, retrying: 1 });
    row = await notice(id);
    expect(new Date(String(row.next_attempt_at).replace(' ', 'T') + 'Z').getTime()).toBe(start + 60_000 + 120_000);
    h.clock.advance(120_000);
    expect(await failing.sendDue()).toMatchObject({ claimed: 1, failed: 1 });
    row = await notice(id);
    expect(row).toMatchObject({ status: 'failed', attempts: 3, next_attempt_at: null });
    expect(String(row.last_error)).toMatch(/^Attempt 3 of 3: /);
    expect(await outboxRowsOf(id)).toHaveLength(3);
    down.close();

    const page = await admin.agent.get(`/admin/notices/${id}`);
    expect(page.text).toContain('data-testid="notice-error"');
    const retried = await admin.agent.post(`/admin/notices/${id}/retry`).type('form').send({ _csrf: await admin.csrf(`/admin/notices/${id}`) });
    expect(retried.status).toBe(302);
    expect(await notice(id)).toMatchObject({ status: 'pending', attempts: 0, last_error: null });
    expect(await h.db('audit_log').where({ action: 'notice.retry', subject_id: String(id) })).toHaveLength(1);
    await h.container.noticeSender.sendDue();
    expect(await notice(id)).toMatchObject({ status: 'sent', attempts: 1 });
    // Sending a sent notice again is refused.
    const refused = await admin.agent.post(`/admin/notices/${id}/retry`).type('form').send({ _csrf: await admin.csrf(`/admin/notices/${id}`) });
    expect(refused.status).toBe(302);
    expect((await admin.agent.get(`/admin/notices/${id}`)).text).toContain('only a failed or skipped notice can be sent again');
  });

  it('two senders working at once never send one notice twice', async () => {
    await h.container.noticeSender.sendDue(500);
    const ids: number[] = [];
    for (let i = 0; i < 12; i++) ids.push(await enqueue({ kind: 'warning', accountId: i % 2 ? h.f.accounts.a1 : h.f.accounts.c, reason: `Concurrent ${i}.` }));
    const one = new NoticeSender({ db: h.db, clock: h.clock, mailer: h.container.mailer });
    const two = new NoticeSender({ db: h.db, clock: h.clock, mailer: h.container.mailer });
    const reports = await Promise.all([one.sendDue(), two.sendDue(), one.sendDue(), two.sendDue()]);
    expect(reports.reduce((n, r) => n + r.claimed, 0)).toBe(12);
    for (const id of ids) {
      expect(await notice(id)).toMatchObject({ status: 'sent', attempts: 1 });
      expect(await outboxRowsOf(id)).toHaveLength(1);
      expect(smtp.messages.filter((m) => m.headers.get('x-antispam-notice') === `${id} warning`)).toHaveLength(1);
    }
  });

  it('without SMTP_URL a notice is captured in the outbox (the embedded default)', async () => {
    await h.container.noticeSender.sendDue(500);
    const id = await enqueue({ kind: 'unsuspended', accountId: h.f.accounts.a1, reason: 'Cause removed.' });
    const capture = new NoticeSender({ db: h.db, clock: h.clock, mailer: new Mailer(h.db, h.clock, { from }) });
    expect(await capture.sendDue()).toMatchObject({ claimed: 1, captured: 1 });
    const row = await notice(id);
    expect(row).toMatchObject({ status: 'captured' });
    const [mail] = await outboxRowsOf(id);
    expect(mail).toMatchObject({ id: row.mail_id, status: 'captured', transport: 'capture' });
  });

  it('admin pages: the list filters by kind, status and account and pages by 50; one notice shows its body and links its mail', async () => {
    const pager = await createAccount(h.db, { serverId: h.f.servers.s1, username: 'pagecust', ownerAccountId: h.f.accounts.A, clock: h.clock });
    const ids: number[] = [];
    await h.db.transaction(async (trx) => {
      for (let i = 0; i < 55; i++) ids.push(await enqueueNotice(trx, { key: key('page'), kind: i === 0 ? 'terminated' : 'warning', accountId: pager, reason: `Page ${i}.`, createdBy: 'admin' }, h.clock.now()));
    });
    const first = await admin.agent.get('/admin/notices?account=pagecust');
    expect(first.status).toBe(200);
    expect(firstColumn(first.text, 'notices-table')).toEqual(ids.slice(5).reverse().map((id) => `#${id}`));
    expect(first.text).toContain('Showing 50 of 55');
    const second = await admin.agent.get(nextHref(first.text)!);
    expect(firstColumn(second.text, 'notices-table')).toEqual(ids.slice(0, 5).reverse().map((id) => `#${id}`));

    const terminated = await admin.agent.get('/admin/notices?account=pagecust&kind=terminated&status=pending');
    expect(firstColumn(terminated.text, 'notices-table')).toEqual([`#${ids[0]}`]);
    expect((await admin.agent.get('/admin/notices?account=pagecust&status=sent')).text).toContain('data-testid="empty"');
    expect((await admin.agent.get('/admin/notices?status=bogus')).status).toBe(422);

    await h.container.noticeSender.sendDue(500);
    const row = await notice(ids[0]!);
    const show = await admin.agent.get(`/admin/notices/${ids[0]}`);
    expect(show.status).toBe(200);
    expect(show.text).toContain('Page 0.');
    expect(show.text).toContain(`href="/admin/mail/${String(row.mail_id)}"`);
    expect((await admin.agent.get(`/admin/mail/${String(row.mail_id)}`)).text).toContain('admin@resa.example');
    expect((await admin.agent.get('/admin/notices/999999')).status).toBe(404);

    const reseller = await loginAs(h.app, h.f.logins.resellerA, h.f.password);
    expect((await reseller.agent.get('/admin/notices')).status).toBe(403);
  });

  it('the delivery job runs the sender once at a time and records its counts', async () => {
    await enqueue({ kind: 'warning', accountId: h.f.accounts.a3, reason: 'Job.' });
    const result = await h.container.noticeDelivery('manual');
    expect(result.ran).toBe(true);
    if (result.ran) expect(result.run).toMatchObject({ job: 'notice-delivery', status: 'ok', counts: expect.objectContaining({ claimed: expect.any(Number), sent: expect.any(Number) }) });
  });
});
