import crypto from 'node:crypto';
import fs from 'node:fs';
import type { Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Knex } from 'knex';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toNumber } from '../../db/dialect';
import { makeTempRoot, perl, pluginDir, writePluginConfig } from '../../plugin/pluginTestKit';
import { buildTestApp, type TestApp } from '../../testing/appHarness';
import { engines, migratedTestDb, type TestDb } from '../../testing/testDb';
import { startSimulatedWhm, type SimulatedWhm } from '../simulated/server';
import type { SimAccount } from '../simulated/simState';
import { smallSeed } from '../simulated/testSeed';
import { WhmApiClient } from '../whm/whmClient';
import { accountSyncJob } from '../sync/accountSync';

/**
 * POST /hooks/panel through the real app: HMAC-signed events from the plugin's hook script change
 * accounts at once, start syncs, and are stored without their secrets. The last part runs the real
 * Perl hook script against the app listening on a port, so signer and verifier are proven to agree.
 */

const serverName = 'test1.example.test';
const whmToken = 'HOOKTESTTOKEN0123456789ABCDEF';
const hookSecret = 'hook-secret-shared-with-the-panel-0123456789';
const PASSWORD = 'Pl41ntext-Passw0rd-never-stored';
const hookScript = path.join(pluginDir, 'hooks/antispam-hook');

type Json = Record<string, unknown>;

function whostmgrEvent(event: string, data: Json): Json {
  return { context: { category: 'Whostmgr', event, stage: 'post', point: 'main' }, data, hook: { hook: '/usr/local/cpanel/3rdparty/antispam/bin/antispam-hook', exectype: 'script', stage: 'post' } };
}

function signature(secret: string, timestamp: string, body: string | Buffer): string {
  return `sha256=${crypto.createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex')}`;
}

function addSimAccount(sim: SimulatedWhm, user: string, domain: string): void {
  // The simulator has no createacct; its state's account map is private, and element access is TypeScript's way in for a test.
  const accounts: Map<string, SimAccount> = sim.state['accounts'];
  accounts.set(user, {
    user,
    domain,
    owner: 'res1',
    email: `owner@${domain}`,
    plan: 'starter',
    suspended: false,
    suspendReason: null,
    suspendLocked: false,
    suspendTime: null,
    outgoingMailSuspended: false,
    outgoingMailHold: false,
    startTime: 1_735_689_600,
    uid: 3000,
    domains: [{ name: domain, type: 'main' }],
    mailboxes: [],
    forwarders: [],
    domainForwarders: new Map(),
    defaultAddresses: new Map(),
    mx: new Map(),
  });
}

