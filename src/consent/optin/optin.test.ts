import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Mailer } from '../../mail/mailer';
import { buildHarness, loginAs, testSessionSecret, unescapeHtml, type Harness, type LoggedIn } from '../../testing/appHarness';
import { startSmtpCapture, type SmtpCapture } from '../../testing/smtpCapture';
import { engines } from '../../testing/testDb';
import { readOptInToken, deriveOptInKey, signOptInToken } from './optInToken';

const linkIn = (text: string): string => {
  const match = /https?:\/\/[^\s/]+(\/confirm\/[A-Za-z0-9_.-]+)/.exec(text);
  if (!match) throw new Error(`no confirmation link in:\n${text}`);
  return match[1]!;
};

describe('double opt-in tokens', () => {
  it('name one confirmation request and cannot be forged or reused as another kind of token', () => {
    const key = deriveOptInKey(testSessionSecret);
    const token = signOptInToken(key, 42);
    expect(readOptInToken(key, token)).toBe(42);
    expect(readOptInToken(deriveOptInKey('another-secret-of-at-least-32-characters!'), token)).toBeNull();
    const [payload] = token.split('.');
    const forged = `${Buffer.from(JSON.stringify({ c: 43 })).toString('base64url')}.${token.split('.')[1]}`;
    expect(readOptInToken(key, forged)).toBeNull();
    expect(readOptInToken(key, `${payload}`)).toBeNull();
    expect(readOptInToken(key, 'x'.repeat(5000))).toBeNull();
  });
});

