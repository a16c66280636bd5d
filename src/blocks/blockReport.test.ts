import crypto from 'node:crypto';
import fs from 'node:fs';
import type { Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempRoot, perl, pluginDir, writePluginConfig } from '../plugin/pluginTestKit';
import { buildHarness, buildTestApp, type Harness } from '../testing/appHarness';
import { engines } from '../testing/testDb';
import { CsfStandIn } from './testing/csfStandIn';

/**
 * CSF's BLOCK_REPORT end to end: the real plugin script (Perl), run with lfd's eight positional
 * arguments, signs and posts them to the app listening on a port; the app records the block with
 * its evidence, as already applied by lfd (csf is not run again).
 */

const script = path.join(pluginDir, 'bin/csf-block-report');
const hookSecret = 'hook-secret-shared-with-lfd-0123456789abcdef';

const sshdLogs = [
  'Nov 28 09:58:57 cp1 sshd[4121]: Failed password for root from 203.0.113.45 port 51122 ssh2',
  'Nov 28 09:58:59 cp1 sshd[4121]: Failed password for root from 203.0.113.45 port 51122 ssh2',
  'Nov 28 09:59:03 cp1 sshd[4125]: Failed password for invalid user admin from 203.0.113.45 port 51130 ssh2',
  'Nov 28 09:59:06 cp1 sshd[4125]: Failed password for invalid user oracle from 203.0.113.45 port 51130 ssh2',
  'Nov 28 09:59:09 cp1 sshd[4130]: Failed password for root from 203.0.113.45 port 51142 ssh2',
];

/** lfd's arguments: IP, ports, permanent, direction, TTL, message, log lines, trigger. */
function lfdArgs(over: Partial<{ ip: string; ports: string; permanent: string; direction: string; ttl: string; message: string; logs: string; trigger: string }> = {}): string[] {
  const a = {
    ip: '203.0.113.45',
    ports: '22',
    permanent: '0',
    direction: 'in',
    ttl: '3600',
    message: '(sshd) Failed SSH login from 203.0.113.45 (XX/Nowhere/-): 5 in the last 3600 secs',
    logs: sshdLogs.join('\n') + '\n',
    trigger: 'LF_SSHD',
    ...over,
  };
  return [a.ip, a.ports, a.permanent, a.direction, a.ttl, a.message, a.logs, a.trigger];
}