async function until<T>(what: string, probe: () => Promise<T | null | undefined>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe.each(engines)('panel hooks on %s', (engine) => {
  let t: TestDb;
  let db: Knex;
  let secretDir: string;
  let secretFile: string;
  let app: TestApp;
  let sim: SimulatedWhm;
  let whm: WhmApiClient;

  const status = async (username: string) => String(((await db('accounts').where({ username }).first('status')) as { status: string }).status);
  const eventCount = async () => toNumber(((await db('panel_events').count({ n: '*' }).first()) as { n: unknown }).n);
  const lastEvent = async () => (await db('panel_events').orderBy('id', 'desc').first()) as Record<string, unknown>;

  /** POSTs a body signed with the hook secret at the app's current time (override any part to break it). */
  function post(body: string, opts: { timestamp?: string | null; signature?: string | null; secret?: string; target?: TestApp } = {}) {
    const timestamp = opts.timestamp === undefined ? String(Math.floor((opts.target ?? app).clock.now().getTime() / 1000)) : opts.timestamp;
    const req = request((opts.target ?? app).app).post('/hooks/panel').set('Content-Type', 'application/json');
    if (timestamp !== null) req.set('X-Antispam-Timestamp', timestamp);
    const sig = opts.signature === undefined ? signature(opts.secret ?? hookSecret, timestamp ?? '', body) : opts.signature;
    if (sig !== null) req.set('X-Antispam-Signature', sig);
    return req.send(body);
  }

  beforeAll(async () => {
    t = await migratedTestDb(engine);
    db = t.db;
    secretDir = fs.mkdtempSync(path.join(os.tmpdir(), 'antispam-hookkey-'));
    secretFile = path.join(secretDir, 'hook.key');
    fs.writeFileSync(secretFile, `${hookSecret}\n`, { mode: 0o600 });
    app = buildTestApp(db, { env: { PANEL_HOOK_SECRET_FILE: secretFile } });
    expect(app.config.panelHookSecretFile).toBe(secretFile);
    sim = await startSimulatedWhm({ seed: smallSeed(), server: serverName, token: whmToken });
    whm = new WhmApiClient({ url: sim.url, token: whmToken, serverName });
    await app.container.servers.register(serverName, { url: sim.url, user: 'root', token: whmToken, source: 'simulated' });
    expect((await app.container.accountSync.syncAll('startup')).map((r) => r.status)).toEqual(['ok']);
    expect(await status('alice')).toBe('active');
  });

  afterAll(async () => {
    whm?.close();
    await sim?.close();
    await t?.cleanup();
    fs.rmSync(secretDir, { recursive: true, force: true });
  });

  it('Accounts::suspendacct and unsuspendacct change the account at once (202, applied)', async () => {
    await whm.suspendAccount('alice', 'Phishing');
    let res = await post(JSON.stringify(whostmgrEvent('Accounts::suspendacct', { user: 'alice', reason: 'Phishing', disallowun: 0 })));
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ id: expect.any(Number), status: 'applied', result: 'alice is now suspended' });
    expect(await status('alice')).toBe('suspended');
    expect(await lastEvent()).toMatchObject({ category: 'Whostmgr', event: 'Accounts::suspendacct', username: 'alice', status: 'applied', result: 'alice is now suspended' });

    await whm.unsuspendAccount('alice');
    res = await post(JSON.stringify(whostmgrEvent('Accounts::unsuspendacct', { user: 'ALICE' })));
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ status: 'applied', result: 'alice is now active' });
    expect(await status('alice')).toBe('active');
    // Recorded as WHM's doing in the audit log; nothing was queued back to the panel.
    expect(await db('audit_log').where('actor_login', 'whm').orderBy('seq').pluck('action')).toEqual(['whm.suspendacct', 'whm.unsuspendacct']);
    expect(await db('panel_actions').count({ n: '*' }).first()).toMatchObject({ n: 0 });
  });

  it('Accounts::Remove marks the account terminated (its row and domains stay)', async () => {
    const before = (await db('accounts').where({ username: 'carol' }).first('id')) as { id: unknown };
    const domainsBefore = await db('domains').where('account_id', toNumber(before.id)).select('name');
    await whm.terminateAccount('carol');
    const res = await post(JSON.stringify(whostmgrEvent('Accounts::Remove', { user: 'carol', keepdns: 0 })));
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ status: 'applied', result: 'carol is now terminated' });
    expect(await status('carol')).toBe('terminated');
    expect(await db('domains').where('account_id', toNumber(before.id)).select('name')).toEqual(domainsBefore);

    // Hooks are not ordered: a late suspend/unsuspend event for the removed account must not bring it back.
    for (const event of ['Accounts::unsuspendacct', 'Accounts::suspendacct']) {
      const late = await post(JSON.stringify(whostmgrEvent(event, { user: 'carol' })));
      expect(late.status).toBe(202);
      expect(late.body).toMatchObject({ status: 'unmatched' });
      expect(await status('carol')).toBe('terminated');
    }
  });

  it('an event for an account the app does not know yet is recorded as unmatched and changes nothing', async () => {
    const accountsBefore = await db('accounts').orderBy('id');
    const res = await post(JSON.stringify(whostmgrEvent('Accounts::suspendacct', { user: 'stranger' })));
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ status: 'unmatched' });
    expect(await db('accounts').orderBy('id')).toEqual(accountsBefore);
  });

  it('Accounts::Create is stored without the password and starts a sync that brings the new account in', async () => {
    addSimAccount(sim, 'frank', 'frank.test');
    const runsBefore = toNumber(((await db('job_runs').where({ job: accountSyncJob, trigger: 'hook' }).count({ n: '*' }).first()) as { n: unknown }).n);
    expect(runsBefore).toBe(0);
    const body = JSON.stringify(whostmgrEvent('Accounts::Create', { user: 'frank', domain: 'frank.test', owner: 'res1', plan: 'starter', contactemail: 'owner@frank.test', pass: PASSWORD }));
    const res = await post(body);
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ status: 'sync_started' });

    const stored = (await db('panel_events').where('id', res.body.id).first()) as Record<string, unknown>;
    expect(stored).toMatchObject({ event: 'Accounts::Create', username: 'frank', status: 'sync_started' });
    expect(String(stored.payload)).not.toContain(PASSWORD);
    const payload = JSON.parse(String(stored.payload)) as { data: Json; context: Json };
    expect(payload.data).toMatchObject({ user: 'frank', domain: 'frank.test', pass: '[removed]' });
    expect(payload.context).toMatchObject({ category: 'Whostmgr', event: 'Accounts::Create' });

    // The sync runs in the background: wait for its run to finish (it also keeps the test from ending mid-sync).
    const run = await until('the hook-triggered sync to finish', async () => {
      const row = (await db('job_runs').where({ job: accountSyncJob, trigger: 'hook' }).whereNot('status', 'running').first()) as Record<string, unknown> | undefined;
      return row;
    });
    expect(run).toMatchObject({ subject: serverName, status: 'ok' });
    expect(JSON.parse(String(run.counts))).toMatchObject({ accountsAdded: 1 });
    expect(await status('frank')).toBe('active');
    // The sync agrees with what the earlier hooks applied (WHM did the same).
    expect(await status('carol')).toBe('terminated');
    expect(await status('alice')).toBe('active');
  });

  it('UAPI::Email::add_pop is recorded with its password stripped (nested under args)', async () => {
    const body = JSON.stringify({
      context: { category: 'Cpanel', event: 'UAPI::Email::add_pop', stage: 'post' },
      data: { user: 'alice', args: { email: 'sales', domain: 'alice.test', password: PASSWORD, quota: 0 }, output: [{ result: 1 }] },
    });
    const res = await post(body);
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ status: 'recorded', result: 'recorded' });
    const stored = await lastEvent();
    expect(stored).toMatchObject({ category: 'Cpanel', event: 'UAPI::Email::add_pop', username: 'alice', status: 'recorded' });
    expect(String(stored.payload)).not.toContain(PASSWORD);
    expect((JSON.parse(String(stored.payload)) as { data: { args: Json } }).data.args).toEqual({ email: 'sales', domain: 'alice.test', password: '[removed]', quota: 0 });
  });

  it('refuses unsigned, wrongly signed, tampered and stale events with 401 invalid_signature, storing and changing nothing', async () => {
    const body = JSON.stringify(whostmgrEvent('Accounts::suspendacct', { user: 'dave' }));
    const now = Math.floor(app.clock.now().getTime() / 1000);
    const events = await eventCount();
    const cases: Array<[string, Parameters<typeof post>[1], string?]> = [
      ['wrong secret', { secret: 'another-secret-of-enough-length' }],
      ['tampered body', { signature: signature(hookSecret, String(now), body.replace('dave', 'bob')) }],
      ['stale timestamp (301 s old)', { timestamp: String(now - 301) }],
      ['timestamp 301 s in the future', { timestamp: String(now + 301) }],
      ['signature made for another timestamp', { timestamp: String(now), signature: signature(hookSecret, String(now - 1), body) }],
      ['missing timestamp header', { timestamp: null }],
      ['missing signature header', { signature: null }],
      ['malformed signature', { signature: 'sha256=abc' }],
      ['signature without the sha256= prefix', { signature: signature(hookSecret, String(now), body).slice('sha256='.length) }],
    ];
    for (const [label, opts] of cases) {
      const res = await post(body, opts);
      expect([label, res.status, res.body?.error?.code]).toEqual([label, 401, 'invalid_signature']);
      expect(res.headers['content-type']).toMatch(/application\/json/);
    }
    expect(await eventCount()).toBe(events);
    expect(await status('dave')).toBe('active');
    // The limit itself is accepted: 300 s old is still fresh.
    const res = await post(body, { timestamp: String(now - 300) });
    expect(res.status).toBe(202);
    expect(await status('dave')).toBe('suspended');
    await whm.suspendAccount('dave', 'hook test'); // keep WHM in agreement for later syncs
  });

  it('a correctly signed body that is not JSON is 400 invalid_json, and nothing is stored', async () => {
    const events = await eventCount();
    const res = await post('user=alice&event=suspendacct');
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'invalid_json' });
    expect(await eventCount()).toBe(events);
  });

  it('without PANEL_HOOK_SECRET_FILE the endpoint answers 503 hooks_not_configured and stores nothing', async () => {
    const bare = buildTestApp(db);
    expect(bare.config.panelHookSecretFile).toBeUndefined();
    const events = await eventCount();
    const res = await post(JSON.stringify(whostmgrEvent('Accounts::suspendacct', { user: 'bob' })), { target: bare });
    expect(res.status).toBe(503);
    expect(res.body.error).toMatchObject({ code: 'hooks_not_configured' });
    expect(await eventCount()).toBe(events);
  });

  describe('the real plugin hook script (Perl) against the app on a port', () => {
    let server: HttpServer;
    let appUrl: string;
    let root: string;
    let cleanupRoot: () => void;

    beforeAll(async () => {
      server = await new Promise<HttpServer>((resolve, reject) => {
        const s = app.app.listen(0, '127.0.0.1', () => resolve(s));
        s.on('error', reject);
      });
      appUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      ({ root, cleanup: cleanupRoot } = makeTempRoot('antispam-hook-e2e-'));
    });
    afterAll(async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      cleanupRoot?.();
    });

    const failureLog = () => {
      const file = path.join(root, 'var/log/antispam-plugin/hook-failures.log');
      return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
    };

    it('signs the event so the app accepts it: the account is suspended', async () => {
      writePluginConfig(root, { appUrl, ssoSecret: 'sso-secret-not-used-here-0123456789', hookSecret });
      await whm.unsuspendAccount('dave');
      await post(JSON.stringify(whostmgrEvent('Accounts::unsuspendacct', { user: 'dave' })));
      expect(await status('dave')).toBe('active');
      await whm.suspendAccount('dave', 'Spam run');
      const events = await eventCount();
      // As cPanel writes it: pretty-printed, non-ASCII text, trailing newline; the body must reach the app byte for byte.
      const input = JSON.stringify(whostmgrEvent('Accounts::suspendacct', { user: 'dave', reason: 'Spam run – Bücher', disallowun: 0 }), null, 2) + '\n';
      const res = await perl(hookScript, [], { env: { ANTISPAM_ROOT: root }, input });
      expect(res.code).toBe(0);
      expect(res.stdout.trim()).toBe('1 antispam: Whostmgr::Accounts::suspendacct stage=post forwarded');
      expect(failureLog()).toBe('');
      expect(await eventCount()).toBe(events + 1);
      expect(await lastEvent()).toMatchObject({ event: 'Accounts::suspendacct', username: 'dave', status: 'applied' });
      expect(await status('dave')).toBe('suspended');
      expect(JSON.parse(String((await lastEvent()).payload))).toMatchObject({ data: { reason: 'Spam run – Bücher' } });
    });

    it('with a hook.key that differs from the app secret the app refuses it and the script logs the failure (exit 0)', async () => {
      writePluginConfig(root, { appUrl, ssoSecret: 'sso-secret-not-used-here-0123456789', hookSecret: 'not-the-secret-the-app-has-0123456789' });
      const events = await eventCount();
      const res = await perl(hookScript, [], { env: { ANTISPAM_ROOT: root }, input: JSON.stringify(whostmgrEvent('Accounts::unsuspendacct', { user: 'dave' })) });
      expect(res.code).toBe(0);
      expect(res.stdout).toMatch(/^1 antispam: app unreachable, sync will catch up \(HTTP 401/);
      expect(failureLog()).toMatch(/event=Whostmgr::Accounts::unsuspendacct stage=post user=dave error="HTTP 401/);
      expect(await eventCount()).toBe(events);
      expect(await status('dave')).toBe('suspended');
    });
  });
});