describe.each(engines)('double opt-in on %s', { timeout: 120_000 }, (engine) => {
  let h: Harness;
  let smtp: SmtpCapture;
  let a1: LoggedIn;
  let b1: LoggedIn;
  let listId: number;
  const svc = () => h.container.consent;
  const eventTypes = async (recordId: number) => ((await h.db('consent_events').where('record_id', recordId).orderBy('seq')) as Array<{ type: string }>).map((e) => e.type);
  const recordOf = async (email: string) => (await h.db('consent_records').where({ list_id: listId, email }).first()) as { id: number; status: string; method: string; source: string; confirmed_ip: string | null } | undefined;
  const subscribe = (email: string, extra: Record<string, string> = {}, ip = '198.51.100.7') =>
    request(h.app).post(`/subscribe/${listId}`).set('X-Forwarded-For', ip).type('form').send({ email, ...extra });

  beforeAll(async () => {
    smtp = await startSmtpCapture();
    h = await buildHarness(engine, { env: { SMTP_URL: smtp.url, MAIL_FROM: 'no-reply@antispam.example.net', OPTIN_EXPIRY_HOURS: '48', TRUST_PROXY: 'true' } });
    a1 = await loginAs(h.app, h.f.logins.customerA1, h.f.password);
    b1 = await loginAs(h.app, h.f.logins.customerB1, h.f.password);
    listId = await svc().createList(h.f.actors.customerA1, { name: 'Weekly deals', domainId: h.f.domains.a1.main!, doubleOptIn: false, text: 'Yes, send me the weekly deals.' });
  });
  afterAll(async () => {
    h?.container.mailer.close();
    await h?.cleanup();
    await smtp?.close();
  });

  it('has no public form until the customer turns double opt-in on; another customer cannot turn it on', async () => {
    expect((await request(h.app).get(`/subscribe/${listId}`)).status).toBe(404);
    expect((await b1.agent.post(`/customer/consent/lists/${listId}/double-opt-in`).type('form').send({ _csrf: await b1.csrf(), enabled: 'yes' })).status).toBe(404);
    const on = await a1.agent.post(`/customer/consent/lists/${listId}/double-opt-in`).type('form').send({ _csrf: await a1.csrf(), enabled: 'yes' });
    expect(on.status).toBe(302);
    const page = await a1.agent.get(`/customer/consent/lists/${listId}`);
    expect(page.text).toContain(`/subscribe/${listId}`);
    expect(unescapeHtml(page.text)).toContain('<input type="email" name="email" required>');
    const form = await request(h.app).get(`/subscribe/${listId}`);
    expect(form.status).toBe(200);
    expect(form.text).toContain('Yes, send me the weekly deals.');
    expect(form.headers['set-cookie']).toBeUndefined();
  });

  it('a sign-up records a pending request and mails a signed link through SMTP; confirming records time and IP, once', async () => {
    const bad = await subscribe('not-an-address');
    expect(bad.status).toBe(422);
    expect(bad.text).toContain('is not a valid email address');

    const res = await subscribe('Visitor@Example.org', {}, '198.51.100.7');
    expect(res.status).toBe(200);
    expect(res.text).toContain('a confirmation message is on its way');
    const pending = (await recordOf('visitor@example.org'))!;
    expect(pending).toMatchObject({ status: 'pending', method: 'double_opt_in' });

    const mail = await smtp.waitFor('visitor@example.org');
    expect(mail.from).toBe('no-reply@antispam.example.net');
    expect(mail.subject).toContain('Weekly deals');
    expect(mail.headers.get('auto-submitted')).toBe('auto-generated');
    // Our wording only: the customer's consent text (their content) is not in the mail.
    expect(mail.text).not.toContain('weekly deals.');
    const outbox = await h.db('mail_outbox').where({ to_address: 'visitor@example.org' }).first();
    expect(outbox).toMatchObject({ status: 'sent', transport: 'smtp', kind: 'optin_confirmation' });
    expect(String(outbox.response)).toMatch(/^250/);

    // GET changes nothing (mail scanners prefetch links).
    const link = linkIn(mail.text);
    const view = await request(h.app).get(link);
    expect(view.status).toBe(200);
    expect(view.text).toContain('Confirm subscription');
    expect((await recordOf('visitor@example.org'))!.status).toBe('pending');

    const confirm = await request(h.app).post(link).set('X-Forwarded-For', '203.0.113.50');
    expect(confirm.status).toBe(200);
    expect(confirm.text).toContain('Confirmed');
    const record = (await recordOf('visitor@example.org'))!;
    expect(record.status).toBe('confirmed');
    const full = await svc().getRecord(h.f.actors.customerA1, record.id);
    expect(full).toMatchObject({ method: 'double_opt_in', confirmedIp: '203.0.113.50', ip: '198.51.100.7', consentTextVersion: 1 });
    expect(full.confirmedAt).toBeInstanceOf(Date);
    expect(await eventTypes(record.id)).toEqual(['record_added', 'optin_requested', 'record_confirmed']);

    // Pressing again is harmless.
    const again = await request(h.app).post(link);
    expect(again.status).toBe(200);
    expect(again.text).toContain('Confirmed');
    expect(await eventTypes(record.id)).toHaveLength(3);
    expect((await svc().verifyChains()).every((c) => c.broken === null)).toBe(true);

    // The pre-send check now counts it as confirmed.
    expect((await svc().check(h.f.actors.customerA1, h.f.domainNames.a1.main!, ['visitor@example.org'])).confirmed).toEqual(['visitor@example.org']);
  });

  it('answers the same way for an already confirmed address and sends nothing; a honeypot sign-up records nothing', async () => {
    const before = smtp.messages.length;
    const res = await subscribe('visitor@example.org', {}, '198.51.100.8');
    expect(res.status).toBe(200);
    expect(res.text).toContain('a confirmation message is on its way');
    const bot = await subscribe('bot@example.org', { website: 'http://spam.example' }, '198.51.100.9');
    expect(bot.status).toBe(200);
    expect(await recordOf('bot@example.org')).toBeUndefined();
    await new Promise((r) => setTimeout(r, 200));
    expect(smtp.messages.length).toBe(before);
  });

  it('limits sign-ups per address (429 with Retry-After) and refuses forged links', async () => {
    for (let i = 0; i < 3; i += 1) expect((await subscribe('limited@example.org', {}, `198.51.100.${20 + i}`)).status).toBe(200);
    const fourth = await subscribe('limited@example.org', {}, '198.51.100.30');
    expect(fourth.status).toBe(429);
    expect(Number(fourth.headers['retry-after'])).toBeGreaterThan(0);
    expect(fourth.text).toContain('already sent 3 confirmation mails');
    // Each request superseded the previous one; only the latest is open.
    const record = (await recordOf('limited@example.org'))!;
    const statuses = ((await h.db('consent_confirmations').where('record_id', record.id).orderBy('id')) as Array<{ status: string }>).map((c) => c.status);
    expect(statuses).toEqual(['superseded', 'superseded', 'sent']);

    expect((await request(h.app).get('/confirm/abc.def')).status).toBe(400);
    const forged = signOptInToken(deriveOptInKey('another-secret-of-at-least-32-characters!'), 1);
    expect((await request(h.app).post(`/confirm/${forged}`)).status).toBe(400);
  });

  it('a revoked address stays revoked until it confirms a new sign-up (record_reconsented)', async () => {
    const actor = h.f.actors.customerA1;
    const id = await svc().addRecord(actor, listId, { email: 'former@example.org', status: 'confirmed', method: 'web_form', consentedAt: new Date('2026-01-01T00:00:00Z') });
    await svc().revokeRecord(actor, id, 'unsubscribe');
    expect((await subscribe('former@example.org', {}, '198.51.100.40')).status).toBe(200);
    expect((await recordOf('former@example.org'))!.status).toBe('revoked');
    const link = linkIn((await smtp.waitFor('former@example.org')).text);
    expect((await request(h.app).post(link)).status).toBe(200);
    expect((await recordOf('former@example.org'))!.status).toBe('confirmed');
    expect((await eventTypes(id)).slice(-2)).toEqual(['optin_requested', 'record_reconsented']);
  });

  it('lets the customer send a confirmation mail to a pending record, not to another customer\'s record', async () => {
    const actor = h.f.actors.customerA1;
    const id = await svc().addRecord(actor, listId, { email: 'told-us@example.org', status: 'pending', method: 'manual' });
    expect((await b1.agent.post(`/customer/consent/records/${id}/send-confirmation`).type('form').send({ _csrf: await b1.csrf() })).status).toBe(404);
    const res = await a1.agent.post(`/customer/consent/records/${id}/send-confirmation`).type('form').send({ _csrf: await a1.csrf() });
    expect(res.status).toBe(302);
    const mail = await smtp.waitFor('told-us@example.org');
    const page = await a1.agent.get(`/customer/consent/records/${id}`);
    expect(page.text).toContain('data-testid="confirmations-table"');
    expect((await request(h.app).post(linkIn(mail.text))).status).toBe(200);
    expect(await svc().getRecord(actor, id)).toMatchObject({ status: 'confirmed', method: 'double_opt_in' });
  });

  it('shows every message in the admin outbox viewer, and only to admins', async () => {
    const admin = await loginAs(h.app, h.f.logins.admin, h.f.password);
    const page = await admin.agent.get('/admin/mail?q=visitor');
    expect(page.status).toBe(200);
    expect(page.text).toContain('visitor@example.org');
    const id = (await h.db('mail_outbox').where({ to_address: 'visitor@example.org' }).first()).id as number;
    const show = await admin.agent.get(`/admin/mail/${id}`);
    expect(show.text).toContain('/confirm/');
    expect((await a1.agent.get('/admin/mail')).status).toBe(403);
    expect((await admin.agent.get('/admin/mail/999999')).status).toBe(404);
  });

  it('expires unconfirmed requests: the link says so (410), the record stays pending with an optin_expired event', async () => {
    expect((await subscribe('late@example.org', {}, '198.51.100.60')).status).toBe(200);
    const link = linkIn((await smtp.waitFor('late@example.org')).text);
    h.clock.advance(49 * 3600_000);
    const view = await request(h.app).get(link);
    expect(view.status).toBe(410);
    expect(view.text).toContain('Sign up again');
    expect((await request(h.app).post(link)).status).toBe(410);
    const run = await h.container.optInExpiry('manual');
    expect(run.ran).toBe(true);
    const record = (await recordOf('late@example.org'))!;
    expect(record.status).toBe('pending');
    expect((await eventTypes(record.id)).at(-1)).toBe('optin_expired');
    expect((await h.db('consent_confirmations').where('record_id', record.id).first()).status).toBe('expired');
    expect((await svc().verifyChains()).every((c) => c.broken === null)).toBe(true);
  });
});

describe.each(engines)('mailer on %s', { timeout: 60_000 }, (engine) => {
  let h: Harness;
  beforeAll(async () => {
    h = await buildHarness(engine);
  });
  afterAll(async () => {
    await h?.cleanup();
  });

  it('captures mail without SMTP_URL, and records a failed send (the row is kept) when the server is unreachable', async () => {
    const capture = new Mailer(h.db, h.clock, { from: 'no-reply@example.net' });
    const captured = await capture.send({ accountId: null, kind: 'optin_confirmation', to: 'a@example.org', subject: 'S', text: 'T' });
    expect(captured.status).toBe('captured');
    const smtp = await startSmtpCapture();
    const port = smtp.port;
    await smtp.close();
    const down = new Mailer(h.db, h.clock, { smtpUrl: `smtp://127.0.0.1:${port}`, from: 'no-reply@example.net', timeoutMs: 2000 });
    const failed = await down.send({ accountId: null, kind: 'optin_confirmation', to: 'b@example.org', subject: 'S', text: 'T' });
    down.close();
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(/ECONNREFUSED|connect/i);
    expect(await h.db('mail_outbox').where('id', failed.id).first()).toMatchObject({ status: 'failed', transport: 'smtp' });
  });
});
