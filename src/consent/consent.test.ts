import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConflictError, NotFoundError, ValidationError } from '../lib/errors';
import { buildHarness, csrfFromHtml, firstColumn, loginAs, type Harness, type LoggedIn } from '../testing/appHarness';
import { engines } from '../testing/testDb';
import { canonicalJson, eventHash, genesisHash } from './chain';
import { hasEvidence } from './consentService';
import { normaliseEmail } from './schemas';
import { runCli } from '../testing/cliRunner';



describe('consent helpers', () => {
  it('normalises addresses and rejects non-addresses', () => {
    expect(normaliseEmail('  Jane.Doe@Example.COM ')).toBe('jane.doe@example.com');
    expect(normaliseEmail('<a@b.example>')).toBe('a@b.example');
    for (const bad of ['', 'jane', 'jane@', '@example.com', 'a b@example.com', 'a@example', `${'x'.repeat(65)}@example.com`]) expect(normaliseEmail(bad), bad).toBeNull();
  });

  it('canonical JSON sorts keys at every level, so the hash does not depend on key order', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 2 }], c: null } })).toBe('{"a":{"c":null,"d":[2,{"y":2,"z":1}]},"b":1}');
    const fields = { account_id: 1, seq: 1, record_id: null, list_id: 2, type: 't', at: '2026-11-28 10:00:00.000', actor: 'x', data: null };
    const reordered = { data: null, actor: 'x', at: '2026-11-28 10:00:00.000', type: 't', list_id: 2, record_id: null, seq: 1, account_id: 1 };
    expect(eventHash(genesisHash, fields)).toBe(eventHash(genesisHash, reordered));
    expect(eventHash(genesisHash, fields)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('documents the evidence rule: confirmed needs a consented-at time and a method other than manual', () => {
    expect(hasEvidence('web_form', new Date())).toBe(true);
    expect(hasEvidence('manual', new Date())).toBe(false);
    expect(hasEvidence('paper', null)).toBe(false);
  });
});

