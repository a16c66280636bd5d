import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConflictError } from '../lib/errors';
import { buildHarness, loginAs, testSessionSecret, type Harness, type LoggedIn } from '../testing/appHarness';
import { engines } from '../testing/testDb';
import { isOneClick } from './unsubscribeRoutes';
import { UnsubscribeService } from './unsubscribeService';
import { deriveUnsubscribeKey, maskEmail, readUnsubscribeToken, signUnsubscribeToken } from './unsubscribeToken';

describe('unsubscribe tokens', () => {
  const key = deriveUnsubscribeKey(testSessionSecret);

  it('round-trips list and address, and refuses tampering, another key and garbage', () => {
    const token = signUnsubscribeToken(key, { listId: 42, email: 'jane@example.com' });
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(readUnsubscribeToken(key, token)).toEqual({ listId: 42, email: 'jane@example.com' });

    const [payload, sig] = token.split('.') as [string, string];
    const otherPayload = Buffer.from(JSON.stringify({ l: 43, e: 'jane@example.com' })).toString('base64url');
    expect(readUnsubscribeToken(key, `${otherPayload}.${sig}`)).toBeNull();
    const flipped = sig.slice(0, 10) + (sig[10] === 'A' ? 'B' : 'A') + sig.slice(11);
    expect(readUnsubscribeToken(key, `${payload}.${flipped}`)).toBeNull();
    expect(readUnsubscribeToken(key, `${payload}.${sig.slice(0, 20)}`)).toBeNull();
    expect(readUnsubscribeToken(deriveUnsubscribeKey('another-secret'), token)).toBeNull();
    for (const bad of ['', '.', 'abc', `${payload}.`, `.${sig}`, `${payload}.${sig}.x`, 'a b.c']) expect(readUnsubscribeToken(key, bad), bad).toBeNull();
  });

  it('masks addresses and recognises one-click bodies', () => {
    expect(maskEmail('jane.doe@example.com')).toBe('ja******@example.com');
    expect(maskEmail('j@example.com')).toBe('j***@example.com');
    expect(isOneClick({ 'List-Unsubscribe': 'One-Click' })).toBe(true);
    expect(isOneClick({})).toBe(true);
    expect(isOneClick(undefined)).toBe(true);
    expect(isOneClick({ 'List-Unsubscribe': 'Nope' })).toBe(false);
    const multipart = Buffer.from('--b\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n--b--\r\n');
    expect(isOneClick(multipart)).toBe(true);
    expect(isOneClick(Buffer.from('--b\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOther\r\n--b--\r\n'))).toBe(false);
  });
});

