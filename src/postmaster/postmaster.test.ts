import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Knex } from 'knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb } from '../db/knex';
import { JobRunner } from '../jobs/jobRunner';
import { FixedClock } from '../lib/clock';
import { setLogLevel } from '../lib/logger';
import { Mailer } from '../mail/mailer';
import { buildPanelServices, type PanelServices } from '../panel/panelServices';
import { startSimulatedWhm, type SimulatedWhm } from '../panel/simulated/server';
import { smallSeed } from '../panel/simulated/testSeed';
import { startDnsServer, type TestDnsServer } from '../testing/dnsServer';
import { engines, migratedTestDb, type TestDb } from '../testing/testDb';
import { PostmasterCheckService, type DomainProber } from './checkService';
import { postmasterRepository } from './postmasterRepository';
import { PostmasterService } from './postmasterService';
import { ProbeService } from './probe/probeService';
import { startSmtpFleet, type SmtpFleet } from './probe/testing/probeSmtpServers';
import { ReadConfirmationService } from './readConfirmation';
import { defaultPostmasterSettings, postmasterSettingsKey } from './settings';
import { settingsRepository } from '../settings/settingsRepository';
import { runPostmasterSweep } from './sweep';

/**
 * Postmaster checks end to end on both engines: routes read from a simulated WHM server over HTTP
 * (every route type of the small seed), remote domains probed over real SMTP with MX answers from a
 * real DNS server, read confirmation by mail, notice then strike after the grace period, and one
 * sweep per fire across two app instances.
 */
const dayMs = 86_400_000;

