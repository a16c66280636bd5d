import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { meJson } from '../auth/apiEndpoints';
import { UserService } from '../auth/userService';
import { toDbBool } from '../db/dialect';
import { accountJson, domainJson } from '../tenancy/apiEndpoints';
import { domainTypes } from '../tenancy/types';
import { buildHarness, buildTestApp, loginAs, type Harness } from '../testing/appHarness';
import type { AccountKey, UserKey } from '../testing/factories';
import { createTestDb, engines, type TestDb } from '../testing/testDb';
import { errorResponse, pageOf } from './schemas';

/** The JSON API: Bearer tokens only, each token scoped to its user's tenancy, errors with stable codes. */

const accountPage = pageOf(accountJson);
const domainPage = pageOf(domainJson);

type ApiUser = Extract<UserKey, 'admin' | 'resellerA' | 'resellerA2' | 'resellerB' | 'customerA1' | 'customerB1' | 'customerC'>;
const apiUsers: ApiUser[] = ['admin', 'resellerA', 'resellerA2', 'resellerB', 'customerA1', 'customerB1', 'customerC'];

describe.each(engines)('JSON API on %s', (engine) => {
  let h: Harness;
  const tokens = {} as Record<ApiUser, string>;

  const api = (path: string, token?: string) => {
    const req = request(h.app).get(`/api/v1${path}`);
    return token === undefined ? req : req.set('Authorization', `Bearer ${token}`);
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
    expect(res.type).toBe('application/json');
    const body = expectShape(errorResponse, res.body);
    expect(body.error.code).toBe(code);
    expect(body.error.message.length).toBeGreaterThan(10);
    expect(body.error.requestId).toBe(res.headers['x-request-id']);
    return body.error;
  }

  /** Follows nextCursor with `limit` until it is null; returns every item in order. */
  async function walk<T extends { id: number }>(path: string, token: string, limit: number, schema: z.ZodType): Promise<{ items: T[]; pages: number; total: number }> {
    const items: T[] = [];
    let cursor: string | null = null;
    let pages = 0;
    let total = -1;
    do {
      const sep = path.includes('?') ? '&' : '?';
      const res = await api(`${path}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, token);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      const page = expectShape(schema, res.body) as { data: T[]; total: number; nextCursor: string | null };
      expect(page.data.length).toBeLessThanOrEqual(limit);
      if (page.nextCursor) expect(page.data).toHaveLength(limit);
      if (total >= 0) expect(page.total, 'total is the same on every page').toBe(total);
      total = page.total;
      items.push(...page.data);
      cursor = page.nextCursor;
      if (++pages > 100) throw new Error('cursor never ends');
    } while (cursor);
    return { items, pages, total };
  }

  const accountIds = (...keys: AccountKey[]) => keys.map((k) => h.f.accounts[k]).sort((a, b) => a - b);
  const domainIdsOf = (...keys: AccountKey[]) => keys.flatMap((k) => Object.values(h.f.domains[k]) as number[]).sort((a, b) => a - b);
  const ids = (items: Array<{ id: number }>) => items.map((i) => i.id).sort((a, b) => a - b);

  beforeAll(async () => {
    h = await buildHarness(engine);
    const users = new UserService(h.db, h.clock);
    for (const key of apiUsers) tokens[key] = (await users.issueToken(h.f.users[key], `${key} api`)).token;
  });

  afterAll(async () => {
    await h?.cleanup();
  });

  describe('authentication', () => {
    it('refuses a request without a token: 401 unauthorized', async () => {
      for (const path of ['/me', '/accounts', `/accounts/${h.f.accounts.a1}`, '/domains', `/domains/${h.f.domains.a1.main}`, '/nonexistent']) {
        expectError(await api(path), 401, 'unauthorized');
      }
      expectError(await request(h.app).get('/api/v1/me').set('Authorization', `Basic ${Buffer.from('admin:x').toString('base64')}`), 401, 'unauthorized');
      expectError(await request(h.app).get('/api/v1/me').set('Authorization', 'Bearer'), 401, 'unauthorized');
    });

    it('refuses an unknown or malformed token: 401 invalid_token', async () => {
      expectError(await api('/me', 'asp_not-a-real-token'), 401, 'invalid_token');
      expectError(await api('/me', 'nonsense'), 401, 'invalid_token');
      expectError(await api('/accounts', `${tokens.admin}x`), 401, 'invalid_token');
      expectError(await api('/accounts', tokens.admin.slice(0, -1)), 401, 'invalid_token');
    });

    it('refuses a revoked token with 401', async () => {
      const users = new UserService(h.db, h.clock);
      const { token, record } = await users.issueToken(h.f.users.resellerB, 'soon revoked');
      expect((await api('/me', token)).status).toBe(200);
      await users.revokeToken(h.f.actors.resellerB, record.id);
      expectError(await api('/me', token), 401, 'invalid_token');
      expectError(await api('/accounts', token), 401, 'invalid_token');
      expect((await api('/me', tokens.resellerB)).status, "the user's other tokens keep working").toBe(200);
    });

    it("refuses the token of a disabled user with 401, and accepts it again once the user is enabled", async () => {
      const users = new UserService(h.db, h.clock);
      const { token } = await users.issueToken(h.f.users.customerC, 'disabled later');
      expect((await api('/me', token)).status).toBe(200);
      await h.db('users').where({ id: h.f.users.customerC }).update({ disabled: 1 });
      try {
        expectError(await api('/me', token), 401, 'invalid_token');
        expectError(await api('/domains', tokens.customerC), 401, 'invalid_token');
      } finally {
        await h.db('users').where({ id: h.f.users.customerC }).update({ disabled: toDbBool(false) });
      }
      expect((await api('/me', token)).status).toBe(200);
    });

    it('needs no cookies, sets none, and ignores a signed-in session', async () => {
      const res = await api('/accounts', tokens.customerA1);
      expect(res.status).toBe(200);
      expect(res.headers['set-cookie']).toBeUndefined();

      const { agent } = await loginAs(h.app, h.f.logins.admin, h.f.password);
      expect((await agent.get('/admin/accounts')).status, 'the admin session works in the browser').toBe(200);
      expectError(await agent.get('/api/v1/accounts'), 401, 'unauthorized');
      const scoped = await agent.get('/api/v1/accounts').set('Authorization', `Bearer ${tokens.customerA1}`);
      expect(scoped.status).toBe(200);
      expect(ids(scoped.body.data), "the customer's token decides, not the admin's session").toEqual(accountIds('a1'));
      expect(scoped.headers['set-cookie']).toBeUndefined();
    });

    it('records when a token was last used', async () => {
      const users = new UserService(h.db, h.clock);
      const { token, record } = await users.issueToken(h.f.users.customerB1, 'usage');
      expect(record.lastUsedAt).toBeNull();
      await api('/me', token);
      const [used] = (await users.listTokens(h.f.users.customerB1)).filter((t) => t.id === record.id);
      expect(used?.lastUsedAt?.toISOString()).toBe(h.clock.now().toISOString());
    });
  });

  describe('/me', () => {
    it.each(apiUsers)('describes the user of a %s token', async (key) => {
      const res = await api('/me', tokens[key]);
      expect(res.status).toBe(200);
      const me = expectShape(meJson, res.body);
      const actor = h.f.actors[key];
      expect(me).toEqual({
        id: h.f.users[key],
        login: h.f.logins[key],
        role: actor.role,
        accountId: actor.accountId,
        account: actor.accountId === null ? null : Object.entries(h.f.accounts).map(([k, id]) => (id === actor.accountId ? h.f.usernames[k as AccountKey] : null)).find(Boolean),
      });
    });
  });

  describe('/accounts', () => {
    const visible: Record<ApiUser, AccountKey[]> = {
      admin: ['A', 'a1', 'a2', 'A2', 'a3', 'B', 'b1', 'c'],
      resellerA: ['a1', 'a2', 'A2', 'a3'],
      resellerA2: ['a3'],
      resellerB: ['b1'],
      customerA1: ['a1'],
      customerB1: ['b1'],
      customerC: ['c'],
    };

    it.each(apiUsers)('lists exactly the accounts of the %s tenancy, in the documented shape', async (key) => {
      const res = await api('/accounts', tokens[key]);
      expect(res.status).toBe(200);
      const page = expectShape(accountPage, res.body);
      expect(ids(page.data)).toEqual(accountIds(...visible[key]));
      expect(page.total).toBe(visible[key].length);
      expect(page.nextCursor).toBeNull();
      expect(page.data.map((a) => a.username)).toEqual([...page.data.map((a) => a.username)].sort());
    });

    it('maps an account to JSON with its owner, server and counts', async () => {
      const res = await api(`/accounts/${h.f.accounts.a3}`, tokens.resellerA);
      expect(res.status).toBe(200);
      expect(expectShape(accountJson, res.body)).toEqual({
        id: h.f.accounts.a3,
        username: 'custa3',
        server: 'srv1.example.net',
        owner: 'resa2',
        ownerId: h.f.accounts.A2,
        isReseller: false,
        contactEmail: 'admin@custa3.example',
        plan: 'basic',
        status: 'active',
        outgoingMail: 'active',
        strikes: 0,
        domainCount: 4,
        createdAt: h.clock.now().toISOString(),
      });
      const root = expectShape(accountJson, (await api(`/accounts/${h.f.accounts.c}`, tokens.admin)).body);
      expect(root).toMatchObject({ owner: 'root', ownerId: null, server: 'srv2.example.net' });
    });

    it.each(apiUsers)("answers 404 not_found for an account outside the %s tenancy, and 200 inside", async (key) => {
      for (const account of Object.keys(h.f.accounts) as AccountKey[]) {
        const res = await api(`/accounts/${h.f.accounts[account]}`, tokens[key]);
        // A reseller may open its own account by id even though the list leaves it out.
        const inside = visible[key].includes(account) || h.f.actors[key].accountId === h.f.accounts[account];
        if (inside) {
          expect(res.status, `${key} → ${account}`).toBe(200);
          expect(expectShape(accountJson, res.body).id).toBe(h.f.accounts[account]);
        } else {
          const error = expectError(res, 404, 'not_found');
          expect(JSON.stringify(error)).not.toContain(h.f.usernames[account]);
        }
      }
      expectError(await api('/accounts/999999', tokens[key]), 404, 'not_found');
    });

    it('filters and pages accounts', async () => {
      const byStatus = expectShape(accountPage, (await api('/accounts?status=suspended', tokens.admin)).body);
      expect(ids(byStatus.data)).toEqual(accountIds('a2'));
      const resellers = expectShape(accountPage, (await api('/accounts?kind=reseller', tokens.resellerA)).body);
      expect(ids(resellers.data)).toEqual(accountIds('A2'));
      const byServer = expectShape(accountPage, (await api(`/accounts?server=${h.f.servers.s2}`, tokens.admin)).body);
      expect(ids(byServer.data)).toEqual(accountIds('B', 'b1', 'c'));
      const search = expectShape(accountPage, (await api('/accounts?q=CUSTA', tokens.resellerA2)).body);
      expect(ids(search.data)).toEqual(accountIds('a3'));

      for (const [key, limit] of [
        ['admin', 1],
        ['admin', 3],
        ['resellerA', 3],
      ] as const) {
        const walked = await walk<z.infer<typeof accountJson>>('/accounts', tokens[key], limit, accountPage);
        expect(walked.items.map((a) => a.id)).toEqual((await api('/accounts?limit=200', tokens[key])).body.data.map((a: { id: number }) => a.id));
        expect(ids(walked.items)).toEqual(accountIds(...visible[key]));
        expect(walked.total).toBe(visible[key].length);
        expect(walked.pages).toBe(Math.ceil(visible[key].length / limit));
      }
    });
  });

  describe('/domains', () => {
    const tree: Record<ApiUser, AccountKey[]> = {
      admin: ['A', 'a1', 'a2', 'A2', 'a3', 'B', 'b1', 'c'],
      resellerA: ['A', 'a1', 'a2', 'A2', 'a3'],
      resellerA2: ['A2', 'a3'],
      resellerB: ['B', 'b1'],
      customerA1: ['a1'],
      customerB1: ['b1'],
      customerC: ['c'],
    };

    it.each(apiUsers)('lists exactly the domains of the %s tenancy, in the documented shape', async (key) => {
      const res = await api('/domains?limit=200', tokens[key]);
      expect(res.status).toBe(200);
      const page = expectShape(domainPage, res.body);
      expect(ids(page.data)).toEqual(domainIdsOf(...tree[key]));
      expect(page.total).toBe(page.data.length);
      expect(page.nextCursor).toBeNull();
    });

    it('maps a domain to JSON', async () => {
      const res = await api(`/domains/${h.f.domains.a1.parked}`, tokens.customerA1);
      expect(expectShape(domainJson, res.body)).toEqual({
        id: h.f.domains.a1.parked,
        name: 'custa1-parked.example.org',
        type: 'parked',
        mailHosted: false,
        accountId: h.f.accounts.a1,
        account: 'custa1',
        server: 'srv1.example.net',
        createdAt: h.clock.now().toISOString(),
      });
    });

    it.each(apiUsers)("answers 404 not_found for a domain outside the %s tenancy", async (key) => {
      for (const account of Object.keys(h.f.accounts) as AccountKey[]) {
        for (const id of Object.values(h.f.domains[account]) as number[]) {
          const res = await api(`/domains/${id}`, tokens[key]);
          if (tree[key].includes(account)) {
            expect(res.status, `${key} → ${account} domain ${id}`).toBe(200);
            expect(expectShape(domainJson, res.body).id).toBe(id);
          } else {
            const error = expectError(res, 404, 'not_found');
            expect(JSON.stringify(error)).not.toContain(h.f.usernames[account]);
          }
        }
      }
    });

    it('filters by type, mail, account and search text, inside the tenancy only', async () => {
      const get = async (query: string, key: ApiUser = 'admin') => {
        const res = await api(`/domains?${query}`, tokens[key]);
        expect(res.status, `${query}: ${JSON.stringify(res.body)}`).toBe(200);
        return expectShape(domainPage, res.body);
      };
      const parked = await get('type=parked');
      expect(parked.data.every((d) => d.type === 'parked')).toBe(true);
      expect(ids(parked.data)).toEqual(['a1', 'a2', 'a3', 'b1', 'c'].map((k) => h.f.domains[k as AccountKey].parked!).sort((a, b) => a - b));
      expect(ids((await get('mail=no')).data)).toEqual(ids(parked.data));
      const hosted = await get('mail=yes&limit=200');
      expect(hosted.total).toBe(18);
      expect(hosted.data.every((d) => d.mailHosted)).toBe(true);
      expect(ids((await get(`account=${h.f.accounts.b1}`)).data)).toEqual(domainIdsOf('b1'));
      expect(ids((await get(`account=${h.f.accounts.b1}`, 'resellerB')).data)).toEqual(domainIdsOf('b1'));
      expect((await get(`account=${h.f.accounts.b1}`, 'resellerA')).data, "another tenant's account filter finds nothing").toEqual([]);
      expect((await get(`account=${h.f.accounts.a1}`, 'customerB1')).total).toBe(0);
      expect(ids((await get('q=SHOP.', 'resellerA')).data)).toEqual(['a1', 'a2', 'a3'].map((k) => h.f.domains[k as AccountKey].sub!).sort((a, b) => a - b));
      expect(ids((await get('type=main&q=custa')).data)).toEqual(['a1', 'a2', 'a3'].map((k) => h.f.domains[k as AccountKey].main!).sort((a, b) => a - b));
      expect(ids((await get(`type=addon&mail=yes&account=${h.f.accounts.a3}`, 'resellerA2')).data)).toEqual([h.f.domains.a3.addon]);
      expect((await get('q=%25')).data, 'LIKE wildcards are literal').toEqual([]);
    });

    it.each([1, 2, 5, 7])('pages every admin domain with limit %i until nextCursor is null', async (limit) => {
      const walked = await walk<z.infer<typeof domainJson>>('/domains', tokens.admin, limit, domainPage);
      const unpaged = (await api('/domains?limit=200', tokens.admin)).body.data as Array<{ id: number }>;
      expect(walked.items.map((d) => d.id)).toEqual(unpaged.map((d) => d.id));
      expect(new Set(walked.items.map((d) => d.id)).size).toBe(23);
      expect(walked.total).toBe(23);
      expect(walked.pages).toBe(Math.ceil(23 / limit));
    });

    it('pages with filters and inside a reseller tenancy', async () => {
      const walked = await walk<z.infer<typeof domainJson>>('/domains?type=sub', tokens.admin, 2, domainPage);
      expect(walked.items).toHaveLength(5);
      expect(walked.items.every((d) => d.type === 'sub')).toBe(true);
      const reseller = await walk<z.infer<typeof domainJson>>('/domains', tokens.resellerA, 3, domainPage);
      expect(ids(reseller.items)).toEqual(domainIdsOf(...tree.resellerA));
    });

    it('answers limits out of bounds and bad filters with 422 validation_failed naming the field', async () => {
      for (const [query, field] of [
        ['limit=0', 'limit'],
        ['limit=201', 'limit'],
        ['limit=-5', 'limit'],
        ['limit=abc', 'limit'],
        ['limit=2.5', 'limit'],
        ['type=cname', 'type'],
        ['mail=maybe', 'mail'],
        ['account=0', 'account'],
        ['server=x', 'server'],
        ['cursor=garbage', 'cursor'],
        [`cursor=${Buffer.from('["a","7"]').toString('base64url')}`, 'cursor'],
      ] as const) {
        const error = expectError(await api(`/domains?${query}`, tokens.admin), 422, 'validation_failed');
        expect(error.details, query).toEqual({ fields: { [field]: expect.any(String) } });
        expect(error.message).toContain(field);
      }
      for (const query of ['limit=0', 'limit=201', 'status=gone']) {
        const error = expectError(await api(`/accounts?${query}`, tokens.admin), 422, 'validation_failed');
        expect(Object.keys((error.details as { fields: object }).fields)).toEqual([query.split('=')[0]]);
      }
      expect((await api('/domains?limit=1', tokens.admin)).status).toBe(200);
      expect((await api('/domains?limit=200', tokens.admin)).status).toBe(200);
      const error = expectError(await api('/domains/abc', tokens.admin), 422, 'validation_failed');
      expect(error.details).toEqual({ fields: { id: expect.any(String) } });
      expectError(await api('/accounts/0', tokens.admin), 422, 'validation_failed');
    });
  });

  describe('errors and documentation', () => {
    it('answers an unknown endpoint with 404 not_found in JSON', async () => {
      expectError(await api('/servers', tokens.admin), 404, 'not_found');
    });

    it('serves an OpenAPI 3 document generated from the zod schemas, without a token', async () => {
      const res = await request(h.app).get('/api/v1/openapi.json');
      expect(res.status).toBe(200);
      const doc = res.body as {
        openapi: string;
        info: { title: string; version: string };
        servers: Array<{ url: string }>;
        paths: Record<string, Record<string, { operationId: string; parameters: Array<{ name: string; in: string; required: boolean; schema: Record<string, unknown> }>; responses: Record<string, unknown> }>>;
        components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
      };
      expect(doc.openapi).toMatch(/^3\.\d+\.\d+$/);
      expect(doc.info.title).toBeTruthy();
      expect(doc.servers[0]?.url).toMatch(/\/api\/v1$/);
      expect(doc.components.securitySchemes.bearer).toEqual({ type: 'http', scheme: 'bearer' });
      // Methods other than GET: complaint intake (src/complaints/) and the consent endpoints (src/consent/consent.test.ts, src/consent/api.test.ts check them).
      const writes: Record<string, string[]> = {
        '/complaints': ['get', 'post'],
        '/consent/check': ['post'],
        '/consent/lists': ['get', 'post'],
        '/consent/lists/{id}/text': ['put'],
        '/consent/lists/{id}/records': ['get', 'post'],
        '/consent/records/{id}/confirm': ['post'],
        '/consent/records/{id}/revoke': ['post'],
        '/blocks': ['get', 'post'],
        '/blocks/{id}/lift': ['post'],
        '/accounts/{id}/actions': ['post'],
        '/enforcement/actions/{id}/approve': ['post'],
        '/enforcement/actions/{id}/retry': ['post'],
        '/enforcement/actions/{id}/cancel': ['post'],
        '/postmaster/domains/{id}/check': ['post'],
      };
      expect(Object.keys(doc.paths).sort()).toEqual([
        '/accounts', '/accounts/{id}', '/accounts/{id}/actions', '/audit', '/blocks', '/blocks/{id}', '/blocks/{id}/lift', '/complaints', '/complaints/{id}', '/consent/check', '/consent/lists', '/consent/lists/{id}', '/consent/lists/{id}/records', '/consent/lists/{id}/text',
        '/consent/records/{id}', '/consent/records/{id}/confirm', '/consent/records/{id}/revoke', '/consent/stats', '/domains', '/domains/{id}',
        '/enforcement/actions', '/enforcement/actions/{id}', '/enforcement/actions/{id}/approve', '/enforcement/actions/{id}/cancel', '/enforcement/actions/{id}/retry', '/me',
        '/postmaster/domains', '/postmaster/domains/{id}/check',
      ]);
      for (const [path, ops] of Object.entries(doc.paths)) {
        const methods = writes[path] ?? ['get'];
        expect(Object.keys(ops).sort(), path).toEqual(methods);
        for (const method of methods) {
          const op = (ops as Record<string, NonNullable<typeof ops.get>>)[method]!;
          expect(op.operationId).toBeTruthy();
          // POST /accounts/{id}/actions creates an action: 201 (src/enforcement/apiEndpoints.ts).
          expect(op.responses[path === '/accounts/{id}/actions' ? '201' : '200'], path).toBeDefined();
          expect(op.responses['401'], path).toBeDefined();
          if (path.includes('{id}')) {
            expect(op.parameters.filter((p) => p.in === 'path')).toEqual([expect.objectContaining({ name: 'id', in: 'path', required: true, schema: expect.objectContaining({ type: 'integer' }) })]);
            expect(op.responses['404'], path).toBeDefined();
          }
        }
      }
      const domainParams = doc.paths['/domains']!.get!.parameters;
      expect(domainParams.map((p) => p.name)).toEqual(['q', 'type', 'account', 'server', 'mail', 'limit', 'cursor']);
      expect(domainParams.every((p) => p.in === 'query' && p.required === false)).toBe(true);
      expect(domainParams.find((p) => p.name === 'type')?.schema).toMatchObject({ type: 'string', enum: [...domainTypes] });
      expect(domainParams.find((p) => p.name === 'mail')?.schema).toMatchObject({ enum: ['yes', 'no'] });
      expect(domainParams.find((p) => p.name === 'limit')?.schema).toMatchObject({ type: 'integer', minimum: 1, maximum: 200 });
      const accountParams = doc.paths['/accounts']!.get!.parameters;
      expect(accountParams.map((p) => p.name)).toEqual(['q', 'status', 'server', 'owner', 'kind', 'limit', 'cursor']);
      expect(accountParams.find((p) => p.name === 'status')?.schema).toMatchObject({ enum: ['active', 'suspended', 'terminated'] });
      expect(doc.paths['/me']!.get!.parameters).toEqual([]);

      const text = JSON.stringify(doc);
      expect(text).not.toContain('#/definitions');
      expect(text).not.toContain('"$schema"');
      // OpenAPI 3.0 has no type arrays (["string","null"]): nullable fields use nullable: true.
      expect(text).not.toMatch(/"type":\[/);
      for (const ref of text.matchAll(/"\$ref":"([^"]+)"/g)) {
        expect(ref[1]).toMatch(/^#\/components\/schemas\//);
        expect(doc.components.schemas[ref[1]!.split('/').pop()!], ref[1]).toBeDefined();
      }
      const itemSchema = (doc.paths['/domains']!.get!.responses['200'] as { content: { 'application/json': { schema: { properties: { data: { items: { properties: Record<string, unknown> } } } } } } })
        .content['application/json'].schema.properties.data.items.properties;
      expect(Object.keys(itemSchema).sort()).toEqual(Object.keys(domainJson.shape).sort());
    });

    it('answers /healthz with status ok', async () => {
      const res = await request(h.app).get('/healthz');
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ status: 'ok' });
    });

    it('answers /healthz with 503 when the database is gone (separate instance)', async () => {
      let spare: TestDb | undefined;
      try {
        spare = await createTestDb(engine);
        const { app } = buildTestApp(spare.db);
        expect((await request(app).get('/healthz')).status).toBe(200);
        await spare.db.destroy();
        const res = await request(app).get('/healthz');
        expect(res.status).toBe(503);
        expect(res.body.status).not.toBe('ok');
      } finally {
        await spare?.cleanup();
      }
      expect((await request(h.app).get('/healthz')).status, 'the shared instance is unaffected').toBe(200);
    });
  });
});
