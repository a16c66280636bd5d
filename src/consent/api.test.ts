import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { errorResponse, pageOf } from '../api/schemas';
import { buildHarness, firstColumn, loginAs, type Harness } from '../testing/appHarness';
import { createAccount, createUser, type AccountKey, type UserKey } from '../testing/factories';
import { engines } from '../testing/testDb';
import { consentListJson, consentRecordDetailJson, consentStatsJson } from './apiEndpoints';

/** The consent JSON API (lists, records, timeline, confirm, revoke, stats) and the reseller statistics page. */

type ApiUser = Extract<UserKey, 'admin' | 'resellerA' | 'resellerA2' | 'resellerB' | 'customerA1' | 'customerA3' | 'customerB1' | 'customerC'>;
const apiUsers: ApiUser[] = ['admin', 'resellerA', 'resellerA2', 'resellerB', 'customerA1', 'customerA3', 'customerB1', 'customerC'];
const statsPage = pageOf(consentStatsJson);

type Method = 'get' | 'post' | 'put';

describe.each(engines)('consent API on %s', { timeout: 120_000 }, (engine) => {
  let h: Harness;
  const tokens = {} as Record<ApiUser, string>;

  const call = (method: Method, path: string, token: string, body?: unknown) => {
    const req = request(h.app)[method](`/api/v1${path}`).set('Authorization', `Bearer ${token}`);
    return body === undefined ? req : req.send(body as object);
  };

  /** Parses with the zod schema and checks nothing was stripped: the body has exactly the documented shape. */
  function expectShape<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
    const parsed = schema.safeParse(body);
    expect(parsed.success, parsed.success ? '' : JSON.stringify(parsed.error.issues)).toBe(true);
    expect(parsed.data).toEqual(body);
    return parsed.data as z.infer<S>;
  }

  function expectError(res: request.Response, status: number, code: string) {
    expect(res.status, JSON.stringify(res.body)).toBe(status);
    const body = expectShape(errorResponse, res.body);
    expect(body.error.code).toBe(code);
    return body.error;
  }

  /** A 422 whose details name exactly these fields. */
  function expectFields(res: request.Response, fields: string[]) {
    const error = expectError(res, 422, 'validation_failed');
    expect(Object.keys((error.details as { fields: Record<string, string> }).fields).sort()).toEqual([...fields].sort());
    for (const field of fields) expect(error.message).toContain(field);
    return (error.details as { fields: Record<string, string> }).fields;
  }

  beforeAll(async () => {
    h = await buildHarness(engine);
    for (const key of apiUsers) tokens[key] = (await h.container.users.issueToken(h.f.users[key], `${key} consent api`)).token;
  });
  afterAll(async () => {
    await h?.cleanup();
  });

  describe('lists', () => {
    let listA: number;
    let listB: number;

    it('POST /consent/lists creates a list for the customer\'s own domain, by id or by name', async () => {
      const byId = await call('post', '/consent/lists', tokens.customerA1, { name: 'Newsletter', domainId: h.f.domains.a1.main, text: 'News from A1, monthly' });
      expect(byId.status, JSON.stringify(byId.body)).toBe(200);
      const list = expectShape(consentListJson, byId.body);
      expect(list).toMatchObject({ name: 'Newsletter', domainId: h.f.domains.a1.main, domain: h.f.domainNames.a1.main, account: h.f.usernames.a1, textVersion: 1, text: 'News from A1, monthly', doubleOptIn: false, records: 0, confirmed: 0 });
      listA = list.id;

      const byName = await call('post', '/consent/lists', tokens.customerA1, { name: 'Shop', domain: h.f.domainNames.a1.addon!.toUpperCase(), text: 'Shop offers', doubleOptIn: true });
      expect(byName.status, JSON.stringify(byName.body)).toBe(200);
      expect(expectShape(consentListJson, byName.body)).toMatchObject({ domainId: h.f.domains.a1.addon, doubleOptIn: true });

      listB = expectShape(consentListJson, (await call('post', '/consent/lists', tokens.customerB1, { name: 'B news', domainId: h.f.domains.b1.main, text: 'B text' })).body).id;
      const own = await call('get', '/consent/lists', tokens.customerA1);
      expect(own.body.data.map((l: { name: string }) => l.name)).toEqual(['Newsletter', 'Shop']);
    });

    it('refuses another account\'s domain, a missing domain and missing fields with 422 naming the field', async () => {
      expect(expectFields(await call('post', '/consent/lists', tokens.customerA1, { name: 'Theirs', domainId: h.f.domains.b1.main, text: 'x' }), ['domainId']).domainId).toMatch(/not one of your domains/);
      expect(expectFields(await call('post', '/consent/lists', tokens.customerA1, { name: 'Theirs', domain: h.f.domainNames.b1.main, text: 'x' }), ['domain']).domain).toMatch(/not one of your domains/);
      expectFields(await call('post', '/consent/lists', tokens.customerA1, { name: 'Nowhere', domain: 'no-such-domain.example', text: 'x' }), ['domain']);
      expectFields(await call('post', '/consent/lists', tokens.customerA1, { name: 'None', text: 'x' }), ['domainId']);
      expectFields(await call('post', '/consent/lists', tokens.customerA1, { name: 'Both', domainId: h.f.domains.a1.main, domain: h.f.domainNames.a1.main, text: 'x' }), ['domain']);
      expectFields(await call('post', '/consent/lists', tokens.customerA1, { domainId: h.f.domains.a1.main }), ['name', 'text']);
      expectFields(await call('post', '/consent/lists', tokens.customerA1, { name: ' ', domainId: 'one', text: 'x', doubleOptIn: 'maybe' }), ['name', 'domainId', 'doubleOptIn']);
      expect((await call('get', '/consent/lists', tokens.customerA1)).body.total, 'nothing was created').toBe(2);
    });

    it('only customers create lists: admins and resellers get 403 (their consent pages are read-only or statistics)', async () => {
      for (const who of ['admin', 'resellerA'] as const) {
        expectError(await call('post', '/consent/lists', tokens[who], { name: 'X', domainId: h.f.domains.a1.main, text: 'x' }), 403, 'forbidden');
        expectError(await call('put', `/consent/lists/${listA}/text`, tokens[who], { text: 'changed by someone else' }), 403, 'forbidden');
      }
      expect((await call('get', `/consent/lists/${listA}`, tokens.customerA1)).body.textVersion).toBe(1);
    });

    it('GET /consent/lists/:id answers the list in the tenancy and 404 outside it', async () => {
      const own = await call('get', `/consent/lists/${listA}`, tokens.customerA1);
      expect(own.status).toBe(200);
      expect(expectShape(consentListJson, own.body)).toMatchObject({ id: listA, name: 'Newsletter' });
      for (const who of ['admin', 'resellerA'] as const) expect((await call('get', `/consent/lists/${listA}`, tokens[who])).status, who).toBe(200);
      for (const who of ['customerB1', 'customerA3', 'resellerA2', 'resellerB', 'customerC'] as const) expectError(await call('get', `/consent/lists/${listA}`, tokens[who]), 404, 'not_found');
      expectError(await call('get', '/consent/lists/999999', tokens.customerA1), 404, 'not_found');
      expectFields(await call('get', '/consent/lists/abc', tokens.customerA1), ['id']);
    });

    it('PUT /consent/lists/:id/text publishes the next version; unchanged or empty text is 422; another account\'s list is 404', async () => {
      const res = await call('put', `/consent/lists/${listA}/text`, tokens.customerA1, { text: 'News from A1, weekly' });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(expectShape(consentListJson, res.body)).toMatchObject({ textVersion: 2, text: 'News from A1, weekly' });
      expect(expectFields(await call('put', `/consent/lists/${listA}/text`, tokens.customerA1, { text: 'News from A1, weekly' }), ['text']).text).toMatch(/unchanged/);
      expectFields(await call('put', `/consent/lists/${listA}/text`, tokens.customerA1, { text: '  ' }), ['text']);
      expectFields(await call('put', `/consent/lists/${listA}/text`, tokens.customerA1, {}), ['text']);
      expectError(await call('put', `/consent/lists/${listB}/text`, tokens.customerA1, { text: 'hijacked' }), 404, 'not_found');
      expect((await call('get', `/consent/lists/${listB}`, tokens.customerB1)).body).toMatchObject({ textVersion: 1, text: 'B text' });
    });

    describe('records', () => {
      let confirmedId: number;
      let pendingId: number;
      let foreignRecord: number;

      it('POST /consent/lists/:id/records adds a record; the method defaults to api, so evidence is a consented-at time', async () => {
        const res = await call('post', `/consent/lists/${listA}/records`, tokens.customerA1, { email: ' Jane@Example.COM ', status: 'confirmed', consentedAt: '2026-01-05T09:30:00Z', source: 'signup form', ip: '198.51.100.7' });
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        const record = expectShape(consentRecordDetailJson, res.body);
        expect(record).toMatchObject({ listId: listA, listName: 'Newsletter', domain: h.f.domainNames.a1.main, email: 'jane@example.com', status: 'confirmed', method: 'api', consentTextVersion: 2, consentedAt: '2026-01-05T09:30:00.000Z', confirmedIp: '198.51.100.7' });
        expect(record.events.map((e) => e.type)).toEqual(['record_added']);
        expect(record.events[0]).toMatchObject({ actor: h.f.logins.customerA1, data: expect.objectContaining({ email: 'jane@example.com', method: 'api' }) });
        confirmedId = record.id;

        const pending = expectShape(consentRecordDetailJson, (await call('post', `/consent/lists/${listA}/records`, tokens.customerA1, { email: 'pat@example.com' })).body);
        expect(pending).toMatchObject({ status: 'pending', method: 'api', consentedAt: null, confirmedAt: null });
        pendingId = pending.id;
        const paper = await call('post', `/consent/lists/${listA}/records`, tokens.customerA1, { email: 'paper@example.com', status: 'confirmed', method: 'paper', consentedAt: '2026-02-01' });
        expect(paper.body).toMatchObject({ status: 'confirmed', method: 'paper', consentedAt: '2026-02-01T00:00:00.000Z' });
      });

      it('the evidence rule, address and date checks are 422 naming the field; a duplicate is 409 naming email', async () => {
        const add = (body: Record<string, unknown>) => call('post', `/consent/lists/${listA}/records`, tokens.customerA1, body);
        expect(expectFields(await add({ email: 'x@example.com', status: 'confirmed' }), ['consentedAt']).consentedAt).toMatch(/evidence/);
        expect(expectFields(await add({ email: 'x@example.com', status: 'confirmed', method: 'manual', consentedAt: '2026-01-01T00:00:00Z' }), ['method']).method).toMatch(/manual/);
        expect(expectFields(await add({ email: 'x@example.com', consentedAt: new Date(h.clock.now().getTime() + 3600_000).toISOString() }), ['consentedAt']).consentedAt).toMatch(/future/);
        expectFields(await add({ email: 'not an address' }), ['email']);
        expectFields(await add({}), ['email']);
        expectFields(await add({ email: 'y@example.com', status: 'revoked', method: 'fax', consentedAt: 'yesterday', ip: 'here' }), ['status', 'method', 'consentedAt', 'ip']);
        const dup = expectError(await add({ email: 'JANE@example.com' }), 409, 'conflict');
        expect(dup.details).toEqual({ field: 'email' });
        expect(dup.message).toContain('jane@example.com is already in this list');
        const listed = await call('get', `/consent/lists/${listA}/records`, tokens.customerA1);
        expect(listed.body.data.map((r: { email: string }) => r.email)).toEqual(['jane@example.com', 'paper@example.com', 'pat@example.com']);
      });

      it('another customer\'s list or record is 404 for every endpoint, and nothing changes', async () => {
        foreignRecord = expectShape(consentRecordDetailJson, (await call('post', `/consent/lists/${listB}/records`, tokens.customerB1, { email: 'b@example.com' })).body).id;
        expectError(await call('post', `/consent/lists/${listB}/records`, tokens.customerA1, { email: 'sneak@example.com' }), 404, 'not_found');
        expectError(await call('get', `/consent/lists/${listB}/records`, tokens.customerA1), 404, 'not_found');
        expectError(await call('get', `/consent/records/${foreignRecord}`, tokens.customerA1), 404, 'not_found');
        expectError(await call('post', `/consent/records/${foreignRecord}/confirm`, tokens.customerA1, { method: 'web_form', consentedAt: '2026-01-01T10:00:00Z' }), 404, 'not_found');
        expectError(await call('post', `/consent/records/${foreignRecord}/revoke`, tokens.customerA1, { how: 'manual' }), 404, 'not_found');
        expectError(await call('get', `/consent/records/${confirmedId}`, tokens.customerB1), 404, 'not_found');
        expectError(await call('get', '/consent/records/999999', tokens.customerA1), 404, 'not_found');
        expectFields(await call('get', '/consent/records/0', tokens.customerA1), ['id']);
        const theirs = await call('get', `/consent/records/${foreignRecord}`, tokens.customerB1);
        expect(theirs.body).toMatchObject({ status: 'pending', events: [expect.objectContaining({ type: 'record_added' })] });
        expect((await call('get', `/consent/lists/${listB}`, tokens.customerB1)).body.records).toBe(1);
      });

      it('GET /consent/records/:id answers the evidence and the timeline; admins read, resellers never see addresses (403)', async () => {
        const own = await call('get', `/consent/records/${confirmedId}`, tokens.customerA1);
        expect(own.status).toBe(200);
        expect(expectShape(consentRecordDetailJson, own.body)).toMatchObject({ id: confirmedId, email: 'jane@example.com', source: 'signup form' });
        expect((await call('get', `/consent/records/${confirmedId}`, tokens.admin)).body.email).toBe('jane@example.com');
        for (const who of ['resellerA', 'resellerB'] as const) {
          expectError(await call('get', `/consent/records/${confirmedId}`, tokens[who]), 403, 'forbidden');
          expectError(await call('get', `/consent/lists/${listA}/records`, tokens[who]), 403, 'forbidden');
          expectError(await call('post', '/consent/check', tokens[who], { sender: h.f.domainNames.a1.main, recipients: ['jane@example.com'] }), 403, 'forbidden');
        }
      });

      it('POST /consent/records/:id/confirm records confirmed consent with evidence; twice is 409', async () => {
        expectFields(await call('post', `/consent/records/${pendingId}/confirm`, tokens.customerA1, {}), ['method']);
        expectFields(await call('post', `/consent/records/${pendingId}/confirm`, tokens.customerA1, { method: 'web_form' }), ['consentedAt']);
        expectFields(await call('post', `/consent/records/${pendingId}/confirm`, tokens.customerA1, { method: 'manual', consentedAt: '2026-03-01T10:00:00Z' }), ['method']);
        const res = await call('post', `/consent/records/${pendingId}/confirm`, tokens.customerA1, { method: 'double_opt_in', consentedAt: '2026-03-01T10:00:00Z', ip: '192.0.2.9' });
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        const record = expectShape(consentRecordDetailJson, res.body);
        expect(record).toMatchObject({ status: 'confirmed', method: 'double_opt_in', confirmedAt: '2026-03-01T10:00:00.000Z', confirmedIp: '192.0.2.9' });
        expect(record.events.map((e) => e.type)).toEqual(['record_added', 'record_confirmed']);
        const again = expectError(await call('post', `/consent/records/${pendingId}/confirm`, tokens.customerA1, { method: 'web_form', consentedAt: '2026-03-02T10:00:00Z' }), 409, 'conflict');
        expect(again.message).toContain('already confirmed');
        expectError(await call('post', `/consent/records/${pendingId}/confirm`, tokens.admin, { method: 'web_form', consentedAt: '2026-03-02T10:00:00Z' }), 403, 'forbidden');
      });

      it('POST /consent/records/:id/revoke revokes; twice is 409; a new confirmation lifts it, and the timeline lists every step', async () => {
        expectFields(await call('post', `/consent/records/${confirmedId}/revoke`, tokens.customerA1, {}), ['how']);
        expectFields(await call('post', `/consent/records/${confirmedId}/revoke`, tokens.customerA1, { how: 'whim' }), ['how']);
        expectError(await call('post', `/consent/records/${confirmedId}/revoke`, tokens.resellerA, { how: 'complaint' }), 403, 'forbidden');
        const res = await call('post', `/consent/records/${confirmedId}/revoke`, tokens.customerA1, { how: 'unsubscribe' });
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        expect(expectShape(consentRecordDetailJson, res.body)).toMatchObject({ status: 'revoked', revokedHow: 'unsubscribe', revokedAt: h.clock.now().toISOString() });
        expectError(await call('post', `/consent/records/${confirmedId}/revoke`, tokens.customerA1, { how: 'manual' }), 409, 'conflict');
        const re = await call('post', `/consent/records/${confirmedId}/confirm`, tokens.customerA1, { method: 'web_form', consentedAt: '2026-04-01T08:00:00Z' });
        expect(re.body).toMatchObject({ status: 'confirmed', revokedAt: null, revokedHow: null });
        const timeline = expectShape(consentRecordDetailJson, (await call('get', `/consent/records/${confirmedId}`, tokens.customerA1)).body).events;
        expect(timeline.map((e) => e.type)).toEqual(['record_added', 'record_revoked', 'record_reconsented']);
        expect(timeline.map((e) => e.seq)).toEqual([...timeline.map((e) => e.seq)].sort((a, b) => a - b));
        expect(timeline[1]!.data).toMatchObject({ how: 'unsubscribe', previousStatus: 'confirmed' });
        const check = await call('post', '/consent/check', tokens.customerA1, { sender: h.f.domainNames.a1.main, recipients: ['jane@example.com', 'pat@example.com', 'paper@example.com'] });
        expect(check.body.counts).toMatchObject({ confirmed: 3 });
      });
    });
  });

  describe('the OpenAPI document', () => {
    it('lists every consent operation with its roles, parameters, body and error responses', async () => {
      const doc = (await request(h.app).get('/api/v1/openapi.json')).body as {
        paths: Record<string, Record<string, { operationId: string; 'x-roles'?: string[]; parameters: Array<{ name: string }>; requestBody?: { content: { 'application/json': { schema: { properties: Record<string, { default?: unknown }>; required?: string[] } } } }; responses: Record<string, unknown> }>>;
      };
      const ops = Object.entries(doc.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({ key: `${method.toUpperCase()} ${path}`, op })));
      const byKey = Object.fromEntries(ops.map((o) => [o.key, o.op]));
      const expected: Record<string, { operationId: string; roles?: string[]; errors: string[] }> = {
        'GET /consent/lists/{id}': { operationId: 'getConsentList', errors: ['404'] },
        'POST /consent/lists': { operationId: 'createConsentList', roles: ['customer'], errors: ['403', '422'] },
        'PUT /consent/lists/{id}/text': { operationId: 'updateConsentText', roles: ['customer'], errors: ['404', '409', '422'] },
        'GET /consent/records/{id}': { operationId: 'getConsentRecord', roles: ['customer', 'admin'], errors: ['403', '404'] },
        'POST /consent/lists/{id}/records': { operationId: 'addConsentRecord', roles: ['customer'], errors: ['404', '409', '422'] },
        'POST /consent/records/{id}/confirm': { operationId: 'confirmConsentRecord', roles: ['customer'], errors: ['404', '409', '422'] },
        'POST /consent/records/{id}/revoke': { operationId: 'revokeConsentRecord', roles: ['customer'], errors: ['404', '409', '422'] },
        'GET /consent/stats': { operationId: 'listConsentStats', errors: ['401', '422'] },
        'GET /consent/lists/{id}/records': { operationId: 'listConsentRecords', roles: ['customer', 'admin'], errors: ['403', '404'] },
        'POST /consent/check': { operationId: 'checkRecipients', roles: ['customer', 'admin'], errors: ['403', '404'] },
      };
      for (const [key, want] of Object.entries(expected)) {
        const op = byKey[key];
        expect(op, key).toBeDefined();
        expect(op!.operationId, key).toBe(want.operationId);
        expect(op!['x-roles'], key).toEqual(want.roles);
        for (const status of want.errors) expect(op!.responses[status], `${key} ${status}`).toBeDefined();
      }
      const addBody = byKey['POST /consent/lists/{id}/records']!.requestBody!.content['application/json'].schema;
      expect(addBody.required).toEqual(['email']);
      expect(Object.keys(addBody.properties)).toEqual(expect.arrayContaining(['email', 'status', 'method', 'consentedAt', 'source', 'ip', 'userAgent']));
      const listBodySchema = byKey['POST /consent/lists']!.requestBody!.content['application/json'].schema;
      expect(Object.keys(listBodySchema.properties)).toEqual(['name', 'domainId', 'domain', 'doubleOptIn', 'text']);
      expect(byKey['PUT /consent/lists/{id}/text']!.requestBody!.content['application/json'].schema.required).toEqual(['text']);
      expect(byKey['POST /consent/records/{id}/revoke']!.requestBody!.content['application/json'].schema.required).toEqual(['how']);
      expect(byKey['GET /consent/stats']!.parameters.map((p) => p.name)).toEqual(['q', 'sort', 'dir', 'limit', 'cursor']);
      expect(byKey['GET /consent/records/{id}']!.requestBody).toBeUndefined();
    });
  });
});