describe.each(engines)('postmaster checks on %s', (engine) => {
  let t: TestDb;
  let sim: SimulatedWhm;
  let panel: PanelServices;
  let dns: TestDnsServer;
  let smtp: SmtpFleet;
  let dataDir: string;
  const clock = new FixedClock(new Date('2026-11-28T10:00:00Z'));

  beforeAll(async () => {
    setLogLevel('silent');
    t = await migratedTestDb(engine);
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'postmaster-'));
    sim = await startSimulatedWhm({ seed: smallSeed(), server: 'test1.example.test', token: 'pm-token' });
    panel = buildPanelServices({ db: t.db, clock, dataDir });
    await panel.servers.register('test1.example.test', { url: sim.url, user: 'root', token: 'pm-token', source: 'simulated' });
    await panel.accountSync.syncAll('manual');
    // shop-alice.test's MX hosts (remote): the first accepts postmaster@, the second is never needed.
    smtp = await startSmtpFleet({ '127.0.0.41': {}, '127.0.0.42': {} });
    dns = await startDnsServer({
      'shop-alice.test': { MX: [{ preference: 10, exchange: 'mx1.remote.test' }, { preference: 20, exchange: 'mx2.remote.test' }] },
      'mx1.remote.test': { A: ['127.0.0.41'] },
      'mx2.remote.test': { A: ['127.0.0.42'] },
    });
  });
  afterAll(async () => {
    await sim?.close();
    await smtp?.close();
    await dns?.close();
    await t?.cleanup();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const prober = (): DomainProber => new ProbeService({ db: t.db, clock }, { dnsServers: [dns.address], port: smtp.port, heloName: 'checker.example.test', connectTimeoutMs: 2000, commandTimeoutMs: 2000 });
  const services = (withProbe: boolean, db: Knex = t.db) => {
    const checks = new PostmasterCheckService({ db, clock, panels: panel.panels, proberFor: () => (withProbe ? prober() : null) });
    const reads = new ReadConfirmationService({ db, clock, mailer: new Mailer(db, clock, { from: 'abuse@provider.test' }), publicUrl: (p) => `https://panel.provider.test${p}` });
    return { checks, reads, postmaster: new PostmasterService({ db, clock, panels: panel.panels, checks, reads }) };
  };
  const statusOf = async (domain: string) => (await t.db('postmaster_status as p').join('domains as d', 'd.id', 'p.domain_id').where('d.name', domain).first('p.*')) as Record<string, unknown>;

  it('reads the panel once per account and judges every route type', async () => {
    const { checks } = services(false);
    sim.resetCounters();
    const alice = Number((await t.db('accounts').where('username', 'alice').first('id')).id);
    const outcomes = await checks.checkTargets(await postmasterRepository.targets(t.db, { scope: 'all', accountIds: [alice] }), 'manual');
    const byDomain = Object.fromEntries(outcomes.map((o) => [o.domain, [o.route?.route, o.verdict]]));
    expect(byDomain).toEqual({
      'alice.test': ['mailbox', 'ok'],
      'alias-alice.test': ['domain_forwarder', 'ok'],
      'blog.alice.test': ['null_mx', 'not_applicable'],
      // Remote MX with probing off: nothing can tell.
      'shop-alice.test': ['remote_mx', 'unknown'],
    });
    // One account, one set of mail-route calls (not one per domain).
    expect(sim.callCount('Email::list_pops')).toBe(1);
    expect(sim.callCount('Email::list_mxs')).toBe(1);
    expect((await statusOf('shop-alice.test')).retry_at).not.toBeNull();
  });

  it('judges every other route type as the panel reports it: forwarders, default addresses, domain forwarder', async () => {
    const dave = sim.state.account('dave')!;
    dave.forwarders.push({ from: 'postmaster@dave1.test', to: 'ops@elsewhere.test' }, { from: 'Postmaster@dave6.test', to: ':fail: gone' }, { from: 'postmaster@dave7.test', to: ':blackhole:' });
    dave.defaultAddresses.set('dave2.test', ':blackhole:');
    dave.defaultAddresses.set('dave4.test', '|/usr/local/bin/tickets');
    dave.defaultAddresses.set('dave5.test', 'dave');
    dave.domainForwarders.set('dave8.test', 'elsewhere.test');
    const { checks } = services(false);
    const daveId = Number((await t.db('accounts').where('username', 'dave').first('id')).id);
    const outcomes = await checks.checkTargets(await postmasterRepository.targets(t.db, { scope: 'all', accountIds: [daveId] }), 'manual');
    const byDomain = Object.fromEntries(outcomes.map((o) => [o.domain, [o.route?.route, o.verdict]]));
    expect(byDomain).toMatchObject({
      'dave1.test': ['forwarder', 'ok'],
      'dave2.test': ['default_blackhole', 'undeliverable'],
      'dave3.test': ['default_fail', 'missing'],
      'dave4.test': ['default_pipe', 'ok'],
      'dave5.test': ['default_forward', 'ok'],
      'dave6.test': ['forwarder', 'missing'],
      'dave7.test': ['forwarder', 'undeliverable'],
      'dave8.test': ['domain_forwarder', 'ok'],
    });
    // Put dave back as the seed has him (the next test starts from dave3 missing, untouched).
    dave.forwarders.length = 0;
    for (const d of ['dave2.test', 'dave4.test', 'dave5.test']) dave.defaultAddresses.delete(d);
    dave.domainForwarders.delete('dave8.test');
    await t.db('postmaster_status').del();
  });

  it('judges a remote domain by an SMTP probe over a real DNS answer, never sending DATA', async () => {
    const { checks } = services(true);
    const outcome = await checks.checkDomain('shop-alice.test', 'manual');
    expect(outcome).toMatchObject({ verdict: 'ok', route: { route: 'remote_mx' } });
    expect(outcome.probe).toMatchObject({ result: 'accepted', mxHost: 'mx1.remote.test' });
    expect(smtp.servers.get('127.0.0.41')!.allCommands().some((c) => /^DATA/i.test(c))).toBe(false);
    const check = await t.db('postmaster_checks').where('domain', 'shop-alice.test').orderBy('id', 'desc').first();
    expect(JSON.parse(String(check.evidence)).probe.dialogue.length).toBeGreaterThan(3);
    expect((await statusOf('shop-alice.test')).retry_at).toBeNull();
  });

  it('a missing postmaster@ gets a notice, then a strike after the grace period; fixing it starts over', async () => {
    const { checks, postmaster } = services(false);
    const outcome = await checks.checkDomain('dave3.test', 'manual');
    expect(outcome).toMatchObject({ verdict: 'missing', route: { route: 'default_fail' } });
    expect(await postmaster.housekeeping()).toMatchObject({ notified: 1, escalated: 0 });
    const dave = (await t.db('accounts').where('username', 'dave').first('id')).id;
    expect((await t.db('notices').where('account_id', dave)).map((n) => n.kind)).toEqual(['postmaster_failing']);
    // A second run within the grace period sends nothing more.
    clock.advance(3 * dayMs);
    expect(await postmaster.housekeeping()).toMatchObject({ notified: 0, escalated: 0 });
    clock.advance(5 * dayMs);
    expect(await postmaster.housekeeping()).toMatchObject({ escalated: 1 });
    const strikes = await t.db('strikes').where('account_id', dave);
    expect(strikes.map((s) => s.source)).toEqual(['postmaster']);
    // The ladder ran on that strike in the same transaction.
    expect((await t.db('panel_actions').where('account_id', dave)).map((a) => a.kind).sort()).toEqual(['suspend_account', 'suspend_outgoing_email']);
    expect(await postmaster.housekeeping()).toMatchObject({ escalated: 0 });

    // dave has no contact address to forward to: the forwarder fix says so; a mailbox fixes it through the panel,
    // and the re-check at once finds it ok and ends the failure history.
    const domainId = Number((await t.db('domains').where('name', 'dave3.test').first('id')).id);
    const admin = { userId: null, login: 'admin', role: 'admin' as const, accountId: null };
    await expect(postmaster.fix(admin, domainId, 'forwarder')).rejects.toThrow(/no contact address/);
    const fixed = await postmaster.fix(admin, domainId, 'mailbox');
    expect(fixed.outcome.verdict).toBe('ok');
    expect(fixed.password).toMatch(/^\S{12,}$/);
    expect(sim.state.account('dave')!.mailboxes).toContain('postmaster@dave3.test');
    const status = await statusOf('dave3.test');
    expect([status.verdict, status.failing_since, status.notified_at, status.escalated_at]).toEqual(['ok', null, null, null]);
  });

  it('proves postmaster@ is read: verification mail, unread after the grace period, ok again once the link is used', async () => {
    const { checks, postmaster, reads } = services(false);
    await checks.checkDomain('alice.test', 'manual');
    await settingsRepository.write(t.db, postmasterSettingsKey, { ...defaultPostmasterSettings, escalationEnabled: false }, 'admin', clock.now());
    await postmaster.housekeeping();
    const mail = await t.db('mail_outbox').where('to_address', 'postmaster@alice.test').where('kind', 'postmaster_verification').first();
    const token = /\/postmaster\/confirm\/([A-Za-z0-9_-]+)/.exec(String(mail.text_body))![1]!;
    expect(await reads.lookup(token)).toEqual({ state: 'valid', domain: 'alice.test', confirmedAt: null });
    expect(await reads.lookup('not-a-token')).toEqual({ state: 'unknown' });

    clock.advance(15 * dayMs);
    expect((await checks.checkDomain('alice.test', 'manual')).verdict).toBe('unread');
    expect(await reads.confirm(token, '198.51.100.7')).toBe('alice.test');
    expect((await statusOf('alice.test')).verdict).toBe('ok');
    expect(await reads.confirm(token, '198.51.100.7')).toBe('alice.test'); // safe to repeat
    expect((await checks.checkDomain('alice.test', 'manual')).verdict).toBe('ok');
  });

  it('the scope setting limits sweeps to domains on dedicated servers', async () => {
    const { checks } = services(false);
    const sweep = () => runPostmasterSweep({ db: t.db, jobs: new JobRunner(t.db, clock), checks }, 'manual', { jitter: false });
    await settingsRepository.write(t.db, postmasterSettingsKey, { ...defaultPostmasterSettings, scope: 'dedicated' }, 'admin', clock.now());
    const shared = await sweep();
    expect(shared.ran && shared.run.counts).toMatchObject({ domains: 0 });
    await t.db('servers').where('name', 'test1.example.test').update({ kind: 'dedicated' });
    const dedicated = await sweep();
    expect(Number(dedicated.ran && dedicated.run.counts?.domains)).toBeGreaterThan(10);
    await t.db('servers').where('name', 'test1.example.test').update({ kind: 'shared' });
    await settingsRepository.write(t.db, postmasterSettingsKey, defaultPostmasterSettings, 'admin', clock.now());
  });

  it('one sweep per fire across two app instances', async () => {
    // A second app instance: its own connection pool to the same database.
    const second = createDb(t.config);
    try {
      const one = services(false);
      const two = services(false, second);
      const [a, b] = await Promise.all([
        runPostmasterSweep({ db: t.db, jobs: new JobRunner(t.db, clock), checks: one.checks }, 'schedule', { jitter: false }),
        runPostmasterSweep({ db: second, jobs: new JobRunner(second, clock), checks: two.checks }, 'schedule', { jitter: false }),
      ]);
      const ran = [a, b].filter((r) => r.ran);
      expect(ran).toHaveLength(1);
      expect([a, b].filter((r) => !r.ran)).toEqual([{ ran: false, reason: 'busy' }]);
      const run = ran[0]!.ran ? ran[0]!.run : null;
      expect(run?.counts).toMatchObject({ servers: 1 });
      expect(Number(run?.counts?.domains)).toBeGreaterThan(10);
    } finally {
      await second.destroy();
    }
  });
});
