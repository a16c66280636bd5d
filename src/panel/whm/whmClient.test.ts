import { execFileSync, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PanelApiError, PanelAuthError, PanelProtocolError, PanelTimeoutError, PanelTlsError, PanelUnavailableError } from '../errors';
import type { PanelAdapter } from '../panelAdapter';
import { startSimulatedWhm, type SimulatedWhm } from '../simulated/server';
import { smallSeed } from '../simulated/testSeed';
import { readWhmEnvelope } from './envelope';
import { normalizeFingerprint } from './tlsOptions';
import { WhmApiClient, type WhmClientOptions } from './whmClient';
import { whmFunctions } from './whmFunctions';

const token = 'CLIENTTESTTOKEN0123456789ABCDEFG';
const fastRetry = { retries: 2, baseDelayMs: 1, maxDelayMs: 4 };

let sim: SimulatedWhm;
let client: WhmApiClient;
const extraClients: WhmApiClient[] = [];

function newClient(opts: Partial<WhmClientOptions> = {}): WhmApiClient {
  const c = new WhmApiClient({ url: sim.url, token, serverName: 'test1', timeoutMs: 2000, retry: fastRetry, ...opts });
  extraClients.push(c);
  return c;
}

beforeEach(async () => {
  sim = await startSimulatedWhm({ seed: smallSeed(), token });
  client = newClient();
});
afterEach(async () => {
  for (const c of extraClients.splice(0)) c.close();
  await sim.close();
});

describe('reads', () => {
  it('listAccounts: one listaccts call, mapped fields and outgoing-mail state', async () => {
    const accounts = await client.listAccounts();
    expect(sim.callCount('listaccts')).toBe(1);
    expect(accounts.map((a) => a.username).sort()).toEqual(['alice', 'bob', 'carol', 'dave', 'res1']);
    const by = (u: string) => accounts.find((a) => a.username === u)!;
    expect(by('alice')).toEqual({ username: 'alice', domain: 'alice.test', owner: 'res1', contactEmail: 'owner@alice.test', plan: 'business', suspended: false, suspendReason: null, outgoingMail: 'active' });
    expect(by('bob')).toMatchObject({ suspended: true, suspendReason: 'Spam complaint', outgoingMail: 'hold' });
    // suspended wins over hold; "*unknown*" contact address becomes null.
    expect(by('carol')).toMatchObject({ owner: 'root', contactEmail: null, outgoingMail: 'suspended' });
  });

  it('listDomains: one get_domain_info call, every domain type', async () => {
    const domains = await client.listDomains();
    expect(sim.callCount('get_domain_info')).toBe(1);
    expect(domains.filter((d) => d.username === 'alice')).toEqual([
      { domain: 'alias-alice.test', type: 'parked', username: 'alice' },
      { domain: 'alice.test', type: 'main', username: 'alice' },
      { domain: 'blog.alice.test', type: 'sub', username: 'alice' },
      { domain: 'shop-alice.test', type: 'addon', username: 'alice' },
    ]);
    expect(domains).toHaveLength(1 + 4 + 1 + 1 + 12);
  });

  it('listResellers and accountSummary', async () => {
    expect(await client.listResellers()).toEqual(['res1']);
    expect(await client.accountSummary('carol')).toMatchObject({ username: 'carol', domain: 'carol.test', outgoingMail: 'suspended' });
  });

  it('lowercases usernames before sending them', async () => {
    expect((await client.accountSummary('  ALICE ')).username).toBe('alice');
    await client.suspendAccount('Dave', 'Spam');
    expect(sim.state.account('dave')!.suspended).toBe(true);
    expect((await client.mailRoutes('Alice')).length).toBe(4);
  });

  it('mailRoutes: every domain of the account with mailboxes, forwarders, domain forwarder, default address and MX', async () => {
    const routes = await client.mailRoutes('alice');
    expect(routes).toEqual([
      { domain: 'alias-alice.test', mailboxes: [], forwarders: [], domainForwarder: 'alice.test', defaultAddress: ':fail: No Such User Here', mx: [{ host: 'alias-alice.test', priority: 0 }], mxRouting: 'local' },
      {
        domain: 'alice.test',
        mailboxes: ['info@alice.test', 'postmaster@alice.test'],
        forwarders: [
          { from: 'sales@alice.test', to: 'a@elsewhere.test' },
          { from: 'sales@alice.test', to: 'b@elsewhere.test' },
        ],
        domainForwarder: null,
        defaultAddress: ':fail: No Such User Here',
        mx: [{ host: 'alice.test', priority: 0 }],
        mxRouting: 'local',
      },
      { domain: 'blog.alice.test', mailboxes: [], forwarders: [], domainForwarder: null, defaultAddress: ':blackhole:', mx: [{ host: '.', priority: 0 }], mxRouting: 'remote' },
      {
        domain: 'shop-alice.test',
        mailboxes: ['info@shop-alice.test'],
        forwarders: [{ from: 'postmaster@shop-alice.test', to: 'owner@alice.test' }],
        domainForwarder: null,
        defaultAddress: ':fail: No Such User Here',
        mx: [
          { host: 'mx1.remote.test', priority: 10 },
          { host: 'mx2.remote.test', priority: 20 },
        ],
        mxRouting: 'remote',
      },
    ]);
  });

  it('mailRoutes makes a fixed number of calls whatever the domain count', async () => {
    await client.mailRoutes('bob'); // 1 domain
    const forOne = sim.callCount('uapi_cpanel');
    sim.resetCounters();
    const dave = await client.mailRoutes('dave'); // 12 domains
    expect(dave).toHaveLength(12);
    expect(dave.find((d) => d.domain === 'dave7.test')!.mailboxes).toEqual(['info@dave7.test']);
    expect(sim.callCount('uapi_cpanel')).toBe(forOne);
    expect(forOne).toBe(5);
    for (const fn of ['Email::list_pops', 'Email::list_forwarders', 'Email::list_domain_forwarders', 'Email::list_default_address', 'Email::list_mxs']) expect(sim.callCount(fn)).toBe(1);
  });

  it('mailRoutes falls back to per-domain list_forwarders when the server insists on a domain, and remembers it', async () => {
    const expected = await client.mailRoutes('alice');
    sim.knobs.forwardersRequireDomain = true;
    const fresh = newClient();
    sim.resetCounters();
    expect(await fresh.mailRoutes('alice')).toEqual(expected);
    expect(sim.callCount('Email::list_forwarders')).toBe(1 + 4); // the refused account-wide call, then one per domain
    sim.resetCounters();
    expect(await fresh.mailRoutes('alice')).toEqual(expected);
    expect(sim.callCount('Email::list_forwarders')).toBe(4);
  });
});

