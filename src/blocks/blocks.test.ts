import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/load';
import { toNumber } from '../db/dialect';
import { buildHarness, buildTestApp, type Harness } from '../testing/appHarness';
import { engines } from '../testing/testDb';
import type { AddBlockInput } from './blockService';
import { CsfStandIn } from './testing/csfStandIn';

const hour = 3_600_000;

/** The block list's rules on a real database, applied through CSF (a stand-in csf executable). */
describe.each(engines)('IP block list on %s', { timeout: 120_000 }, (engine) => {
  let h: Harness;
  let csf: CsfStandIn;
  let seq = 0;
  const admin = () => h.f.actors.admin;
  const svc = () => h.container.blocks;
  /** A fresh documentation-range address per test, so tests do not see each other's blocks. */
  const nextIp = () => `198.51.100.${++seq}`;
  const temp = (address: string, ttlSeconds = 3600, extra: Partial<AddBlockInput> = {}): AddBlockInput => ({ address, reason: 'manual', reasonText: 'test block', expiry: { permanent: false, ttlSeconds }, ...extra });
  const audit = async (id: number) => (await h.db('audit_log').where({ subject_type: 'ip_block', subject_id: String(id) }).orderBy('seq')) as Array<{ action: string; actor_login: string; data: string }>;
  const rowsOf = async (address: string) => (await h.db('ip_blocks').where({ address }).orderBy('id')) as Array<Record<string, unknown>>;

  beforeAll(async () => {
    csf = CsfStandIn.create();
    h = await buildHarness(engine, { env: { FIREWALL: 'csf', CSF_PATH: csf.path, CSF_CONF: csf.confPath } });
  });
  afterAll(async () => {
    await h?.cleanup();
    csf?.cleanup();
  });

  it('configuration: FIREWALL none|csf, CSF_PATH and CSF_CONF absolute, repeat rule in range; bad values are named', () => {
    expect(h.config.blocks).toMatchObject({ firewall: 'csf', csfPath: csf.path, csfConf: csf.confPath, repeatCount: 4, repeatHours: 24 });
    expect(() => loadConfig({ FIREWALL: 'ufw' })).toThrow(/FIREWALL expects none \(blocks are recorded only\) or csf \(got "ufw"\)/);
    expect(() => loadConfig({ CSF_PATH: 'csf' })).toThrow(/CSF_PATH expects the absolute path of the csf command/);
    expect(() => loadConfig({ CSF_PATH: '/usr/sbin/csf; reboot' })).toThrow(/CSF_PATH expects/);
    expect(() => loadConfig({ BLOCK_REPEAT_COUNT: '1' })).toThrow(/BLOCK_REPEAT_COUNT expects a whole number from 2 to 100/);
    expect(() => loadConfig({ BLOCK_SYNC_SCHEDULE: 'often' })).toThrow(/BLOCK_SYNC_SCHEDULE expects a cron expression/);
    expect(loadConfig({ BLOCK_REPEAT_COUNT: '3', BLOCK_REPEAT_HOURS: '48' }).blocks).toMatchObject({ repeatCount: 3, repeatHours: 48 });
  });

  it('adds a block in canonical form, applies it through csf after the commit, audits it', async () => {
    csf.clearCalls();
    const outcome = await svc().add(admin(), { address: '203.0.113.77/24', reason: 'hacking', reasonText: 'Probing wp-login.php', expiry: { permanent: false, ttlSeconds: 7200 }, serverId: h.f.servers.s1 });
    const b = outcome.block;
    expect(outcome.created).toBe(true);
    expect(b).toMatchObject({ address: '203.0.113.0/24', family: 4, reason: 'hacking', reasonText: 'Probing wp-login.php', status: 'active', syncState: 'synced', syncError: null, createdBy: admin().login, serverName: 'srv1.example.net' });
    expect(b.expiresAt?.getTime()).toBe(h.clock.now().getTime() + 7200_000);
    expect(b.syncedAt).not.toBeNull();
    expect(csf.calls()).toEqual([['-td', '203.0.113.0/24', '7200', `antispam #${b.id} hacking attempt: Probing wp login.php`]]);
    const entries = await audit(b.id);
    expect(entries.map((e) => [e.action, e.actor_login])).toEqual([['ip_block.add', admin().login]]);
    expect(JSON.parse(entries[0]!.data)).toMatchObject({ address: '203.0.113.0/24', outcome: 'created', reason: 'hacking', permanent: false });
    const { block, history } = await svc().get(admin(), b.id);
    expect(block.evidence.blockedAt).toEqual([h.clock.now().toISOString()]);
    expect(history.map((x) => x.action)).toEqual(['ip_block.add']);
  });

  it('refuses bad input with the field named, and non-admins', async () => {
    await expect(svc().add(admin(), temp('192.0.2.1; reboot'))).rejects.toMatchObject({ status: 422, fields: { address: expect.stringContaining('cannot be part of an address') as unknown as string } });
    await expect(svc().add(admin(), { ...temp(nextIp()), reason: 'bored' as 'manual' })).rejects.toMatchObject({ status: 422, fields: { reason: expect.stringContaining('expects one of') as unknown as string } });
    await expect(svc().add(admin(), temp(nextIp(), 5))).rejects.toMatchObject({ status: 422, fields: { ttl: expect.any(String) as unknown as string } });
    await expect(svc().add(admin(), { ...temp(nextIp()), serverId: 999_999 })).rejects.toMatchObject({ status: 422, fields: { server: 'has no server #999999' } });
    await expect(svc().add(admin(), { ...temp(nextIp()), reasonText: 'x'.repeat(501) })).rejects.toMatchObject({ status: 422, fields: { reasonText: expect.stringContaining('500') as unknown as string } });
    for (const who of [h.f.actors.resellerA, h.f.actors.customerA1]) {
      await expect(svc().add(who, temp(nextIp()))).rejects.toMatchObject({ status: 403 });
      await expect(svc().list(who, {}, { limit: 10 })).rejects.toMatchObject({ status: 403 });
    }
  });

  it('an address that is already blocked is extended, never duplicated; csf gets the new TTL (-tr, -td)', async () => {
    const ip = nextIp();
    const first = await svc().add(admin(), temp(ip, 3600));
    h.clock.advance(600_000);
    csf.clearCalls();
    const again = await svc().add(admin(), temp(ip, 86_400, { reasonText: 'seen again' }));
    expect(again.created).toBe(false);
    expect(again.block.id).toBe(first.block.id);
    expect(again.block.expiresAt?.getTime()).toBe(h.clock.now().getTime() + 86_400_000);
    expect(again.block.reasonText).toBe('seen again');
    expect(again.block.syncState).toBe('synced');
    expect(csf.calls()).toEqual([
      ['-td', ip, '86400', `antispam #${first.block.id} manual: seen again`],
      ['-tr', ip],
      ['-td', ip, '86400', `antispam #${first.block.id} manual: seen again`],
    ]);
    // A shorter block asked for later keeps the longer one (and needs no firewall change).
    csf.clearCalls();
    const shorter = await svc().add(admin(), temp(ip, 600));
    expect(shorter.block.expiresAt?.getTime()).toBe(again.block.expiresAt?.getTime());
    expect(csf.calls()).toEqual([]);
    expect(await rowsOf(ip)).toHaveLength(1);
    expect((await audit(first.block.id)).map((e) => JSON.parse(e.data).outcome)).toEqual(['created', 'extended', 'extended']);
    // Permanent wins over temporary: -d.
    csf.clearCalls();
    const perm = await svc().add(admin(), { ...temp(ip), expiry: { permanent: true } });
    expect(perm.block.expiresAt).toBeNull();
    expect(csf.calls()).toEqual([['-d', ip, `antispam #${first.block.id} manual: test block`]]);
  });

  it('concurrent adds of one new address make one block', async () => {
    const ip = nextIp();
    const outcomes = await Promise.all(Array.from({ length: 5 }, () => svc().add(admin(), temp(ip))));
    expect(new Set(outcomes.map((o) => o.block.id)).size).toBe(1);
    expect(outcomes.filter((o) => o.created)).toHaveLength(1);
    expect((await rowsOf(ip)).filter((r) => r.status === 'active')).toHaveLength(1);
  });

  it(`repeat offender: the ${4}th block within 24 hours is permanent and says why; older blocks do not count`, async () => {
    const ip = nextIp();
    const ids: number[] = [];
    for (let i = 1; i <= 3; i++) {
      const o = await svc().add(admin(), temp(ip, 3600));
      expect(o.permanentBecause).toBeNull();
      expect(o.block.expiresAt).not.toBeNull();
      ids.push(o.block.id);
      h.clock.advance(2 * hour);
      await svc().expireDue();
    }
    csf.clearCalls();
    const fourth = await svc().add(admin(), temp(ip, 3600));
    expect(fourth.created).toBe(true);
    expect(fourth.block.expiresAt).toBeNull();
    expect(fourth.permanentBecause).toBe('repeat offender: blocked 4 times within 24 hours (BLOCK_REPEAT_COUNT=4, BLOCK_REPEAT_HOURS=24)');
    expect(fourth.block.evidence.permanentBecause).toBe(fourth.permanentBecause);
    expect(csf.calls()).toEqual([['-d', ip, `antispam #${fourth.block.id} manual: test block`]]);
    const data = JSON.parse((await audit(fourth.block.id))[0]!.data);
    expect(data).toMatchObject({ permanent: true, permanentBecause: fourth.permanentBecause });
    expect((await rowsOf(ip)).map((r) => r.status)).toEqual(['expired', 'expired', 'expired', 'active']);

    // Another address blocked 3 times, then a pause longer than the window: the next block is temporary again.
    const other = nextIp();
    for (let i = 0; i < 3; i++) {
      await svc().add(admin(), temp(other, 3600));
      h.clock.advance(2 * hour);
      await svc().expireDue();
    }
    h.clock.advance(25 * hour);
    const later = await svc().add(admin(), temp(other, 3600));
    expect(later.permanentBecause).toBeNull();
    expect(later.block.expiresAt).not.toBeNull();
  });

  it('a re-block while still blocked counts toward the repeat rule too', async () => {
    const ip = nextIp();
    for (let i = 0; i < 3; i++) await svc().add(admin(), temp(ip, 3600));
    const fourth = await svc().add(admin(), temp(ip, 3600));
    expect(fourth.created).toBe(false);
    expect(fourth.block.expiresAt).toBeNull();
    expect(fourth.block.evidence.blockedAt).toHaveLength(4);
    expect(fourth.permanentBecause).toMatch(/^repeat offender: blocked 4 times/);
  });

  it('lifting needs a reason, removes the block from csf (-tr, or -dr then -tr), audits, and cannot happen twice', async () => {
    const tempBlock = (await svc().add(admin(), temp(nextIp()))).block;
    const permBlock = (await svc().add(admin(), { ...temp('2001:db8:77::/48'), expiry: { permanent: true } })).block;
    await expect(svc().lift(admin(), tempBlock.id, ' no ')).rejects.toMatchObject({ status: 422, fields: { reason: expect.stringContaining('at least 5 characters') as unknown as string } });
    await expect(svc().lift(h.f.actors.resellerA, tempBlock.id, 'not mine to lift')).rejects.toMatchObject({ status: 403 });
    await expect(svc().lift(admin(), 999_999, 'does not exist')).rejects.toMatchObject({ status: 404 });
    csf.clearCalls();
    const lifted = await svc().lift(admin(), tempBlock.id, 'Customer office IP, ticket 4711');
    expect(lifted.block).toMatchObject({ status: 'lifted', liftedBy: admin().login, liftReason: 'Customer office IP, ticket 4711', syncState: 'synced' });
    expect(lifted.block.liftedAt?.getTime()).toBe(h.clock.now().getTime());
    await svc().lift(admin(), permBlock.id, 'False positive from the scanner');
    expect(csf.calls()).toEqual([['-tr', tempBlock.address], ['-dr', '2001:db8:77::/48'], ['-tr', '2001:db8:77::/48']]);
    await expect(svc().lift(admin(), tempBlock.id, 'Lifting it twice over')).rejects.toMatchObject({ status: 409 });
    const entries = await audit(tempBlock.id);
    expect(entries.map((e) => e.action)).toEqual(['ip_block.add', 'ip_block.lift']);
    expect(JSON.parse(entries[1]!.data)).toMatchObject({ address: tempBlock.address, reason: 'Customer office IP, ticket 4711' });
    // After a lift the address can be blocked again: a new record.
    expect((await svc().add(admin(), temp(tempBlock.address))).created).toBe(true);
  });

  it('the expiry job (recorded as a job run) expires due blocks, removes them from csf and audits it', async () => {
    const due = (await svc().add(admin(), temp(nextIp(), 60))).block;
    const notYet = (await svc().add(admin(), temp(nextIp(), 86_400))).block;
    h.clock.advance(61_000);
    csf.clearCalls();
    const result = await h.container.blockMaintenance('manual');
    expect(result.ran).toBe(true);
    if (!result.ran) return;
    expect(result.run).toMatchObject({ job: 'ip-blocks', status: 'ok' });
    expect(result.run.counts).toMatchObject({ failed: 0 });
    expect(result.run.counts!.expired).toBeGreaterThanOrEqual(1);
    expect(csf.calls()).toContainEqual(['-tr', due.address]);
    expect((await svc().get(admin(), due.id)).block).toMatchObject({ status: 'expired', syncState: 'synced' });
    expect((await svc().get(admin(), notYet.id)).block.status).toBe('active');
    const entries = await audit(due.id);
    expect(entries.map((e) => [e.action, e.actor_login])).toEqual([['ip_block.add', admin().login], ['ip_block.expire', 'system']]);
    // A second run finds nothing more to expire.
    const again = await h.container.blockMaintenance('manual');
    expect(again.ran && again.run.counts).toMatchObject({ expired: 0 });
  });

  it('a failed csf run is recorded (sync_state failed, its output) and retried by the job until it works', async () => {
    csf.failNext('csf: iptables lock held by another process\n');
    const o = await svc().add(admin(), temp(nextIp()));
    expect(o.sync.state).toBe('failed');
    expect(o.block.syncState).toBe('failed');
    expect(o.block.syncError).toContain('failed (exit 1)');
    expect(o.block.syncError).toContain('iptables lock held by another process');
    expect((await svc().firewallStatus()).failedSyncs).toBeGreaterThanOrEqual(1);
    expect((await svc().list(admin(), { sync: 'failed' }, { limit: 50 })).items.map((b) => b.id)).toContain(o.block.id);
    csf.answerNext(`deny failed: [${o.block.address}] is in the allow file /etc/csf/csf.allow\n`);
    const failedRun = await h.container.blockMaintenance('manual');
    expect(failedRun.ran && failedRun.run).toMatchObject({ status: 'failed', error: expect.stringContaining('firewall change') as unknown as string });
    expect((await svc().get(admin(), o.block.id)).block.syncError).toContain('is in the allow file');
    const run = await h.container.blockMaintenance('manual');
    expect(run.ran && run.run.status).toBe('ok');
    const after = (await svc().get(admin(), o.block.id)).block;
    expect(after).toMatchObject({ syncState: 'synced', syncError: null });
    expect(csf.temp()).toContain(o.block.address);
    const runs = (await h.db('job_runs').where({ job: 'ip-blocks' })) as unknown[];
    expect(runs.length).toBeGreaterThanOrEqual(2);
  });

  it('lists with filters (status, reason, server, sync, address search incl. the networks containing an IP) and keyset pages', async () => {
    const net = (await svc().add(admin(), { ...temp('192.0.2.128/25'), reason: 'port_scan', reasonText: 'Scanning 1-1024' })).block;
    const host = (await svc().add(admin(), { ...temp('192.0.2.200'), reason: 'spam_source', serverId: h.f.servers.s2 })).block;
    const find = async (f: Parameters<ReturnType<typeof svc>['list']>[1]) => (await svc().list(admin(), f, { limit: 200 })).items.map((b) => b.id);
    expect(await find({ q: '192.0.2.200' })).toEqual([host.id, net.id]);
    expect(await find({ q: '192.0.2.5' })).toEqual([]);
    expect(await find({ q: '192.0.2.128/25' })).toEqual([net.id]);
    expect(await find({ q: 'Scanning' })).toEqual([net.id]);
    expect(await find({ q: '192.0.2.' })).toEqual([host.id, net.id]);
    expect(await find({ reason: 'port_scan', q: '192.0.2.200' })).toEqual([net.id]);
    expect(await find({ serverId: h.f.servers.s2 })).toEqual([host.id]);
    expect(await find({ status: 'lifted', q: '192.0.2.200' })).toEqual([]);
    const all = await svc().list(admin(), {}, { limit: 200 });
    const p1 = await svc().list(admin(), {}, { limit: 3 });
    const p2 = await svc().list(admin(), {}, { limit: 3, cursor: p1.nextCursor! });
    expect([...p1.items, ...p2.items].map((b) => b.id)).toEqual(all.items.slice(0, 6).map((b) => b.id));
    expect(p1.total).toBe(all.total);
    expect(all.items.map((b) => b.id)).toEqual([...all.items.map((b) => b.id)].sort((a, b) => b - a));
  });

  it('without a firewall (FIREWALL=none) blocks are recorded as not_configured and nothing is run', async () => {
    const plain = buildTestApp(h.db, { clock: h.clock });
    expect(await plain.container.blocks.firewallStatus()).toMatchObject({ firewall: null, testingMode: null });
    csf.clearCalls();
    const o = await plain.container.blocks.add(admin(), temp(nextIp()));
    expect(o.block.syncState).toBe('not_configured');
    const lifted = await plain.container.blocks.lift(admin(), o.block.id, 'Recorded only, lifting');
    expect(lifted.block.syncState).toBe('not_configured');
    const run = await plain.container.blockMaintenance('manual');
    expect(run.ran && run.run.counts).toMatchObject({ synced: 0, failed: 0 });
    expect(csf.calls()).toEqual([]);
    // Turning CSF on later applies the active blocks recorded meanwhile.
    const recorded = (await plain.container.blocks.add(admin(), temp(nextIp()))).block;
    await h.container.blocks.retrySync();
    expect((await svc().get(admin(), recorded.id)).block.syncState).toBe('synced');
    expect(csf.temp()).toContain(recorded.address);
    expect(csf.temp()).not.toContain(o.block.address);
  });

  it('a firewall that cannot be run is tried 3 times per job run, not once per block; refusals of one address do not stop the others', async () => {
    const plain = buildTestApp(h.db, { clock: h.clock });
    const recorded = [];
    for (let i = 0; i < 5; i++) recorded.push((await plain.container.blocks.add(admin(), temp(nextIp()))).block);
    csf.failAlways('csf: cannot run iptables\n');
    csf.clearCalls();
    try {
      const down = await svc().retrySync();
      expect(down.failed).toBe(3);
      expect(csf.calls()).toHaveLength(3);
    } finally {
      csf.failAlways(null);
    }
    // csf refuses the first (it is in csf.allow), and the next, and the next: the others are applied all the same.
    for (const b of recorded.slice(0, 3)) csf.allow(b.address, true);
    const up = await svc().retrySync();
    expect(up).toEqual({ synced: 2, failed: 3 });
    for (const b of recorded.slice(3)) expect((await svc().get(admin(), b.id)).block.syncState).toBe('synced');
    expect((await svc().get(admin(), recorded[0]!.id)).block.syncError).toContain(`deny failed: [${recorded[0]!.address}] is in the allow file`);
    for (const b of recorded.slice(0, 3)) csf.allow(b.address, false);
    await svc().retrySync();
    expect((await svc().get(admin(), recorded[0]!.id)).block.syncState).toBe('synced');
  });

  it('reports CSF\'s TESTING mode', async () => {
    csf.setTesting('1');
    expect((await svc().firewallStatus()).testingMode).toBe(true);
    csf.setTesting('0');
    expect((await svc().firewallStatus()).testingMode).toBe(false);
    const n = toNumber(((await h.db('ip_blocks').count({ n: '*' }).first()) as { n: unknown }).n);
    expect(n).toBeGreaterThan(10);
  });
});