describe.each(engines)('CSF BLOCK_REPORT on %s', { timeout: 120_000 }, (engine) => {
  let h: Harness;
  let csf: CsfStandIn;
  let secretDir: string;
  let secretFile: string;
  let server: HttpServer;
  let appUrl: string;
  let root: string;
  let cleanupRoot: () => void;

  const report = (args: string[]) => perl(script, args, { env: { ANTISPAM_ROOT: root } });
  const failureLog = () => {
    const file = path.join(root, 'var/log/antispam-plugin/hook-failures.log');
    return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  };
  const blocksOf = async (address: string) => (await h.db('ip_blocks').where({ address }).orderBy('id')) as Array<Record<string, unknown>>;

  beforeAll(async () => {
    csf = CsfStandIn.create();
    secretDir = fs.mkdtempSync(path.join(os.tmpdir(), 'antispam-blockreport-'));
    secretFile = path.join(secretDir, 'hook.key');
    fs.writeFileSync(secretFile, `${hookSecret}\n`, { mode: 0o600 });
    h = await buildHarness(engine, { env: { FIREWALL: 'csf', CSF_PATH: csf.path, CSF_CONF: csf.confPath, PANEL_HOOK_SECRET_FILE: secretFile } });
    server = await new Promise<HttpServer>((resolve, reject) => {
      const s = h.app.listen(0, '127.0.0.1', () => resolve(s));
      s.on('error', reject);
    });
    appUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    ({ root, cleanup: cleanupRoot } = makeTempRoot('antispam-blockreport-root-'));
    writePluginConfig(root, { appUrl, ssoSecret: 'sso-secret-not-used-here-0123456789', hookSecret });
  });
  afterAll(async () => {
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    await h?.cleanup();
    csf?.cleanup();
    cleanupRoot?.();
    if (secretDir) fs.rmSync(secretDir, { recursive: true, force: true });
  });

  it('records lfd\'s login-failure block with its log lines as evidence, as synced, without running csf', async () => {
    csf.clearCalls();
    const res = await report(lfdArgs());
    expect(res.stderr).toBe('');
    expect(res.stdout).toBe('antispam: block of 203.0.113.45 reported\n');
    expect(res.code).toBe(0);
    const [row] = await blocksOf('203.0.113.45');
    expect(row).toMatchObject({ reason: 'login_failure', trigger: 'LF_SSHD', created_by: 'lfd', status: 'active', sync_state: 'synced' });
    const { block, history } = await h.container.blocks.get(h.f.actors.admin, Number(row!.id));
    expect(block.reasonText).toBe('(sshd) Failed SSH login from 203.0.113.45 (XX/Nowhere/-): 5 in the last 3600 secs');
    expect(block.expiresAt?.getTime()).toBe(h.clock.now().getTime() + 3600_000);
    expect(block.syncedAt).not.toBeNull();
    expect(block.evidence).toMatchObject({ logLines: sshdLogs, count: 5, ports: ['22'], direction: 'in', reportedBy: os.hostname() });
    expect(block.evidence.firstSeen).toBe(new Date(h.clock.now().getTime() - 3600_000).toISOString());
    expect(history.map((e) => [e.action, e.actor, e.data?.appliedBy])).toEqual([['ip_block.add', 'lfd', 'lfd']]);
    expect(csf.calls()).toEqual([]);
    expect(failureLog()).toBe('');

    const page = await request(h.app).get(`/api/v1/blocks/${block.id}`).set('Authorization', `Bearer ${(await h.container.users.issueToken(h.f.users.admin, 'report test')).token}`);
    expect(page.body.evidence.logLines).toEqual(sshdLogs);
  });

  it('maps triggers (PS_LIMIT → port scan, permanent), and a second report of a blocked address extends its block with the new lines', async () => {
    const scan = await report(lfdArgs({ ip: '198.51.100.99', ports: '*', permanent: '1', ttl: '0', trigger: 'PS_LIMIT', message: '*Port Scan* detected from 198.51.100.99 (XX/Nowhere/-). 11 hits in the last 46 seconds', logs: 'Nov 28 10:00:00 cp1 kernel: Firewall: *TCP_IN Blocked* IN=eth0 SRC=198.51.100.99 DPT=23\n' }));
    expect(scan.code).toBe(0);
    const [row] = await blocksOf('198.51.100.99');
    expect(row).toMatchObject({ reason: 'port_scan', trigger: 'PS_LIMIT', expires_at: null, sync_state: 'synced' });

    h.clock.advance(60_000);
    const again = await report(lfdArgs({ logs: 'Nov 28 10:05:00 cp1 sshd[5000]: Failed password for root from 203.0.113.45 port 52000 ssh2\n', message: '(sshd) Failed SSH login from 203.0.113.45: 1 in the last 60 secs' }));
    expect(again.code).toBe(0);
    const rows = await blocksOf('203.0.113.45');
    expect(rows).toHaveLength(1);
    const { block } = await h.container.blocks.get(h.f.actors.admin, Number(rows[0]!.id));
    expect(block.evidence.logLines).toHaveLength(6);
    expect(block.evidence.count).toBe(6);
    expect(block.evidence.blockedAt).toHaveLength(2);
    expect(block.syncState).toBe('synced');
    expect(csf.calls()).toEqual([]);
  });

  it('a repeat offender lfd only blocked temporarily becomes permanent here, and that is applied to csf (-d)', async () => {
    const ip = '192.0.2.222';
    // The script signs with the real time and the app allows 5 minutes of skew: short blocks, and the clock put back afterwards.
    for (let i = 0; i < 3; i++) {
      expect((await report(lfdArgs({ ip, ttl: '60' }))).code).toBe(0);
      h.clock.advance(61_000);
      await h.container.blocks.expireDue();
    }
    h.clock.advance(-3 * 61_000);
    csf.clearCalls();
    expect((await report(lfdArgs({ ip, ttl: '60' }))).code).toBe(0);
    const rows = await blocksOf(ip);
    expect(rows.map((r) => r.status)).toEqual(['expired', 'expired', 'expired', 'active']);
    expect(rows[3]).toMatchObject({ expires_at: null, sync_state: 'synced' });
    expect(csf.calls()).toEqual([['-d', ip, `antispam #${rows[3]!.id} login failures: (sshd) Failed SSH login from 203.0.113.45 (XX/Nowhere/ ): 5 in the last 3600 secs`]]);
  });

  it('a report signed with another key is refused: the script exits 1 and logs the address and trigger, never the log lines', async () => {
    writePluginConfig(root, { appUrl, ssoSecret: 'sso-secret-not-used-here-0123456789', hookSecret: 'not-the-secret-the-app-has-0123456789' });
    try {
      const res = await report(lfdArgs({ ip: '192.0.2.199' }));
      expect(res.code).toBe(1);
      expect(res.stdout).toMatch(/^antispam: block report not delivered \(HTTP 401/);
      const log = failureLog();
      expect(log).toMatch(/event=CSF::BLOCK_REPORT ip=192\.0\.2\.199 trigger=LF_SSHD error="HTTP 401/);
      expect(log).not.toContain('Failed password');
      expect(await blocksOf('192.0.2.199')).toEqual([]);
    } finally {
      writePluginConfig(root, { appUrl, ssoSecret: 'sso-secret-not-used-here-0123456789', hookSecret });
    }
  });

  it('the endpoint refuses unsigned or stale posts (401), bad reports (422 naming the field), and answers 503 without a hook secret', async () => {
    const body = JSON.stringify({ ip: '192.0.2.198', ports: '22', permanent: '0', direction: 'in', ttl: '3600', message: 'm', logs: '', trigger: 'LF_SSHD', host: 'x' });
    const sign = (b: string, ts: string) => `sha256=${crypto.createHmac('sha256', hookSecret).update(`${ts}.`).update(b).digest('hex')}`;
    const now = String(Math.floor(h.clock.now().getTime() / 1000));
    const post = (b: string, ts: string | null, sig: string | null, app = h.app) => {
      const r = request(app).post('/hooks/csf-block').set('Content-Type', 'application/json');
      if (ts) r.set('X-Antispam-Timestamp', ts);
      if (sig) r.set('X-Antispam-Signature', sig);
      return r.send(b);
    };
    expect((await post(body, null, null)).body.error.code).toBe('invalid_signature');
    expect((await post(body, now, sign(body.replace('22', '23'), now))).status).toBe(401);
    const stale = String(Number(now) - 3600);
    expect((await post(body, stale, sign(body, stale))).status).toBe(401);
    const unsafe = body.replace('192.0.2.198', '192.0.2.198;reboot');
    const refused = await post(unsafe, now, sign(unsafe, now));
    expect(refused.status).toBe(422);
    expect(refused.body.error.details.fields).toEqual({ address: expect.stringContaining('cannot be part of an address') });
    const badTrigger = body.replace('LF_SSHD', 'LF SSHD');
    expect((await post(badTrigger, now, sign(badTrigger, now))).body.error.details.fields).toHaveProperty('trigger');
    expect(await blocksOf('192.0.2.198')).toEqual([]);
    const ok = await post(body, now, sign(body, now));
    expect(ok.status).toBe(202);
    expect(ok.body).toMatchObject({ address: '192.0.2.198', outcome: 'created', reason: 'login_failure', syncState: 'synced' });

    const unconfigured = buildTestApp(h.db, { clock: h.clock });
    const res = await post(body, now, sign(body, now), unconfigured.app);
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('hooks_not_configured');
  });
});