describe('writes', () => {
  it('suspend/unsuspend account, with disallowun', async () => {
    await client.suspendAccount('alice', 'Spam complaint #12', { disallowResellerUnsuspend: true });
    expect(sim.state.account('alice')).toMatchObject({ suspended: true, suspendReason: 'Spam complaint #12', suspendLocked: true });
    expect(await client.accountSummary('alice')).toMatchObject({ suspended: true, suspendReason: 'Spam complaint #12' });
    await client.unsuspendAccount('alice');
    expect(sim.state.account('alice')).toMatchObject({ suspended: false, suspendLocked: false });
    await client.suspendAccount('alice', 'again');
    expect(sim.state.account('alice')!.suspendLocked).toBe(false);
  });

  it('outgoing mail: suspend, unsuspend, hold, release', async () => {
    const state = async () => (await client.accountSummary('alice')).outgoingMail;
    await client.holdOutgoingEmail('alice');
    expect(await state()).toBe('hold');
    await client.suspendOutgoingEmail('alice');
    expect(await state()).toBe('suspended');
    await client.unsuspendOutgoingEmail('alice');
    expect(await state()).toBe('hold');
    await client.releaseOutgoingEmail('alice');
    expect(await state()).toBe('active');
  });

  it('terminateAccount removes the account and its domains', async () => {
    await client.terminateAccount('alice', { keepDns: true });
    expect((await client.listAccounts()).some((a) => a.username === 'alice')).toBe(false);
    expect((await client.listDomains()).some((d) => d.username === 'alice')).toBe(false);
  });

  it('suspendReseller / unsuspendReseller cover the reseller and its accounts', async () => {
    await client.suspendReseller('res1', 'Reseller ignored complaints');
    const suspended = (await client.listAccounts()).filter((a) => a.suspended).map((a) => a.username).sort();
    expect(suspended).toEqual(['alice', 'bob', 'res1']);
    await client.unsuspendReseller('res1');
    expect((await client.listAccounts()).filter((a) => a.suspended)).toEqual([]);
  });

  it('createMailbox (password in a POST body) and createForwarder of every target kind', async () => {
    await client.createMailbox('alice', 'Postmaster@Blog.Alice.test', 'S3cret-pass-phrase');
    expect(sim.state.account('alice')!.mailboxes).toContain('postmaster@blog.alice.test');
    await client.createForwarder('alice', 'abuse@alice.test', 'owner@alice.test');
    await client.createForwarder('alice', 'old@alice.test', ':fail: This address is gone');
    await client.createForwarder('alice', 'null@alice.test', ':blackhole:');
    await client.createForwarder('alice', 'robot@alice.test', '|/home/alice/bin/robot.php');
    const routes = (await client.mailRoutes('alice')).find((r) => r.domain === 'alice.test')!;
    expect(routes.forwarders).toEqual(
      expect.arrayContaining([
        { from: 'abuse@alice.test', to: 'owner@alice.test' },
        { from: 'old@alice.test', to: ':fail: This address is gone' },
        { from: 'null@alice.test', to: ':blackhole:' },
        { from: 'robot@alice.test', to: '|/home/alice/bin/robot.php' },
      ]),
    );
    await expect(client.createMailbox('alice', 'not-an-address', 'x')).rejects.toThrow(RangeError);
  });

  it('createLoginUrl returns the one-time URL from create_user_session', async () => {
    const url = await client.createLoginUrl('Alice');
    expect(url).toMatch(new RegExp(`^${sim.url}/cpsess\\d{10}/login/\\?session=alice%3A`));
    expect((await fetch(url)).status).toBe(200);
  });
});