describe.each(engines)('unsubscribe on %s', { timeout: 120_000 }, (engine) => {
  let h: Harness;
  let a1: LoggedIn;
  let b1: LoggedIn;
  let listA: number;
  let listB: number;
  const svc = () => h.container.consent;
  const eventsOf = async (recordId: number) => (await h.db('consent_events').where('record_id', recordId).orderBy('seq')) as Array<{ type: string; data: string }>;
  const tokenFrom = (html: string) => {
    const match = /List-Unsubscribe: &lt;https?:\/\/[^/]+\/u\/([A-Za-z0-9_.-]+)&gt;/.exec(html);
    if (!match) throw new Error(`no List-Unsubscribe header value in the page:\n${html.slice(0, 400)}`);
    return match[1]!;
  };

  beforeAll(async () => {
    h = await buildHarness(engine);
    a1 = await loginAs(h.app, h.f.logins.customerA1, h.f.password);
    b1 = await loginAs(h.app, h.f.logins.customerB1, h.f.password);
    listA = await svc().createList(h.f.actors.customerA1, { name: 'Weekly deals', domainId: h.f.domains.a1.main!, doubleOptIn: false, text: 'Deals every week' });
    listB = await svc().createList(h.f.actors.customerB1, { name: 'B news', domainId: h.f.domains.b1.main!, doubleOptIn: false, text: 'B text' });
  });
  afterAll(async () => {
    await h?.cleanup();
  });

  it('shows the customer both header values on the record page, and the token in them works with one cookie-less POST', async () => {
    const actor = h.f.actors.customerA1;
    const id = await svc().addRecord(actor, listA, { email: 'Buyer@Example.com', status: 'confirmed', method: 'web_form', consentedAt: new Date('2026-01-01T00:00:00Z') });
    const page = await a1.agent.get(`/customer/consent/records/${id}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('List-Unsubscribe-Post: List-Unsubscribe=One-Click');
    const token = tokenFrom(page.text);
    expect(readUnsubscribeToken(deriveUnsubscribeKey(testSessionSecret), token)).toEqual({ listId: listA, email: 'buyer@example.com' });
    const before = await eventsOf(id);

    // A mail client: no cookies, no CSRF token, just the RFC 8058 body.
    const post = await request(h.app).post(`/u/${token}`).type('form').send('List-Unsubscribe=One-Click');
    expect(post.status).toBe(200);
    expect(post.headers.location).toBeUndefined();
    expect(post.headers['set-cookie']).toBeUndefined();
    expect(post.type).toBe('text/plain');
    expect(post.text).toMatch(/^Unsubscribed: bu\*+@example\.com/);
    expect(await svc().getRecord(actor, id)).toMatchObject({ status: 'revoked', revokedHow: 'unsubscribe' });
    const after = await eventsOf(id);
    expect(after).toHaveLength(before.length + 1);
    expect(after.at(-1)!.type).toBe('record_revoked');
    expect(JSON.parse(after.at(-1)!.data)).toMatchObject({ how: 'unsubscribe', previousStatus: 'confirmed' });

    // Repeating it (any holder of the message can) answers 200 and changes nothing.
    const again = await request(h.app).post(`/u/${token}`).type('form').send('List-Unsubscribe=One-Click');
    expect(again.status).toBe(200);
    expect(again.text).toMatch(/^Already unsubscribed/);
    expect(await eventsOf(id)).toHaveLength(after.length);

    // Stays suppressed until a new confirmed consent: the pre-send check says revoked, a re-add is refused.
    expect((await svc().check(actor, h.f.domainNames.a1.main!, ['buyer@example.com'])).revoked).toEqual(['buyer@example.com']);
    await expect(svc().addRecord(actor, listA, { email: 'buyer@example.com', status: 'confirmed', method: 'web_form', consentedAt: new Date('2026-02-01T00:00:00Z') })).rejects.toBeInstanceOf(ConflictError);
    await svc().confirmRecord(actor, id, { method: 'web_form', consentedAt: new Date('2026-02-01T00:00:00Z') });
    expect((await svc().getRecord(actor, id)).status).toBe('confirmed');
    // ...and the same link then works again, once.
    expect((await request(h.app).post(`/u/${token}`).type('form').send('List-Unsubscribe=One-Click')).text).toMatch(/^Unsubscribed/);
    expect((await svc().getRecord(actor, id)).status).toBe('revoked');
  });

  it('accepts an empty body and multipart, refuses a wrong body, and answers 400 or 404 for bad tokens', async () => {
    const u = h.container.unsubscribe;
    const t1 = u.headers(listA, 'empty@example.com', 'http://x').token;
    expect((await request(h.app).post(`/u/${t1}`)).status).toBe(200);
    const t2 = u.headers(listA, 'multi@example.com', 'http://x').token;
    const multi = await request(h.app).post(`/u/${t2}`).field('List-Unsubscribe', 'One-Click');
    expect(multi.status).toBe(200);
    const t3 = u.headers(listA, 'wrong@example.com', 'http://x').token;
    const wrong = await request(h.app).post(`/u/${t3}`).type('form').send('List-Unsubscribe=Maybe');
    expect(wrong.status).toBe(400);
    expect(await h.db('consent_records').where({ list_id: listA, email: 'wrong@example.com' }).first()).toBeUndefined();

    const forged = `${t3.split('.')[0]}.${'A'.repeat(43)}`;
    const bad = await request(h.app).post(`/u/${forged}`).type('form').send('List-Unsubscribe=One-Click');
    expect(bad.status).toBe(400);
    expect(bad.text).toMatch(/not valid/);
    expect((await request(h.app).get('/u/garbage')).status).toBe(400);
    const gone = u.headers(999_999, 'x@example.com', 'http://x').token;
    expect((await request(h.app).post(`/u/${gone}`).type('form').send('List-Unsubscribe=One-Click')).status).toBe(404);
  });

  it('suppresses an address that had no record: a revoked record is created, with one event', async () => {
    const token = h.container.unsubscribe.headers(listA, 'stranger@example.com', 'http://x').token;
    const res = await request(h.app).post(`/u/${token}`).type('form').send('List-Unsubscribe=One-Click');
    expect(res.status).toBe(200);
    const row = await h.db('consent_records').where({ list_id: listA, email: 'stranger@example.com' }).first();
    expect(row).toMatchObject({ status: 'revoked', revoked_how: 'unsubscribe' });
    const events = await eventsOf(Number(row.id));
    expect(events.map((e) => e.type)).toEqual(['record_suppressed']);
    expect((await request(h.app).post(`/u/${token}`).type('form').send('List-Unsubscribe=One-Click')).status).toBe(200);
    expect(await eventsOf(Number(row.id))).toHaveLength(1);
    expect((await svc().check(h.f.actors.customerA1, h.f.domainNames.a1.main!, ['stranger@example.com'])).revoked).toEqual(['stranger@example.com']);
  });

  it('serves the manual page without JavaScript or a session; its button is the one-click POST', async () => {
    const token = h.container.unsubscribe.headers(listA, 'reader@example.com', 'http://x').token;
    const page = await request(h.app).get(`/u/${token}`).set('Accept', 'text/html');
    expect(page.status).toBe(200);
    expect(page.headers['set-cookie']).toBeUndefined();
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.text).toContain('Weekly deals');
    expect(page.text).toContain(h.f.domainNames.a1.main!);
    expect(page.text).toContain('re****@example.com');
    expect(page.text).not.toContain('reader@example.com');
    expect(page.text).toContain(`action="/u/${token}"`);
    expect(page.text).toContain('name="List-Unsubscribe" value="One-Click"');
    expect(page.text).not.toContain('_csrf');
    // GET changes nothing.
    expect(await h.db('consent_records').where({ list_id: listA, email: 'reader@example.com' }).first()).toBeUndefined();
    const pressed = await request(h.app).post(`/u/${token}`).set('Accept', 'text/html').type('form').send({ 'List-Unsubscribe': 'One-Click' });
    expect(pressed.status).toBe(200);
    expect(pressed.headers['set-cookie']).toBeUndefined();
    expect(pressed.text).toContain('data-testid="unsubscribe-done"');
  });

  it('gives header values for any address of the customer\'s own list; another customer\'s list is 404', async () => {
    const list = await a1.agent.get(`/customer/consent/lists/${listA}`);
    expect(list.text).toContain('data-testid="unsubscribe-headers-form"');
    const res = await a1.agent.get(`/customer/consent/lists/${listA}/unsubscribe-headers?email=${encodeURIComponent(' New.Person@Example.com ')}`);
    expect(res.status).toBe(200);
    expect(res.text).toContain('List-Unsubscribe-Post: List-Unsubscribe=One-Click');
    const token = tokenFrom(res.text);
    expect(readUnsubscribeToken(deriveUnsubscribeKey(testSessionSecret), token)).toEqual({ listId: listA, email: 'new.person@example.com' });
    expect((await request(h.app).post(`/u/${token}`).type('form').send('List-Unsubscribe=One-Click')).status).toBe(200);

    const invalid = await a1.agent.get(`/customer/consent/lists/${listA}/unsubscribe-headers?email=nope`);
    expect(invalid.status).toBe(422);
    expect(invalid.text).not.toContain('List-Unsubscribe-Post:');
    expect((await a1.agent.get(`/customer/consent/lists/${listB}/unsubscribe-headers?email=x@example.com`)).status).toBe(404);
    expect((await b1.agent.get(`/customer/consent/lists/${listA}/unsubscribe-headers?email=x@example.com`)).status).toBe(404);
    expect((await request(h.app).get(`/customer/consent/lists/${listA}/unsubscribe-headers?email=x@example.com`)).status).toBe(302);
  });

  it('uses BASE_URL when configured, else the request origin', () => {
    const fromOrigin = h.container.unsubscribe.headers(listA, 'a@example.com', 'http://panel.example:8080');
    expect(fromOrigin.listUnsubscribe).toBe(`<http://panel.example:8080/u/${fromOrigin.token}>`);
    const configured = new UnsubscribeService(svc(), deriveUnsubscribeKey(testSessionSecret), 'https://mail.example.net/');
    const headers = configured.headers(listA, 'a@example.com', 'http://ignored');
    expect(headers).toMatchObject({ url: `https://mail.example.net/u/${headers.token}`, listUnsubscribePost: 'List-Unsubscribe=One-Click' });
  });

  it('leaves every chain verifiable after the unsubscribes', async () => {
    const chains = await svc().verifyChains();
    expect(chains.length).toBeGreaterThanOrEqual(2);
    for (const c of chains) expect(c.broken, c.username).toBeNull();
    expect(chains.find((c) => c.accountId === h.f.accounts.a1)!.events).toBeGreaterThan(5);
  });
});