describe.each(engines)('consent on %s', { timeout: 120_000 }, (engine) => {
  let h: Harness;
  let a1: LoggedIn;
  let b1: LoggedIn;
  let tokenA1: string;
  let tokenB1: string;
  let listA: number;
  let listB: number;
  const svc = () => h.container.consent;

  beforeAll(async () => {
    h = await buildHarness(engine);
    a1 = await loginAs(h.app, h.f.logins.customerA1, h.f.password);
    b1 = await loginAs(h.app, h.f.logins.customerB1, h.f.password);
    tokenA1 = (await h.container.users.issueToken(h.f.users.customerA1, 'consent')).token;
    tokenB1 = (await h.container.users.issueToken(h.f.users.customerB1, 'consent')).token;
  });
  afterAll(async () => {
    await h?.cleanup();
  });

  describe('service rules', () => {
    it('creates a list only for a domain of the customer\'s own account', async () => {
      const actor = h.f.actors.customerA1;
      listA = await svc().createList(actor, { name: 'Newsletter', domainId: h.f.domains.a1.main!, doubleOptIn: false, text: 'Send me news v1' });
      const list = await svc().getList(actor, listA);
      expect(list).toMatchObject({ name: 'Newsletter', domainName: h.f.domainNames.a1.main, textVersion: 1, text: 'Send me news v1', accountId: h.f.accounts.a1 });
      const err = await svc().createList(actor, { name: 'Theirs', domainId: h.f.domains.b1.main!, doubleOptIn: false, text: 'x' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ValidationError);
      expect((err as ValidationError).fields.domainId).toMatch(/not one of your domains/);
      listB = await svc().createList(h.f.actors.customerB1, { name: 'B news', domainId: h.f.domains.b1.main!, doubleOptIn: true, text: 'B text' });
      expect((await svc().listLists(actor, {})).items.map((l) => l.id)).toEqual([listA]);
    });

    it('versions the consent text; each record keeps the version its recipient agreed to', async () => {
      const actor = h.f.actors.customerA1;
      const before = await svc().addRecord(actor, listA, { email: 'Early@Example.com', status: 'pending', method: 'manual' });
      expect(await svc().updateText(actor, listA, 'Send me news v2')).toBe(2);
      await expect(svc().updateText(actor, listA, 'Send me news v2')).rejects.toBeInstanceOf(ValidationError);
      const after = await svc().addRecord(actor, listA, { email: 'late@example.com', status: 'pending', method: 'manual' });
      expect((await svc().getRecord(actor, before)).consentTextVersion).toBe(1);
      expect((await svc().getRecord(actor, after)).consentTextVersion).toBe(2);
      expect((await svc().getRecord(actor, before)).email).toBe('early@example.com');
    });

    it('refuses duplicates, confirmed without evidence, and consent in the future', async () => {
      const actor = h.f.actors.customerA1;
      await expect(svc().addRecord(actor, listA, { email: 'early@example.com', status: 'pending', method: 'manual' })).rejects.toBeInstanceOf(ConflictError);
      const noDate = await svc().addRecord(actor, listA, { email: 'x@example.com', status: 'confirmed', method: 'web_form' }).catch((e: unknown) => e);
      expect((noDate as ValidationError).fields.consentedAt).toMatch(/evidence/);
      const manual = await svc().addRecord(actor, listA, { email: 'x@example.com', status: 'confirmed', method: 'manual', consentedAt: new Date('2026-01-01T00:00:00Z') }).catch((e: unknown) => e);
      expect((manual as ValidationError).fields.method).toMatch(/manual/);
      const future = await svc().addRecord(actor, listA, { email: 'x@example.com', status: 'pending', method: 'web_form', consentedAt: new Date(h.clock.now().getTime() + 3600_000) }).catch((e: unknown) => e);
      expect((future as ValidationError).fields.consentedAt).toMatch(/future/);
      const id = await svc().addRecord(actor, listA, { email: 'conf@example.com', status: 'confirmed', method: 'web_form', consentedAt: new Date('2026-01-01T00:00:00Z'), source: 'https://a/form', ip: '192.0.2.1' });
      expect(await svc().getRecord(actor, id)).toMatchObject({ status: 'confirmed', confirmedIp: '192.0.2.1', source: 'https://a/form' });
    });

    it('keeps a revoked address revoked until a new confirmed consent, and shows the timeline oldest first', async () => {
      const actor = h.f.actors.customerA1;
      const id = await svc().addRecord(actor, listA, { email: 'rev@example.com', status: 'confirmed', method: 'paper', consentedAt: new Date('2026-02-01T00:00:00Z') });
      await svc().revokeRecord(actor, id, 'unsubscribe');
      expect(await svc().getRecord(actor, id)).toMatchObject({ status: 'revoked', revokedHow: 'unsubscribe' });
      await expect(svc().revokeRecord(actor, id, 'manual')).rejects.toBeInstanceOf(ConflictError);
      await expect(svc().addRecord(actor, listA, { email: 'REV@example.com', status: 'confirmed', method: 'paper', consentedAt: new Date('2026-03-01T00:00:00Z') })).rejects.toThrow(/revoked/);
      await expect(svc().confirmRecord(actor, id, { method: 'web_form' })).rejects.toBeInstanceOf(ValidationError);
      expect((await svc().getRecord(actor, id)).status).toBe('revoked');
      await svc().confirmRecord(actor, id, { method: 'web_form', consentedAt: new Date('2026-03-01T00:00:00Z') });
      expect(await svc().getRecord(actor, id)).toMatchObject({ status: 'confirmed', revokedAt: null, revokedHow: null });
      expect((await svc().timeline(actor, id)).map((e) => e.type)).toEqual(['record_added', 'record_revoked', 'record_reconsented']);
    });

    it('searches and filters records with keyset pagination', async () => {
      const actor = h.f.actors.customerA1;
      const all = await svc().listRecords(actor, listA, {});
      expect(all.items.map((r) => r.email)).toEqual(['conf@example.com', 'early@example.com', 'late@example.com', 'rev@example.com']);
      expect((await svc().listRecords(actor, listA, { status: 'pending' })).items.map((r) => r.email)).toEqual(['early@example.com', 'late@example.com']);
      expect((await svc().listRecords(actor, listA, { q: 'LATE' })).items.map((r) => r.email)).toEqual(['late@example.com']);
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await svc().listRecords(actor, listA, { limit: 3, cursor });
        expect(page.total).toBe(4);
        seen.push(...page.items.map((r) => r.email));
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      expect(seen).toEqual(all.items.map((r) => r.email));
    });

    it('pre-send check: confirmed only with a confirmed record of that sender; counts each address once', async () => {
      const actor = h.f.actors.customerA1;
      const result = await svc().check(actor, h.f.domainNames.a1.main!.toUpperCase(), ['CONF@example.com', 'conf@example.com', 'early@example.com', 'nobody@example.com', 'rev@example.com', 'not-an-address']);
      expect(result.counts).toEqual({ confirmed: 2, pending: 1, revoked: 0, unknown: 1, invalid: 1 });
      expect(result.confirmed).toEqual(['conf@example.com', 'rev@example.com']);
      expect(result.invalid).toEqual(['not-an-address']);
      // The same addresses for another of the customer's domains: no list there, so nothing is confirmed.
      const other = await svc().check(actor, h.f.domainNames.a1.addon!, ['conf@example.com']);
      expect(other.counts.unknown).toBe(1);
      await expect(svc().check(actor, h.f.domainNames.b1.main!, ['conf@example.com'])).rejects.toBeInstanceOf(NotFoundError);
    });
  });

  describe('tenancy', () => {
    it('another customer\'s list or record id is 404 on pages and the API, and nothing changes', async () => {
      const foreignRecord = await svc().addRecord(h.f.actors.customerB1, listB, { email: 'b@example.com', status: 'pending', method: 'manual' });
      await expect(svc().getList(h.f.actors.customerA1, listB)).rejects.toBeInstanceOf(NotFoundError);
      for (const p of [`/customer/consent/lists/${listB}`, `/customer/consent/lists/${listB}/text`, `/customer/consent/lists/${listB}/records/new`, `/customer/consent/records/${foreignRecord}`]) {
        expect((await a1.agent.get(p)).status, p).toBe(404);
      }
      const csrf = await a1.csrf('/customer/consent');
      const posts: Array<[string, Record<string, string>]> = [
        [`/customer/consent/lists/${listB}/records`, { email: 'sneak@example.com' }],
        [`/customer/consent/lists/${listB}/text`, { text: 'hijacked' }],
        [`/customer/consent/records/${foreignRecord}/revoke`, { how: 'manual' }],
        [`/customer/consent/records/${foreignRecord}/confirm`, { method: 'web_form', consentedAt: '2026-01-01T10:00' }],
      ];
      for (const [p, form] of posts) expect((await a1.agent.post(p).type('form').send({ ...form, _csrf: csrf })).status, p).toBe(404);
      const api = await request(h.app).get(`/api/v1/consent/lists/${listB}/records`).set('Authorization', `Bearer ${tokenA1}`);
      expect(api.status).toBe(404);
      expect(api.body.error.code).toBe('not_found');
      const list = await svc().getList(h.f.actors.customerB1, listB);
      expect(list).toMatchObject({ textVersion: 1, text: 'B text', recordCount: 1 });
      expect((await svc().getRecord(h.f.actors.customerB1, foreignRecord)).status).toBe('pending');
    });

    it('a form naming another account\'s domain is refused with a clear message', async () => {
      const csrf = await a1.csrf('/customer/consent/lists/new');
      const res = await a1.agent.post('/customer/consent/lists').type('form').send({ _csrf: csrf, name: 'Sneaky', domainId: String(h.f.domains.b1.main), text: 'x' });
      expect(res.status).toBe(422);
      expect(res.text).toContain('not one of your domains');
      expect(res.text).toContain('value="Sneaky"');
    });

    it('the consent pages are for customers (and /admin/consent for admins) only', async () => {
      const reseller = await loginAs(h.app, h.f.logins.resellerA, h.f.password);
      expect((await reseller.agent.get('/customer/consent')).status).toBe(403);
      expect((await a1.agent.get('/admin/consent')).status).toBe(403);
      expect((await request(h.app).get('/customer/consent')).status).toBe(302);
    });
  });

  describe('pages', () => {
    it('a customer creates a list, adds a record, sees it in the table and its timeline', async () => {
      const index = await a1.agent.get('/customer/consent');
      expect(index.status).toBe(200);
      expect(index.text).toContain('href="/customer/consent"');
      expect(firstColumn(index.text, 'consent-lists-table')).toEqual(['Newsletter']);
      const csrf = csrfFromHtml(index.text);
      const created = await a1.agent.post('/customer/consent/lists').type('form').send({ _csrf: csrf, name: 'Shop', domainId: String(h.f.domains.a1.addon), text: 'Shop offers', doubleOptIn: 'yes' });
      expect(created.status).toBe(302);
      const listPath = String(created.headers.location);
      expect((await a1.agent.get(listPath)).text).toContain('No records yet');
      const bad = await a1.agent.post(`${listPath}/records`).type('form').send({ _csrf: csrf, email: 'not an address', source: 'kept' });
      expect(bad.status).toBe(422);
      expect(bad.text).toContain('not a valid email address');
      expect(bad.text).toContain('value="kept"');
      const added = await a1.agent.post(`${listPath}/records`).type('form').send({ _csrf: csrf, email: 'Shopper@Example.com', status: 'confirmed', method: 'web_form', consentedAt: '2026-01-05T09:30', source: 'checkout', ip: '198.51.100.7' });
      expect(added.status).toBe(302);
      const dup = await a1.agent.post(`${listPath}/records`).type('form').send({ _csrf: csrf, email: 'shopper@example.com' });
      expect(dup.status).toBe(409);
      expect(dup.text).toContain('already in this list');
      const record = await a1.agent.get(String(added.headers.location));
      expect(record.text).toContain('shopper@example.com');
      expect(firstColumn(record.text, 'timeline-table')).toHaveLength(1);
      expect(firstColumn((await a1.agent.get(`${listPath}?status=confirmed`)).text, 'consent-records-table')).toEqual(['shopper@example.com']);
      const revoked = await a1.agent.post(`${String(added.headers.location)}/revoke`).type('form').send({ _csrf: csrf, how: 'complaint' });
      expect(revoked.status).toBe(302);
      expect(firstColumn((await a1.agent.get(String(added.headers.location))).text, 'timeline-table')).toHaveLength(2);
    });

    it('every consent page of the customer renders, with the Consent navigation entry', async () => {
      const record = (await svc().listRecords(h.f.actors.customerA1, listA, {})).items[0]!;
      for (const p of ['/customer/consent', '/customer/consent/lists/new', `/customer/consent/lists/${listA}`, `/customer/consent/lists/${listA}/text`, `/customer/consent/lists/${listA}/records/new`, `/customer/consent/records/${record.id}`, '/customer/consent/check']) {
        const res = await a1.agent.get(p);
        expect(res.status, p).toBe(200);
        expect(res.text, p).toContain('name="_csrf"');
        expect(res.text, p).toMatch(/href="\/customer\/consent"[^>]*>\s*Consent/);
      }
      expect((await a1.agent.get(`/customer/consent/lists/${listA}/text`)).text).toContain('Send me news v2');
    });

    it('the pre-send check page shows counts and downloads the result as CSV', async () => {
      const csrf = await a1.csrf('/customer/consent/check');
      const form = { _csrf: csrf, sender: h.f.domainNames.a1.main!, recipients: 'conf@example.com, early@example.com\nnobody@example.com' };
      const page = await a1.agent.post('/customer/consent/check').type('form').send(form);
      expect(page.status).toBe(200);
      expect(page.text).toMatch(/data-testid="count-confirmed">1</);
      expect(page.text).toMatch(/data-testid="count-unknown">1</);
      const csv = await a1.agent.post('/customer/consent/check.csv').type('form').send(form);
      expect(csv.status).toBe(200);
      expect(csv.headers['content-type']).toMatch(/^text\/csv/);
      expect(csv.text).toBe('email,status\r\nconf@example.com,confirmed\r\nearly@example.com,pending\r\nnobody@example.com,unknown\r\n');
      const empty = await a1.agent.post('/customer/consent/check').type('form').send({ ...form, recipients: ' ' });
      expect(empty.status).toBe(422);
    });
  });

  describe('API', () => {
    const auth = (token: string) => ({ Authorization: `Bearer ${token}` });

    it('POST /consent/check answers counts and lists; another account\'s sender is 404; a bad body is 422', async () => {
      const res = await request(h.app).post('/api/v1/consent/check').set(auth(tokenA1)).send({ sender: h.f.domainNames.a1.main, recipients: ['Conf@example.com', 'rev@example.com', 'x@y.example'] });
      expect(res.status).toBe(200);
      expect(res.body.counts).toEqual({ confirmed: 2, pending: 0, revoked: 0, unknown: 1, invalid: 0 });
      expect(res.body.unknown).toEqual(['x@y.example']);
      const foreign = await request(h.app).post('/api/v1/consent/check').set(auth(tokenB1)).send({ sender: h.f.domainNames.a1.main, recipients: ['conf@example.com'] });
      expect(foreign.status).toBe(404);
      const bad = await request(h.app).post('/api/v1/consent/check').set(auth(tokenA1)).send({ sender: h.f.domainNames.a1.main });
      expect(bad.status).toBe(422);
      expect(bad.body.error.details.fields.recipients).toBeDefined();
    });

    it('lists lists and records, scoped and paginated', async () => {
      const lists = await request(h.app).get('/api/v1/consent/lists').set(auth(tokenB1));
      expect(lists.status).toBe(200);
      expect(lists.body.data.map((l: { id: number }) => l.id)).toEqual([listB]);
      const page = await request(h.app).get(`/api/v1/consent/lists/${listA}/records?limit=2`).set(auth(tokenA1));
      expect(page.status).toBe(200);
      expect(page.body.total).toBe(4);
      expect(page.body.data).toHaveLength(2);
      expect(page.body.data[0]).toMatchObject({ email: 'conf@example.com', status: 'confirmed', method: 'web_form' });
      const next = await request(h.app).get(`/api/v1/consent/lists/${listA}/records?limit=2&cursor=${page.body.nextCursor}`).set(auth(tokenA1));
      expect(next.body.data.map((r: { email: string }) => r.email)).toEqual(['late@example.com', 'rev@example.com']);
    });

    it('the OpenAPI document has the consent paths and the check request body', async () => {
      const doc = (await request(h.app).get('/api/v1/openapi.json')).body;
      expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/consent/lists', '/consent/lists/{id}/records', '/consent/check']));
      const check = doc.paths['/consent/check'].post;
      expect(check.requestBody.content['application/json'].schema.required).toEqual(expect.arrayContaining(['sender', 'recipients']));
      expect(doc.paths['/consent/lists/{id}/records'].get.parameters.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(['id', 'q', 'status', 'cursor']));
      expect(doc.paths['/accounts'].get.requestBody).toBeUndefined();
    });
  });

  describe('hash chain', () => {
    it('chains every account\'s events from the genesis hash, with consecutive seq', async () => {
      const rows = (await h.db('consent_events').where('account_id', h.f.accounts.a1).orderBy('seq')) as Array<{ seq: number; prev_hash: string; hash: string }>;
      expect(rows.length).toBeGreaterThan(5);
      expect(rows[0]!.prev_hash).toBe(genesisHash);
      rows.forEach((r, i) => {
        expect(Number(r.seq)).toBe(i + 1);
        if (i > 0) expect(r.prev_hash).toBe(rows[i - 1]!.hash);
      });
      const chains = await svc().verifyChains();
      expect(chains.map((c) => [c.username, c.broken])).toEqual([
        [h.f.usernames.a1, null],
        [h.f.usernames.b1, null],
      ]);
    });

    it('an edited row is named by verify, the CLI and the admin page', async () => {
      const target = (await h.db('consent_events').where({ account_id: h.f.accounts.a1, seq: 2 }).first()) as { id: number; data: string };
      await h.db('consent_events').where('id', target.id).update({ data: target.data.replace('early@example.com', 'forged@example.com') });
      try {
        const broken = (await svc().verifyChains()).find((c) => c.accountId === h.f.accounts.a1)!;
        expect(broken.broken).toMatchObject({ seq: 2, eventId: Number(target.id) });
        expect((await svc().verifyChains()).find((c) => c.accountId === h.f.accounts.b1)!.broken).toBeNull();

        const url = h.t.config.client === 'sqlite' ? `sqlite:${h.t.config.filename}` : h.t.config.url;
        const cli = await runCli(['consent', 'verify'], { DATABASE_URL: url });
        expect(cli.code, cli.stderr).toBe(1);
        expect(cli.stdout).toContain(`BROKEN\taccount ${h.f.usernames.a1} (id ${h.f.accounts.a1})\tfirst broken event: seq 2, id ${target.id}`);
        expect(cli.stdout).toMatch(new RegExp(`^ok\\taccount ${h.f.usernames.b1} .*\\t\\d+ events?$`, 'm'));

        const admin = await loginAs(h.app, h.f.logins.admin, h.f.password);
        const page = await admin.agent.get('/admin/consent');
        expect(page.status).toBe(200);
        expect(page.text).toContain('data-testid="chain-broken"');
        expect(page.text).toContain(`seq 2 (event ${target.id})`);
        expect(firstColumn(page.text, 'consent-accounts-table')).toEqual([h.f.usernames.a1, h.f.usernames.b1]);
      } finally {
        await h.db('consent_events').where('id', target.id).update({ data: target.data });
      }
      const cli = await runCli(['consent', 'verify'], { DATABASE_URL: h.t.config.client === 'sqlite' ? `sqlite:${h.t.config.filename}` : h.t.config.url });
      expect(cli.code, cli.stderr).toBe(0);
      expect(cli.stdout.split('\n').filter(Boolean).every((l) => l.startsWith('ok\t'))).toBe(true);
    });
  });
});