describe('failures', () => {
  type Case = { method: string; fn: string; run: (c: PanelAdapter) => Promise<unknown> };
  const cases: Case[] = [
    { method: 'listAccounts', fn: 'listaccts', run: (c) => c.listAccounts() },
    { method: 'listDomains', fn: 'get_domain_info', run: (c) => c.listDomains() },
    { method: 'listResellers', fn: 'listresellers', run: (c) => c.listResellers() },
    { method: 'accountSummary', fn: 'accountsummary', run: (c) => c.accountSummary('alice') },
    { method: 'mailRoutes', fn: 'uapi_cpanel', run: (c) => c.mailRoutes('alice') },
    { method: 'createMailbox', fn: 'uapi_cpanel', run: (c) => c.createMailbox('alice', 'x@alice.test', 'pw-pw-pw-pw') },
    { method: 'createForwarder', fn: 'uapi_cpanel', run: (c) => c.createForwarder('alice', 'x@alice.test', 'y@z.test') },
    { method: 'suspendAccount', fn: 'suspendacct', run: (c) => c.suspendAccount('alice', 'r') },
    { method: 'unsuspendAccount', fn: 'unsuspendacct', run: (c) => c.unsuspendAccount('bob') },
    { method: 'suspendOutgoingEmail', fn: 'suspend_outgoing_email', run: (c) => c.suspendOutgoingEmail('alice') },
    { method: 'unsuspendOutgoingEmail', fn: 'unsuspend_outgoing_email', run: (c) => c.unsuspendOutgoingEmail('carol') },
    { method: 'holdOutgoingEmail', fn: 'hold_outgoing_email', run: (c) => c.holdOutgoingEmail('alice') },
    { method: 'releaseOutgoingEmail', fn: 'release_outgoing_email', run: (c) => c.releaseOutgoingEmail('bob') },
    { method: 'terminateAccount', fn: 'removeacct', run: (c) => c.terminateAccount('alice') },
    { method: 'suspendReseller', fn: 'suspendreseller', run: (c) => c.suspendReseller('res1', 'r') },
    { method: 'unsuspendReseller', fn: 'unsuspendreseller', run: (c) => c.unsuspendReseller('res1') },
    { method: 'createLoginUrl', fn: 'create_user_session', run: (c) => c.createLoginUrl('alice') },
  ];

  it.each(cases)('$method: a result-0 envelope from $fn is a PanelApiError naming server, function and reason', async ({ fn, run }) => {
    sim.knobs.failFunctions.add(fn);
    const err = await run(client).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(PanelApiError);
    const e = err as PanelApiError;
    expect(e.retryable).toBe(false);
    expect(e.reason).toBe(`Simulated failure of ${fn}.`);
    expect(e.message).toMatch(new RegExp(`^WHM test1: ${fn}.*: the panel refused: Simulated failure of ${fn}\\.$`));
    expect(sim.callCount(fn)).toBeGreaterThanOrEqual(1);
  });

  it('covers every PanelAdapter method', () => {
    const methods = Object.getOwnPropertyNames(WhmApiClient.prototype).filter((m) => m !== 'constructor' && m !== 'close' && !['ctx', 'uapi', 'uapiList', 'forwardersFallbackSignal', 'call', 'once'].includes(m));
    expect(cases.map((c) => c.method).sort()).toEqual(methods.sort());
  });

  it('UAPI status 0 is a PanelApiError carrying the UAPI errors', async () => {
    sim.knobs.failFunctions.add('Email::list_mxs');
    await expect(client.mailRoutes('alice')).rejects.toMatchObject({ name: 'PanelApiError', fn: 'uapi_cpanel Email::list_mxs', errors: ['Simulated failure of Email::list_mxs.'] });
    await client.createMailbox('alice', 'dup@alice.test', 'pw-pw-pw-pw');
    await expect(client.createMailbox('alice', 'dup@alice.test', 'pw-pw-pw-pw')).rejects.toMatchObject({ name: 'PanelApiError', reason: 'The account dup@alice.test already exists!' });
  });

  it('an unknown user is a PanelApiError with the panel reason', async () => {
    await expect(client.suspendAccount('ghost', 'r')).rejects.toMatchObject({ name: 'PanelApiError', fn: 'suspendacct', reason: 'The user “ghost” does not exist.' });
    await expect(client.accountSummary('ghost')).rejects.toThrow('WHM test1: accountsummary: the panel refused: Account does not exist.');
  });

  it('a wrong token is a PanelAuthError, never retried', async () => {
    const bad = newClient({ token: 'WRONG' });
    const err = await bad.listAccounts().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PanelAuthError);
    expect(err).toMatchObject({ httpStatus: 403, retryable: false, server: 'test1', fn: 'listaccts' });
    expect((err as Error).message).toContain('HTTP 403: Access denied');
    expect(sim.callCount('listaccts')).toBe(1);
  });

  it('a read that times out every time is a PanelTimeoutError after the retries', async () => {
    sim.knobs.timeoutRate = 1;
    const c = newClient({ timeoutMs: 100 });
    const err = await c.listResellers().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PanelTimeoutError);
    expect(err).toMatchObject({ retryable: true, timeoutMs: 100 });
    expect((err as Error).message).toBe('WHM test1: listresellers: no answer within 100 ms');
    expect(sim.callCount('listresellers')).toBe(3);
  });

  it('a read that times out once is retried and succeeds', async () => {
    sim.knobs.timeoutNext = 1;
    const c = newClient({ timeoutMs: 100 });
    expect(await c.listResellers()).toEqual(['res1']);
    expect(sim.callCount('listresellers')).toBe(2);
  });

  it('a write that times out is not retried', async () => {
    sim.knobs.timeoutNext = 1;
    const c = newClient({ timeoutMs: 100 });
    await expect(c.holdOutgoingEmail('alice')).rejects.toBeInstanceOf(PanelTimeoutError);
    expect(sim.callCount('hold_outgoing_email')).toBe(1);
  });

  it('reads are retried on transient HTTP 500 and succeed', async () => {
    sim.knobs.error500Next = 2;
    expect(await client.listAccounts()).toHaveLength(5);
    expect(sim.callCount('listaccts')).toBe(3);
    sim.resetCounters();
    sim.knobs.error500Next = 1;
    expect(await client.mailRoutes('bob')).toHaveLength(1);
    expect(sim.callCount('uapi_cpanel')).toBe(6);
  });

  it('reads give up after the retries with PanelUnavailableError (HTTP 500)', async () => {
    sim.knobs.errorRate = 1;
    const err = await client.listDomains().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PanelUnavailableError);
    expect(err).toMatchObject({ httpStatus: 500, retryable: true, fn: 'get_domain_info' });
    expect(sim.callCount('get_domain_info')).toBe(1 + fastRetry.retries);
  });

  it('writes are never retried on HTTP 500', async () => {
    sim.knobs.error500Next = 1;
    await expect(client.suspendAccount('alice', 'r')).rejects.toMatchObject({ name: 'PanelUnavailableError', httpStatus: 500 });
    expect(sim.callCount('suspendacct')).toBe(1);
    expect(sim.state.account('alice')!.suspended).toBe(false);
    sim.knobs.error500Next = 1;
    await expect(client.createMailbox('alice', 'n@alice.test', 'pw-pw-pw-pw')).rejects.toBeInstanceOf(PanelUnavailableError);
    expect(sim.callCount('Email::add_pop')).toBe(1);
    sim.knobs.error500Next = 1;
    await expect(client.createLoginUrl('alice')).rejects.toBeInstanceOf(PanelUnavailableError);
    expect(sim.callCount('create_user_session')).toBe(1);
  });

  it('a refused connection is a retryable PanelUnavailableError', async () => {
    const url = sim.url;
    await sim.close();
    const c = new WhmApiClient({ url, token, serverName: 'gone', retry: fastRetry });
    const err = await c.listResellers().catch((e: unknown) => e);
    c.close();
    expect(err).toBeInstanceOf(PanelUnavailableError);
    expect(err).toMatchObject({ retryable: true, server: 'gone' });
    expect((err as Error).message).toMatch(/connection failed: ECONNREFUSED/);
    sim = await startSimulatedWhm({ seed: smallSeed(), token }); // for afterEach
  });

  it('validates its options', async () => {
    const c = newClient({ url: `${sim.url}/` });
    expect(await c.listResellers()).toEqual(['res1']); // a trailing slash is fine
    expect(() => new WhmApiClient({ url: sim.url.replace('http:', 'ftp:'), token })).toThrow(/must start with https/);
    expect(() => new WhmApiClient({ url: sim.url, token, fingerprint: 'ab'.repeat(32) })).toThrow(/need an https/);
    expect(() => new WhmApiClient({ url: 'not a url', token })).toThrow(/not a URL/);
    expect(() => new WhmApiClient({ url: sim.url, token: '' })).toThrow(/token is required/);
  });

  it('answers that are not WHM API 1 envelopes are PanelProtocolErrors', () => {
    const ctx = { server: 's', fn: 'listaccts' };
    const res = (status: number, body: string) => ({ status, statusMessage: '', contentType: 'application/json', body });
    expect(() => readWhmEnvelope(ctx, res(200, '{"acct":[],"status":1,"statusmsg":"Ok"}'))).toThrow(PanelProtocolError);
    expect(() => readWhmEnvelope(ctx, res(200, '{"acct":[],"status":1}'))).toThrow(/legacy API 0 format/);
    expect(() => readWhmEnvelope(ctx, res(200, '<html><body>Login</body></html>'))).toThrow(/not JSON but HTML .*2087/);
    expect(() => readWhmEnvelope(ctx, res(404, 'Not Found'))).toThrow(PanelProtocolError);
    expect(() => readWhmEnvelope(ctx, res(502, ''))).toThrow(PanelUnavailableError);
    expect(readWhmEnvelope(ctx, res(200, '{"metadata":{"result":1,"reason":"OK","command":"x","version":1}}'))).toEqual({});
    expect(() => readWhmEnvelope(ctx, res(200, '{"metadata":{"result":0,"reason":"No way","command":"x","version":1}}'))).toThrow('WHM s: listaccts: the panel refused: No way');
  });
});

