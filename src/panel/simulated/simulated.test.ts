import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { demoAccounts } from '../../demo/demoData';
import { buildDemoSeed, demoSeedJson, demoSeedPath } from './demoSeed';
import { loadSeed, parseSeed, SeedValidationError, type SeedFileInput } from './seedSchema';
import { startSimulatedWhm, type SimulatedWhm } from './server';
import { smallSeed } from './testSeed';

const token = 'SIMTESTTOKEN0123456789ABCDEFGHIJ';

type Json = Record<string, any>;

async function whm(sim: SimulatedWhm, fn: string, params: Record<string, string> = {}, opts: { auth?: string; version?: string | null } = {}): Promise<{ status: number; body: Json; text: string }> {
  const q = new URLSearchParams(opts.version === null ? params : { 'api.version': opts.version ?? '1', ...params });
  const res = await fetch(`${sim.url}/json-api/${fn}?${q}`, { headers: { Authorization: opts.auth ?? `whm root:${token}` } });
  const text = await res.text();
  let body: Json = {};
  try {
    body = JSON.parse(text) as Json;
  } catch {
    body = {};
  }
  return { status: res.status, body, text };
}

async function uapi(sim: SimulatedWhm, user: string, fn: string, params: Record<string, string> = {}) {
  const [module, func] = fn.split('::') as [string, string];
  return whm(sim, 'uapi_cpanel', { 'cpanel.user': user, 'cpanel.module': module, 'cpanel.function': func, ...params });
}

function issuesOf(input: unknown): string[] {
  try {
    parseSeed(input, 'test.json');
  } catch (err) {
    expect(err).toBeInstanceOf(SeedValidationError);
    return (err as SeedValidationError).issues.map((i) => `${i.path}: ${i.message}`);
  }
  throw new Error('expected the seed to be rejected');
}