describe.each(engines)('consent statistics on %s', { timeout: 120_000 }, (engine) => {
  let h: Harness;
  const tokens = {} as Record<ApiUser, string>;
  const addresses: string[] = [];

  /** Expected numbers per account, built with the data below. */
  const expected: Partial<Record<AccountKey, { lists: number; records: number; confirmed: number; pending: number; revoked: number }>> = {
    a1: { lists: 2, records: 5, confirmed: 2, pending: 2, revoked: 1 },
    a3: { lists: 1, records: 1, confirmed: 0, pending: 1, revoked: 0 },
    b1: { lists: 1, records: 2, confirmed: 2, pending: 0, revoked: 0 },
  };
  const zero = { lists: 0, records: 0, confirmed: 0, pending: 0, revoked: 0 };
  const statsOf = (key: AccountKey) => expected[key] ?? zero;
  const share = (key: AccountKey) => (statsOf(key).records ? Math.round((statsOf(key).confirmed * 1000) / statsOf(key).records) / 10 : null);

  beforeAll(async () => {
    h = await buildHarness(engine);
    for (const key of apiUsers) tokens[key] = (await h.container.users.issueToken(h.f.users[key], `${key} stats`)).token;
    const svc = h.container.consent;
    const at = new Date('2026-01-01T00:00:00Z');
    const add = async (user: UserKey, list: number, email: string, status: 'pending' | 'confirmed') => {
      addresses.push(email);
      return svc.addRecord(h.f.actors[user], list, { email, status, method: status === 'confirmed' ? 'web_form' : 'manual', consentedAt: status === 'confirmed' ? at : undefined });
    };
    const a1 = h.f.actors.customerA1;
    const news = await svc.createList(a1, { name: 'News', domainId: h.f.domains.a1.main!, doubleOptIn: false, text: 'news' });
    const shop = await svc.createList(a1, { name: 'Shop', domainId: h.f.domains.a1.addon!, doubleOptIn: false, text: 'shop' });
    await add('customerA1', news, 'alice@people.example', 'confirmed');
    await add('customerA1', news, 'bob@people.example', 'confirmed');
    await add('customerA1', news, 'carol@people.example', 'pending');
    await svc.revokeRecord(a1, await add('customerA1', shop, 'dave@people.example', 'confirmed'), 'complaint');
    await add('customerA1', shop, 'erin@people.example', 'pending');
    const a3list = await svc.createList(h.f.actors.customerA3, { name: 'A3', domainId: h.f.domains.a3.main!, doubleOptIn: false, text: 'a3' });
    await add('customerA3', a3list, 'frank@people.example', 'pending');
    const b1list = await svc.createList(h.f.actors.customerB1, { name: 'B1', domainId: h.f.domains.b1.main!, doubleOptIn: false, text: 'b1' });
    await add('customerB1', b1list, 'grace@people.example', 'confirmed');
    await add('customerB1', b1list, 'heidi@people.example', 'confirmed');
  });
  afterAll(async () => {
    await h?.cleanup();
  });

  const getStats = async (token: string, query = '') => {
    const res = await request(h.app).get(`/api/v1/consent/stats${query}`).set('Authorization', `Bearer ${token}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return expectStats(res.body);
  };
  function expectStats(body: unknown) {
    const parsed = statsPage.safeParse(body);
    expect(parsed.success, parsed.success ? '' : JSON.stringify(parsed.error.issues)).toBe(true);
    expect(parsed.data).toEqual(body);
    return parsed.data!;
  }
  const keyOf = (username: string) => (Object.keys(h.f.usernames) as AccountKey[]).find((k) => h.f.usernames[k] === username)!;
  const noAddress = (text: string) => {
    for (const email of addresses) expect(text, email).not.toContain(email);
    expect(text).not.toContain('people.example');
  };

  it('GET /consent/stats: resellers get the accounts below them (a nested reseller\'s customers too), with the right counts and no address', async () => {
    const scopes: Array<[ApiUser, AccountKey[]]> = [
      ['admin', ['A', 'a1', 'a2', 'A2', 'a3', 'B', 'b1', 'c']],
      ['resellerA', ['a1', 'a2', 'A2', 'a3']],
      ['resellerA2', ['a3']],
      ['resellerB', ['b1']],
      ['customerA1', ['a1']],
      ['customerC', ['c']],
    ];
    for (const [who, keys] of scopes) {
      const page = await getStats(tokens[who], '?limit=200');
      expect(page.data.map((s) => s.account), who).toEqual(keys.map((k) => h.f.usernames[k]).sort());
      expect(page.total, who).toBe(keys.length);
      for (const row of page.data) {
        const key = keyOf(row.account);
        expect(row, `${who}: ${row.account}`).toMatchObject({ accountId: h.f.accounts[key], ...statsOf(key), confirmedShare: share(key) });
        expect(row.lastActivityAt === null, row.account).toBe(statsOf(key).lists === 0);
      }
      noAddress(JSON.stringify(page));
    }
    const a1 = (await getStats(tokens.resellerA, '?q=CUSTA1')).data;
    expect(a1).toEqual([expect.objectContaining({ account: h.f.usernames.a1, owner: h.f.usernames.A, isReseller: false, confirmedShare: 40, lastActivityAt: h.clock.now().toISOString() })]);
    expect((await getStats(tokens.resellerA, '?q=resa2')).data[0]).toMatchObject({ isReseller: true, records: 0, confirmedShare: null, lastActivityAt: null });
  });

  it('sorts by every column and pages with the cursor, the same rows either way', async () => {
    const all = (await getStats(tokens.admin, '?limit=200')).data;
    for (const sort of ['customer', 'lists', 'records', 'confirmed', 'share', 'pending', 'revoked', 'activity'] as const) {
      for (const dir of ['asc', 'desc'] as const) {
        const seen: string[] = [];
        let cursor: string | null = null;
        let pages = 0;
        do {
          const page = await getStats(tokens.admin, `?sort=${sort}&dir=${dir}&limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
          expect(page.total).toBe(8);
          seen.push(...page.data.map((s) => s.account));
          cursor = page.nextCursor;
          if (++pages > 10) throw new Error('cursor never ends');
        } while (cursor);
        expect([...seen].sort(), `${sort} ${dir}`).toEqual(all.map((s) => s.account).sort());
        const value = (name: string) => {
          const s = all.find((r) => r.account === name)!;
          return sort === 'customer' ? s.account : sort === 'share' ? (s.confirmedShare ?? -1) : sort === 'activity' ? (s.lastActivityAt ?? '') : s[sort];
        };
        const values = seen.map(value);
        const sorted = [...values].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
        expect(values, `${sort} ${dir}`).toEqual(dir === 'asc' ? sorted : sorted.reverse());
      }
    }
    const byRecords = await getStats(tokens.resellerA, '?sort=records');
    expect(byRecords.data.map((s) => s.account).slice(0, 2)).toEqual([h.f.usernames.a1, h.f.usernames.a3]);
    const res = await request(h.app).get('/api/v1/consent/stats?sort=addresses&dir=up&limit=0').set('Authorization', `Bearer ${tokens.admin}`);
    expect(res.status).toBe(422);
    expect(Object.keys(res.body.error.details.fields).sort()).toEqual(['dir', 'limit', 'sort']);
  });

  it('the reseller page shows one row per customer of its tree with counts, never an address', async () => {
    const reseller = await loginAs(h.app, h.f.logins.resellerA, h.f.password);
    const home = await reseller.agent.get('/reseller');
    expect(home.text).toMatch(/href="\/reseller\/consent"[^>]*>\s*Consent/);
    const page = await reseller.agent.get('/reseller/consent');
    expect(page.status).toBe(200);
    expect(page.text).toContain('Addresses stay private to the customer');
    expect(firstColumn(page.text, 'consent-stats-table')).toEqual(['a1', 'a2', 'A2', 'a3'].map((k) => h.f.usernames[k as AccountKey]).sort());
    for (const other of [h.f.usernames.A, h.f.usernames.b1, h.f.usernames.c]) expect(page.text).not.toContain(`>${other}</a>`);
    const row = /<tr>\s*<td><a href="\/reseller\/customers\/(\d+)">custa1<\/a><\/td>([\s\S]*?)<\/tr>/.exec(page.text);
    expect(row, 'custa1 row').not.toBeNull();
    expect(Number(row![1])).toBe(h.f.accounts.a1);
    const cells = [...row![2]!.matchAll(/<td>([\s\S]*?)<\/td>/g)].map((m) => m[1]!.trim());
    expect(cells).toEqual(['2', '5', '2', '40.0 %', '2', '1', expect.stringMatching(/UTC$/)]);
    noAddress(page.text);

    const sorted = await reseller.agent.get('/reseller/consent?sort=records&dir=desc');
    expect(firstColumn(sorted.text, 'consent-stats-table').slice(0, 2)).toEqual([h.f.usernames.a1, h.f.usernames.a3]);
    expect(sorted.text).toContain('aria-sort="descending"');
    const paged = await reseller.agent.get('/reseller/consent?limit=2');
    expect(firstColumn(paged.text, 'consent-stats-table')).toHaveLength(2);
    expect(paged.text).toContain('Showing 2 of 4');
    expect(paged.text).toContain('rel="next"');
    const searched = await reseller.agent.get('/reseller/consent?q=custa3');
    expect(firstColumn(searched.text, 'consent-stats-table')).toEqual([h.f.usernames.a3]);
    const none = await reseller.agent.get(`/reseller/consent?q=${h.f.usernames.b1}`);
    expect(none.text).toContain('data-testid="empty"');
    expect(none.text).not.toContain('consent-stats-table');
    expect((await reseller.agent.get('/reseller/consent?sort=email')).status).toBe(422);

    const nested = await loginAs(h.app, h.f.logins.resellerA2, h.f.password);
    const nestedPage = await nested.agent.get('/reseller/consent');
    expect(firstColumn(nestedPage.text, 'consent-stats-table')).toEqual([h.f.usernames.a3]);
    noAddress(nestedPage.text);
  });

  it('a reseller without customers sees the empty state; other roles cannot open the reseller page; the admin overview uses the same numbers', async () => {
    const accountId = await createAccount(h.db, { serverId: h.f.servers.s1, username: 'lonelyres', isReseller: true, clock: h.clock });
    await createUser(h.db, { login: 'lonelyreseller', role: 'reseller', accountId, clock: h.clock });
    const lonely = await loginAs(h.app, 'lonelyreseller', h.f.password);
    const empty = await lonely.agent.get('/reseller/consent');
    expect(empty.status).toBe(200);
    expect(empty.text).toContain('data-testid="empty"');
    expect(empty.text).toContain('You have no customer accounts yet');
    expect(empty.text).toContain('Showing 0 of 0');

    const customer = await loginAs(h.app, h.f.logins.customerA1, h.f.password);
    expect((await customer.agent.get('/reseller/consent')).status).toBe(403);
    const admin = await loginAs(h.app, h.f.logins.admin, h.f.password);
    expect((await admin.agent.get('/reseller/consent')).status).toBe(403);
    const adminPage = await admin.agent.get('/admin/consent');
    expect(firstColumn(adminPage.text, 'consent-accounts-table')).toEqual([h.f.usernames.a1, h.f.usernames.a3, h.f.usernames.b1]);
    expect(adminPage.text).toMatch(/custa1<\/a><\/td>\s*<td>2<\/td>\s*<td>5<\/td>\s*<td>2<\/td>\s*<td>1<\/td>/);
    noAddress(adminPage.text);
  });
});