describe('concurrency', () => {
  it('never has more than maxConcurrency requests in flight', async () => {
    sim.knobs.latencyMs = 30;
    const c = newClient({ maxConcurrency: 3 });
    sim.resetCounters();
    await Promise.all([...Array.from({ length: 10 }, () => c.accountSummary('alice')), c.mailRoutes('alice'), c.mailRoutes('dave')]);
    expect(sim.callCount('accountsummary')).toBe(10);
    expect(sim.stats.maxInFlight).toBe(3);
  });

  it('defaults to 4', async () => {
    sim.knobs.latencyMs = 20;
    sim.resetCounters();
    await Promise.all(Array.from({ length: 9 }, () => client.listResellers()));
    expect(sim.stats.maxInFlight).toBe(4);
  });
});

describe('ACL table', () => {
  it('lists every WHM function the client calls, with an ACL', () => {
    const src = fs.readFileSync(new URL('./whmClient.ts', import.meta.url), 'utf8');
    const called = [...src.matchAll(/this\.call\('([a-z_]+)'/g)].map((m) => m[1]!);
    expect(new Set([...called, 'uapi_cpanel'])).toEqual(new Set(Object.keys(whmFunctions)));
    for (const info of Object.values(whmFunctions)) expect(info.acl).toMatch(/^[a-z-]+$/);
  });
});

const opensslAvailable = spawnSync('openssl', ['version']).status === 0;

describe.skipIf(!opensslAvailable)('TLS (self-signed certificate made with openssl; skipped when `openssl` is not on PATH)', () => {
  let dir: string;
  let cert: string;
  let key: string;
  let fingerprint: string;
  let tlsSim: SimulatedWhm;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'whm-tls-'));
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'), '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'],
      { stdio: 'ignore' },
    );
    cert = fs.readFileSync(path.join(dir, 'cert.pem'), 'utf8');
    key = fs.readFileSync(path.join(dir, 'key.pem'), 'utf8');
    fingerprint = new crypto.X509Certificate(cert).fingerprint256;
    tlsSim = await startSimulatedWhm({ seed: smallSeed(), token, tls: { key, cert } });
  });
  afterAll(async () => {
    await tlsSim?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const tlsClient = (opts: Partial<WhmClientOptions> = {}) => newClient({ url: tlsSim.url, retry: fastRetry, ...opts });

  it('verifies certificates by default: a self-signed one fails with PanelTlsError', async () => {
    tlsSim.resetCounters();
    const err = await tlsClient().listResellers().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PanelTlsError);
    expect(err).toBeInstanceOf(PanelUnavailableError);
    expect(err).toMatchObject({ retryable: false, fn: 'listresellers' });
    expect((err as Error).message).toMatch(/certificate/i);
    expect(tlsSim.stats.requests).toBe(0);
  });

  it('trusts the certificate given as "ca"', async () => {
    expect(await tlsClient({ ca: cert }).listResellers()).toEqual(['res1']);
  });

  it('accepts the pinned SHA-256 fingerprint, colon-separated or plain hex', async () => {
    expect(await tlsClient({ fingerprint }).listResellers()).toEqual(['res1']);
    expect(await tlsClient({ fingerprint: fingerprint.replace(/:/g, '').toLowerCase() }).listAccounts()).toHaveLength(5);
  });

  it('refuses a wrong fingerprint before sending anything', async () => {
    tlsSim.resetCounters();
    const wrong = normalizeFingerprint(crypto.createHash('sha256').update('another certificate').digest('hex'));
    const err = await tlsClient({ fingerprint: wrong }).listResellers().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PanelTlsError);
    expect(err).toMatchObject({ fn: 'listresellers', tlsCode: 'FINGERPRINT_MISMATCH', retryable: false });
    expect((err as Error).message).toContain(`does not match the pinned SHA-256 fingerprint ${wrong}`);
    expect(tlsSim.stats.requests).toBe(0);
  });

  it('rejects a malformed fingerprint at construction', () => {
    expect(() => tlsClient({ fingerprint: 'AB:CD' })).toThrow(/64 hex digits/);
  });
});