describe('seed validation', () => {
  it('accepts the small test seed and fills defaults', () => {
    const seed = parseSeed(smallSeed());
    const bob = seed.servers[0]!.accounts.find((a) => a.user === 'bob')!;
    expect(bob).toMatchObject({ suspended: true, suspendReason: 'Spam complaint', outgoingMailHold: true, email: null, mailboxes: [] });
  });

  it('names the JSON path of each problem', () => {
    const seed = smallSeed() as Json;
    seed.servers[0].accounts[1].user = 'Alice';
    seed.servers[0].accounts[2].owner = 'nobody';
    seed.servers[0].accounts[3].mailboxes = ['info@alice.test'];
    seed.servers[0].accounts[4].domains[2].name = 'alice.test';
    seed.servers[0].accounts[1].mx[0].priority = -1;
    const issues = issuesOf(seed);
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^servers\[0\]\.accounts\[1\]\.user: must be a cPanel username/),
        expect.stringMatching(/^servers\[0\]\.accounts\[1\]\.mx\[0\]\.priority: /),
      ]),
    );
    // Cross-field rules run only on a seed whose shapes are valid: fix the shape errors and look again.
    seed.servers[0].accounts[1].user = 'alice';
    seed.servers[0].accounts[1].mx[0].priority = 20;
    expect(issuesOf(seed)).toEqual([
      'servers[0].accounts[2].owner: owner "nobody" is neither "root" nor listed in servers[0].resellers',
      'servers[0].accounts[3].mailboxes[0]: "alice.test" is not a domain of account "carol"',
      'servers[0].accounts[4].domains[2].name: domain "alice.test" already belongs to account "alice"',
      'servers[0].accounts[4].mailboxes[2]: "dave3.test" is not a domain of account "dave"',
    ]);
  });

  it('reports a missing or malformed top level', () => {
    expect(issuesOf({ servers: [] })).toEqual(expect.arrayContaining([expect.stringMatching(/^version: /), expect.stringMatching(/^servers: must list at least one server/)]));
    expect(issuesOf({ version: 1, servers: [{ name: 'x', accounts: [{ user: 'a1', domain: 'NOT A DOMAIN' }] }] })).toEqual([
      'servers[0].accounts[0].domain: must be a lowercase domain name like example.com',
    ]);
  });

  it('loadSeed names the file for unreadable, non-JSON and invalid files', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'simseed-'));
    try {
      const bad = path.join(dir, 'bad.json');
      fs.writeFileSync(bad, '{ "version": 1, ');
      expect(() => loadSeed(bad)).toThrow(new RegExp(`Invalid WHM simulator seed ${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:\\n  - \\(root\\): not valid JSON`));
      const invalid = path.join(dir, 'invalid.json');
      fs.writeFileSync(invalid, JSON.stringify({ version: 1, servers: [{ name: 's', accounts: [{ user: 'u1', domain: 'u1.test', email: 'nope' }] }] }));
      expect(() => loadSeed(invalid)).toThrow(/invalid\.json:\n {2}- servers\[0\]\.accounts\[0\]\.email: must be a lowercase email address/);
      expect(() => loadSeed(path.join(dir, 'missing.json'))).toThrow(/Cannot read the WHM simulator seed .*missing\.json/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('demo seed', () => {
  it('demo-seed.json is exactly the generated demo seed (regenerate: npx tsx src/panel/simulated/writeDemoSeed.ts)', () => {
    expect(fs.readFileSync(demoSeedPath, 'utf8')).toBe(demoSeedJson());
    expect(loadSeed(demoSeedPath)).toEqual(buildDemoSeed());
  });

  it('holds the demo fleet: 3 servers, the same 33 accounts, reseller3 under reseller1', () => {
    const seed = buildDemoSeed();
    expect(seed.servers.map((s) => s.name)).toEqual(['cp1.demo-hosting.test', 'cp2.demo-hosting.test', 'ded1.demo-hosting.test']);
    const accounts = seed.servers.flatMap((s) => s.accounts.map((a) => ({ ...a, server: s.name })));
    const demo = demoAccounts();
    expect(accounts.map((a) => a.user).sort()).toEqual(demo.map((a) => a.username).sort());
    for (const d of demo) {
      const a = accounts.find((x) => x.user === d.username)!;
      expect(a.server).toBe(d.server);
      expect(a.owner).toBe(d.owner ?? 'root');
      expect([a.domain, ...a.domains.map((x) => x.name)]).toEqual(d.domains.map((x) => x.name));
    }
    expect(accounts.find((a) => a.user === 'reseller3')!.owner).toBe('reseller1');
  });

  it('has the mail routing variety postmaster checks need', () => {
    const accounts = buildDemoSeed().servers.flatMap((s) => s.accounts);
    const mailboxes = accounts.flatMap((a) => a.mailboxes);
    const forwarders = accounts.flatMap((a) => a.forwarders);
    const defaults = accounts.flatMap((a) => a.defaultAddresses.map((d) => d.to));
    const mx = accounts.flatMap((a) => a.mx);
    expect(mailboxes.some((m) => m.startsWith('postmaster@'))).toBe(true);
    expect(forwarders.some((f) => f.from.startsWith('postmaster@'))).toBe(true);
    expect(defaults.some((d) => d.includes('@'))).toBe(true);
    expect(defaults.some((d) => d.startsWith(':fail:'))).toBe(true);
    expect(defaults).toContain(':blackhole:');
    expect(defaults.some((d) => d.startsWith('|'))).toBe(true);
    expect(mx.filter((m) => m.host === '.')).toHaveLength(1);
    expect(mx.some((m) => m.host === 'aspmx.l.google.com')).toBe(true);
    expect(accounts.some((a) => a.domainForwarders.length > 0)).toBe(true);
    // Every domain whose mail is not hosted has non-local MX.
    for (const d of demoAccounts().flatMap((a) => a.domains.filter((x) => !x.mailHosted))) {
      const entries = mx.filter((m) => m.domain === d.name);
      expect(entries.length).toBeGreaterThan(0);
      expect(entries.every((m) => m.host !== d.name)).toBe(true);
    }
  });
});

describe('simulated WHM server', () => {
  let sim: SimulatedWhm;

  beforeEach(async () => {
    sim = await startSimulatedWhm({ seed: smallSeed(), token });
  });
  afterEach(async () => {
    await sim.close();
  });

  it('answers listaccts in the WHM API 1 envelope, honouring want=', async () => {
    const { status, body } = await whm(sim, 'listaccts', { want: 'user,owner,suspended,suspendreason,outgoing_mail_hold' });
    expect(status).toBe(200);
    expect(body.metadata).toEqual({ command: 'listaccts', reason: 'OK', result: 1, version: 1 });
    expect(body.data.acct).toContainEqual({ user: 'alice', owner: 'res1', suspended: 0, suspendreason: 'not suspended', outgoing_mail_hold: 0 });
    expect(body.data.acct).toContainEqual({ user: 'bob', owner: 'res1', suspended: 1, suspendreason: 'Spam complaint', outgoing_mail_hold: 1 });
    const full = await whm(sim, 'listaccts', { search: 'carol', searchtype: 'user' });
    expect(full.body.data.acct).toHaveLength(1);
    expect(full.body.data.acct[0]).toMatchObject({ user: 'carol', email: '*unknown*', outgoing_mail_suspended: 1, plan: 'starter', domain: 'carol.test' });
    const none = await whm(sim, 'listaccts', { search: 'zzz', searchtype: 'user' });
    expect(none.body).toEqual({ data: {}, metadata: { command: 'listaccts', reason: 'OK', result: 1, version: 1 } });
    expect((await whm(sim, 'listaccts', { search: 'x', searchtype: 'color' })).body.metadata).toMatchObject({ result: 0, reason: 'Unknown search type.' });
  });

  it('answers get_domain_info, listresellers, accountsummary and uapi_cpanel reads', async () => {
    const domains = (await whm(sim, 'get_domain_info')).body.data.domains as Json[];
    expect(domains.filter((d) => d.user === 'alice').map((d) => [d.domain, d.domain_type, d.user_owner])).toEqual([
      ['alias-alice.test', 'parked', 'res1'],
      ['alice.test', 'main', 'res1'],
      ['blog.alice.test', 'sub', 'res1'],
      ['shop-alice.test', 'addon', 'res1'],
    ]);
    expect((await whm(sim, 'listresellers')).body.data).toEqual({ reseller: ['res1'] });
    expect((await whm(sim, 'accountsummary', { user: 'alice' })).body.data.acct[0]).toMatchObject({ user: 'alice', domain: 'alice.test' });
    expect((await whm(sim, 'accountsummary', { domain: 'shop-alice.test' })).body.data.acct[0]).toMatchObject({ user: 'alice' });

    const mxs = await uapi(sim, 'alice', 'Email::list_mxs');
    expect(mxs.body.metadata).toMatchObject({ command: 'uapi_cpanel', result: 1 });
    expect(mxs.body.data.uapi).toMatchObject({ status: 1, errors: null, messages: null, warnings: null, metadata: { transformed: 1 } });
    const shop = (mxs.body.data.uapi.data as Json[]).find((r) => r.domain === 'shop-alice.test')!;
    expect(shop).toMatchObject({ mx: 'mx1.remote.test', mxcheck: 'remote', local: 0, remote: 1 });
    expect(shop.entries.map((e: Json) => [e.mx, e.priority])).toEqual([
      ['mx1.remote.test', 10],
      ['mx2.remote.test', 20],
    ]);
    const defaults = (await uapi(sim, 'alice', 'Email::list_default_address', { user: 'alice' })).body.data.uapi.data;
    expect(defaults).toContainEqual({ domain: 'blog.alice.test', defaultaddress: ':blackhole:' });
    expect(defaults).toContainEqual({ domain: 'alice.test', defaultaddress: ':fail: No Such User Here' });
    const pops = (await uapi(sim, 'alice', 'Email::list_pops')).body.data.uapi.data as Json[];
    expect(pops[0]).toMatchObject({ email: 'alice', login: 'alice' }); // the main (system) mailbox
    expect((await uapi(sim, 'alice', 'Email::list_pops', { skip_main: '1' })).body.data.uapi.data.map((p: Json) => p.email)).toEqual([
      'info@alice.test',
      'info@shop-alice.test',
      'postmaster@alice.test',
    ]);
    const fwd = (await uapi(sim, 'alice', 'Email::list_forwarders', { domain: 'alice.test' })).body.data.uapi.data as Json[];
    expect(fwd.map((f) => [f.dest, f.forward])).toEqual([
      ['sales@alice.test', 'a@elsewhere.test'],
      ['sales@alice.test', 'b@elsewhere.test'],
    ]);
    expect((await uapi(sim, 'alice', 'Email::list_domain_forwarders')).body.data.uapi.data).toEqual([{ dest: 'alias-alice.test', forward: 'alice.test' }]);
  });

  it('UAPI failures are status 0 with errors inside a WHM result 1', async () => {
    const missing = await uapi(sim, 'alice', 'Email::list_default_address');
    expect(missing.body.metadata.result).toBe(1);
    expect(missing.body.data.uapi).toMatchObject({ status: 0, errors: ['The parameter “user” is required.'], data: null });
    const foreign = await uapi(sim, 'alice', 'Email::list_mxs', { domain: 'bob.test' });
    expect(foreign.body.data.uapi.errors).toEqual(['You do not control a domain named “bob.test”.']);
    const unknown = await uapi(sim, 'alice', 'Email::no_such_function');
    expect(unknown.body.data.uapi.status).toBe(0);
  });

  it('writes change the state', async () => {
    expect((await whm(sim, 'suspendacct', { user: 'alice', reason: 'Spam (complaint #7)', disallowun: '1' })).body.metadata).toMatchObject({ result: 1, reason: 'OK', output: { raw: expect.stringContaining("alice's account has been suspended") } });
    let alice = (await whm(sim, 'accountsummary', { user: 'alice' })).body.data.acct[0];
    expect(alice).toMatchObject({ suspended: 1, suspendreason: 'Spam (complaint #7)', is_locked: 1 });
    await whm(sim, 'unsuspendacct', { user: 'alice' });
    alice = (await whm(sim, 'accountsummary', { user: 'alice' })).body.data.acct[0];
    expect(alice).toMatchObject({ suspended: 0, suspendreason: 'not suspended', is_locked: 0 });

    await whm(sim, 'hold_outgoing_email', { user: 'alice' });
    expect(sim.state.account('alice')!.outgoingMailHold).toBe(true);
    await whm(sim, 'suspend_outgoing_email', { user: 'alice' });
    expect((await whm(sim, 'listaccts', { search: 'alice', searchtype: 'user', searchmethod: 'exact', want: 'outgoing_mail_suspended,outgoing_mail_hold' })).body.data.acct).toEqual([{ outgoing_mail_suspended: 1, outgoing_mail_hold: 1 }]);
    await whm(sim, 'release_outgoing_email', { user: 'alice' });
    await whm(sim, 'unsuspend_outgoing_email', { user: 'alice' });
    expect(sim.state.account('alice')).toMatchObject({ outgoingMailHold: false, outgoingMailSuspended: false });

    expect((await uapi(sim, 'alice', 'Email::add_pop', { email: 'new', domain: 'shop-alice.test', password: 'x-Very-long-1' })).body.data.uapi).toMatchObject({ status: 1, data: 'new+shop-alice.test' });
    expect((await uapi(sim, 'alice', 'Email::add_pop', { email: 'new', domain: 'shop-alice.test', password: 'x-Very-long-1' })).body.data.uapi.errors).toEqual(['The account new@shop-alice.test already exists!']);
    expect(sim.state.account('alice')!.mailboxes).toContain('new@shop-alice.test');
    await uapi(sim, 'alice', 'Email::add_forwarder', { domain: 'blog.alice.test', email: 'postmaster@blog.alice.test', fwdopt: 'fwd', fwdemail: 'owner@alice.test' });
    await uapi(sim, 'alice', 'Email::add_forwarder', { domain: 'blog.alice.test', email: 'old@blog.alice.test', fwdopt: 'fail', failmsgs: 'Gone' });
    expect(sim.state.account('alice')!.forwarders).toEqual(
      expect.arrayContaining([
        { from: 'postmaster@blog.alice.test', to: 'owner@alice.test' },
        { from: 'old@blog.alice.test', to: ':fail: Gone' },
      ]),
    );

    expect((await whm(sim, 'removeacct', { user: 'alice' })).body.metadata.result).toBe(1);
    expect(sim.state.account('alice')).toBeUndefined();
    const domains = (await whm(sim, 'get_domain_info')).body.data.domains as Json[];
    expect(domains.some((d) => d.user === 'alice')).toBe(false);
  });

  it('suspendreseller suspends the reseller and the accounts it owns; unsuspendreseller lifts it', async () => {
    await whm(sim, 'suspendreseller', { user: 'res1', reason: 'Reseller abuse' });
    for (const u of ['res1', 'alice', 'bob']) expect(sim.state.account(u)).toMatchObject({ suspended: true, suspendReason: 'Reseller abuse' });
    expect(sim.state.account('carol')!.suspended).toBe(false);
    await whm(sim, 'unsuspendreseller', { user: 'res1' });
    for (const u of ['res1', 'alice', 'bob']) expect(sim.state.account(u)!.suspended).toBe(false);
    expect((await whm(sim, 'suspendreseller', { user: 'carol' })).body.metadata).toMatchObject({ result: 0, reason: '“carol” is not a reseller.' });
  });

  it('refuses unknown users, unknown functions and missing parameters with result 0', async () => {
    for (const fn of ['suspendacct', 'unsuspendacct', 'removeacct', 'hold_outgoing_email', 'create_user_session']) {
      const { status, body } = await whm(sim, fn, { user: 'ghost', service: 'cpaneld' });
      expect(status).toBe(200);
      expect(body.metadata).toEqual({ command: fn, result: 0, reason: 'The user “ghost” does not exist.', version: 1 });
    }
    expect((await whm(sim, 'accountsummary', { user: 'ghost' })).body.metadata).toMatchObject({ result: 0, reason: 'Account does not exist.' });
    expect((await whm(sim, 'suspendacct')).body.metadata.reason).toBe('The parameter “user” is required.');
    expect((await whm(sim, 'createacct', { username: 'x' })).body).toEqual({
      metadata: { command: 'createacct', result: 0, reason: 'Unknown app (“createacct”) requested for this version (1) of the API.', version: 1 },
    });
  });

  it('create_user_session returns a one-time URL that the simulator serves', async () => {
    const { body } = await whm(sim, 'create_user_session', { user: 'alice', service: 'cpaneld' });
    expect(body.data).toMatchObject({ service: 'cpaneld', session: expect.stringMatching(/^alice:/), cp_security_token: expect.stringMatching(/^\/cpsess\d{10}$/) });
    expect(body.data.expires - Date.now() / 1000).toBeGreaterThan(290);
    const page = await fetch(body.data.url as string);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Simulated cPanel session for <strong>alice</strong>');
    expect((await whm(sim, 'create_user_session', { user: 'bob', service: 'cpaneld' })).body.metadata).toMatchObject({ result: 0, reason: 'The user “bob” is suspended.' });
  });

  it('answers HTTP 403 with the legacy cpanelresult body on a wrong or missing token', async () => {
    for (const auth of [`whm root:WRONG`, `whm admin:${token}`, '']) {
      const r = await whm(sim, 'listaccts', {}, { auth });
      expect(r.status).toBe(403);
      expect(r.body).toEqual({ cpanelresult: { apiversion: '2', error: 'Access denied', data: { reason: 'Access denied', result: '0' }, type: 'text' } });
    }
  });

  it('answers in a legacy shape without api.version=1', async () => {
    const r = await whm(sim, 'listresellers', {}, { version: null });
    expect(r.body).toEqual({ reseller: ['res1'], status: 1, statusmsg: 'OK' });
    expect(r.body.metadata).toBeUndefined();
  });

  it('counts calls per WHM and per UAPI function', async () => {
    await whm(sim, 'listaccts');
    await whm(sim, 'listaccts');
    await uapi(sim, 'alice', 'Email::list_pops');
    await whm(sim, 'listaccts', {}, { auth: 'whm root:bad' });
    expect(sim.callCount('listaccts')).toBe(3);
    expect(sim.callCount('uapi_cpanel')).toBe(1);
    expect(sim.callCount('Email::list_pops')).toBe(1);
    expect(sim.totalCalls()).toBe(4);
    sim.resetCounters();
    expect(sim.totalCalls()).toBe(0);
    expect(sim.stats.requests).toBe(0);
  });

  it('a reseller token sees and touches only its own accounts', async () => {
    const res = await startSimulatedWhm({ seed: smallSeed(), token, user: 'res1' });
    try {
      const auth = `whm res1:${token}`;
      const users = ((await whm(res, 'listaccts', { want: 'user' }, { auth })).body.data.acct as Json[]).map((a) => a.user);
      expect(users).toEqual(['alice', 'bob', 'res1']);
      expect((await whm(res, 'suspendacct', { user: 'carol' }, { auth })).body.metadata.reason).toBe('You do not have access to an account named “carol”.');
    } finally {
      await res.close();
    }
  });
});

describe('simulator knobs', () => {
  let sim: SimulatedWhm;
  beforeAll(async () => {
    sim = await startSimulatedWhm({ seed: smallSeed(), server: 'test1.example.test', token, knobs: { failFunctions: ['listresellers'] } });
  });
  afterAll(async () => {
    await sim.close();
  });
  beforeEach(() => {
    Object.assign(sim.knobs, { latencyMs: 0, errorRate: 0, timeoutRate: 0, error500Next: 0, timeoutNext: 0, forwardersRequireDomain: false });
    sim.knobs.failFunctions.clear();
    sim.resetCounters();
  });

  it('failFunctions set at start answer result 0; they can be changed at runtime', async () => {
    const fresh = await startSimulatedWhm({ seed: smallSeed(), token, knobs: { failFunctions: ['listresellers', 'Email::list_pops'] } });
    try {
      expect((await whm(fresh, 'listresellers')).body.metadata).toEqual({ command: 'listresellers', result: 0, reason: 'Simulated failure of listresellers.', version: 1 });
      expect((await uapi(fresh, 'alice', 'Email::list_pops')).body.data.uapi).toMatchObject({ status: 0, errors: ['Simulated failure of Email::list_pops.'] });
      fresh.knobs.failFunctions.delete('listresellers');
      expect((await whm(fresh, 'listresellers')).body.metadata.result).toBe(1);
    } finally {
      await fresh.close();
    }
  });

  it('latencyMs delays every answer', async () => {
    sim.knobs.latencyMs = 60;
    const t0 = performance.now();
    await whm(sim, 'listresellers');
    expect(performance.now() - t0).toBeGreaterThanOrEqual(55);
  });

  it('errorRate answers HTTP 500; error500Next fails exactly the next N requests', async () => {
    sim.knobs.errorRate = 1;
    expect((await whm(sim, 'listresellers')).status).toBe(500);
    sim.knobs.errorRate = 0;
    sim.knobs.error500Next = 2;
    expect((await whm(sim, 'listresellers')).status).toBe(500);
    expect((await whm(sim, 'listresellers')).status).toBe(500);
    expect((await whm(sim, 'listresellers')).status).toBe(200);
    expect(sim.callCount('listresellers')).toBe(4);
  });

  it('timeoutRate / timeoutNext never answer until the client gives up', async () => {
    sim.knobs.timeoutNext = 1;
    await expect(fetch(`${sim.url}/json-api/listresellers?api.version=1`, { headers: { Authorization: `whm root:${token}` }, signal: AbortSignal.timeout(150) })).rejects.toThrow();
    expect((await whm(sim, 'listresellers')).status).toBe(200);
    sim.knobs.timeoutRate = 1;
    await expect(fetch(`${sim.url}/json-api/listresellers?api.version=1`, { headers: { Authorization: `whm root:${token}` }, signal: AbortSignal.timeout(150) })).rejects.toThrow();
    // The abandoned requests are no longer in flight.
    await new Promise((r) => setTimeout(r, 20));
    expect(sim.stats.inFlight).toBe(0);
  });

  it('forwardersRequireDomain makes Email::list_forwarders insist on a domain', async () => {
    sim.knobs.forwardersRequireDomain = true;
    expect((await uapi(sim, 'alice', 'Email::list_forwarders')).body.data.uapi.errors).toEqual(['The parameter “domain” is required.']);
    expect((await uapi(sim, 'alice', 'Email::list_forwarders', { domain: 'alice.test' })).body.data.uapi.status).toBe(1);
  });

  it('serves the named server of a multi-server seed', async () => {
    const other = await startSimulatedWhm({ seed: smallSeed() as SeedFileInput, server: 'test2.example.test', token });
    try {
      expect(((await whm(other, 'listaccts', { want: 'user' })).body.data.acct as Json[]).map((a) => a.user)).toEqual(['erin']);
    } finally {
      await other.close();
    }
    await expect(startSimulatedWhm({ seed: smallSeed(), server: 'nope', token })).rejects.toThrow('The seed has no server named "nope" (servers: test1.example.test, test2.example.test)');
  });
});
