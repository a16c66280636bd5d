import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FixedClock } from '../../lib/clock';
import { startDnsServer, type DnsZone, type TestDnsServer } from '../../testing/dnsServer';
import { migratedTestDb, type TestDb } from '../../testing/testDb';
import { ProbeService } from './probeService';
import { startSmtpFleet, type ProbeSmtpServer, type SmtpFleet } from './testing/probeSmtpServers';
import type { ProbeOptions, ProbeResult } from './types';

/**
 * End to end over real sockets: a DNS server on 127.0.0.1 maps MX names to loopback addresses
 * 127.0.0.11–.30, each with its own smtp-server on the one port the probe is told to use.
 * (This file owns 127.0.0.11–.30; other test files use other loopback addresses.)
 */
const IP = {
  accept: '127.0.0.11',
  missing: '127.0.0.12',
  spamhaus: '127.0.0.13',
  grey: '127.0.0.14',
  stall: '127.0.0.15',
  nullSender: '127.0.0.16',
  catchAll: '127.0.0.17',
  refused: '127.0.0.18', // nothing listens here
  noSmtp: '127.0.0.19',
  rcptStall: '127.0.0.20',
  blockedGreeting: '127.0.0.21',
  shared: '127.0.0.22',
  hangsUpAfterOne: '127.0.0.29',
  oneRcptPerSession: '127.0.0.30',
} as const;
const GLOBAL_IPS = ['127.0.0.23', '127.0.0.24', '127.0.0.25', '127.0.0.26', '127.0.0.27', '127.0.0.28'];

const mx = (...hosts: Array<[number, string]>) => ({ MX: hosts.map(([preference, exchange]) => ({ preference, exchange })) });

const zone: DnsZone = {
  'mx-accept.test': { A: [IP.accept] },
  'mx-missing.test': { A: [IP.missing] },
  'mx-spamhaus.test': { A: [IP.spamhaus] },
  'mx-grey.test': { A: [IP.grey] },
  'mx-stall.test': { A: [IP.stall] },
  'mx-nullsender.test': { A: [IP.nullSender] },
  'mx-catchall.test': { A: [IP.catchAll] },
  'mx-refused.test': { A: [IP.refused] },
  'mx-554.test': { A: [IP.noSmtp] },
  'mx-rcptstall.test': { A: [IP.rcptStall] },
  'mx-blockedgreeting.test': { A: [IP.blockedGreeting] },
  'mx-shared.test': { A: [IP.shared] },
  'mx-hangup.test': { A: [IP.hangsUpAfterOne] },
  'mx-onercpt.test': { A: [IP.oneRcptPerSession] },

  'accept.test': mx([10, 'mx-accept.test']),
  'alias.test': { CNAME: 'accept.test' },
  'aonly.test': { A: [IP.accept] },
  'missing.test': mx([10, 'mx-missing.test']),
  'blocked.test': mx([10, 'mx-spamhaus.test']),
  'grey.test': mx([10, 'mx-grey.test']),
  'stall.test': mx([10, 'mx-stall.test']),
  'rcptstall.test': mx([10, 'mx-rcptstall.test']),
  'nullsender.test': mx([10, 'mx-nullsender.test']),
  'catchall.test': mx([10, 'mx-catchall.test']),
  'refused.test': mx([10, 'mx-refused.test']),
  'nosmtp.test': mx([10, 'mx-554.test']),
  'backup.test': mx([20, 'mx-accept.test'], [10, 'mx-refused.test']),
  'greyfirst.test': mx([10, 'mx-grey.test'], [20, 'mx-accept.test']),
  'stallfirst.test': mx([10, 'mx-stall.test'], [20, 'mx-missing.test']),
  'allfail.test': mx([10, 'mx-refused.test'], [20, 'mx-blockedgreeting.test']),
  'nohost.test': mx([10, 'mx-nowhere.test']),
  'nullmx.test': mx([0, '.']),
  'servfail.test': { fault: 'servfail' },
};

let dns: TestDnsServer;
let fleet: SmtpFleet;
let testDb: TestDb;
let clock: FixedClock;

const server = (ip: string): ProbeSmtpServer => fleet.servers.get(ip)!;

function service(extra: Partial<ProbeOptions> = {}): ProbeService {
  return new ProbeService(
    { db: testDb.db, clock },
    {
      dnsServers: [dns.address],
      port: fleet.port,
      heloName: 'probe.host.test',
      connectTimeoutMs: 1_000,
      commandTimeoutMs: 300,
      dnsTimeoutMs: 1_000,
      ...extra,
    },
  );
}

beforeAll(async () => {
  for (let i = 0; i < 12; i++) zone[`d${i}.test`] = { A: [IP.shared] }; // cPanel style: each domain is its own MX
  for (let i = 0; i < 12; i++) zone[`s${i}.test`] = mx([0, 'mx-shared.test']);
  for (let i = 0; i < 3; i++) zone[`hangup${i}.test`] = mx([10, 'mx-hangup.test']);
  for (let i = 0; i < 3; i++) zone[`onercpt${i}.test`] = mx([10, 'mx-onercpt.test']);
  GLOBAL_IPS.forEach((ip, i) => {
    zone[`mx-g${i}.test`] = { A: [ip] };
    for (let j = 0; j < 3; j++) zone[`g${i}-${j}.test`] = mx([10, `mx-g${i}.test`]);
  });
  dns = await startDnsServer(zone);
  fleet = await startSmtpFleet({
    [IP.accept]: {},
    [IP.missing]: { rcpt: (a) => ({ code: 550, message: `5.1.1 <${a}>: Recipient address rejected: User unknown in virtual mailbox table` }) },
    [IP.spamhaus]: { rcpt: () => ({ code: 550, message: '5.7.1 Service unavailable; Client host [127.0.0.1] blocked using zen.spamhaus.org' }) },
    [IP.grey]: { rcpt: () => ({ code: 451, message: '4.7.1 Greylisted, please try again in 5 minutes' }) },
    [IP.stall]: { greeting: 'stall' },
    [IP.nullSender]: { mailFrom: (a) => (a === '' ? { code: 550, message: '5.7.1 Null sender refused' } : null) },
    [IP.catchAll]: { rcpt: () => null },
    [IP.noSmtp]: { greeting: { code: 554, message: 'No SMTP service here' } },
    [IP.rcptStall]: { rcpt: () => 'stall' },
    [IP.blockedGreeting]: { greeting: { code: 554, message: '5.7.1 Client host [127.0.0.1] blocked using zen.spamhaus.org' } },
    [IP.shared]: { rcpt: () => null, rcptDelayMs: 20 },
    [IP.hangsUpAfterOne]: { rcpt: (_a, nth) => (nth > 1 ? { code: 421, message: '4.7.0 Too many recipients in this session, closing' } : null) },
    [IP.oneRcptPerSession]: { rcpt: (_a, nth) => (nth > 1 ? { code: 452, message: '4.5.3 Too many recipients' } : null) },
    ...Object.fromEntries(GLOBAL_IPS.map((ip) => [ip, { rcpt: () => null, rcptDelayMs: 60 }])),
  });
  testDb = await migratedTestDb('sqlite');
});

afterAll(async () => {
  await fleet?.close();
  await dns?.close();
  await testDb?.cleanup();
});

beforeEach(async () => {
  clock = new FixedClock(new Date('2026-12-01T08:00:00Z'));
  await testDb.db('postmaster_probe_cache').delete();
});

const ALLOWED = /^((EHLO|HELO) probe\.host\.test|MAIL FROM:<[^>]*>|RCPT TO:<[^>]+>|RSET|QUIT)$/;

function lines(result: ProbeResult): string[] {
  return result.dialogue.map((d) => `${d.dir} ${d.line}`);
}

describe('ProbeService.probeDomains', () => {
  it('classifies every kind of server and DNS answer in one call', async () => {
    const domains = Object.keys(zone).filter((d) => !d.startsWith('mx-') && !/^(d|s|g|hangup|onercpt)\d/.test(d));
    const results = await service().probeDomains([...domains, 'nowhere.test', 'ACCEPT.test.', 'not a domain']);
    const r = (d: string) => {
      const found = results.get(d);
      if (!found) throw new Error(`no result for ${d}`);
      return found;
    };

    expect(r('accept.test')).toMatchObject({ result: 'accepted', code: 250, mxHost: 'mx-accept.test', catchAll: false, stage: 'rcpt', fromCache: false, address: 'postmaster@accept.test' });
    expect(r('accept.test').mx).toEqual({ kind: 'mx', hosts: [{ host: 'mx-accept.test', priority: 10 }] });
    expect(r('alias.test')).toMatchObject({ result: 'accepted', mxHost: 'mx-accept.test' });
    expect(r('aonly.test')).toMatchObject({ result: 'accepted', mx: { kind: 'a_fallback', hosts: [{ host: 'aonly.test', priority: 0 }] } });
    expect(r('missing.test')).toMatchObject({ result: 'missing', code: 550, enhancedCode: '5.1.1', catchAll: null });
    expect(r('missing.test').message).toMatch(/User unknown/);
    expect(r('blocked.test')).toMatchObject({ result: 'policy_block', code: 550, enhancedCode: '5.7.1' });
    expect(r('grey.test')).toMatchObject({ result: 'temporary', code: 451, enhancedCode: '4.7.1' });
    expect(r('stall.test')).toMatchObject({ result: 'unknown', code: null, stage: 'greeting' });
    expect(r('rcptstall.test')).toMatchObject({ result: 'unknown', code: null, stage: 'rcpt' });
    expect(r('nullsender.test')).toMatchObject({ result: 'accepted' });
    expect(lines(r('nullsender.test'))).toContain('C MAIL FROM:<postmaster@probe.host.test>');
    expect(r('catchall.test')).toMatchObject({ result: 'accepted', catchAll: true });
    expect(r('refused.test')).toMatchObject({ result: 'unknown', code: null, stage: 'connect', mxHost: 'mx-refused.test' });
    expect(r('refused.test').message).toMatch(/ECONNREFUSED/);
    expect(r('nosmtp.test')).toMatchObject({ result: 'unknown', code: 554, stage: 'greeting' });

    // Several MX hosts: the next one only when the previous gave no answer to RCPT.
    expect(r('backup.test')).toMatchObject({ result: 'accepted', mxHost: 'mx-accept.test' });
    expect(lines(r('backup.test')).filter((l) => l.startsWith('note MX '))).toEqual([
      'note MX mx-refused.test (preference 10) at 127.0.0.18',
      'note MX mx-accept.test (preference 20) at 127.0.0.11',
    ]);
    expect(r('greyfirst.test')).toMatchObject({ result: 'temporary', mxHost: 'mx-grey.test' });
    expect(r('stallfirst.test')).toMatchObject({ result: 'missing', mxHost: 'mx-missing.test' });
    expect(r('allfail.test')).toMatchObject({ result: 'policy_block', mxHost: 'mx-blockedgreeting.test', stage: 'greeting' });

    // DNS alone decides these.
    expect(r('nullmx.test')).toMatchObject({ result: 'no_mail', mx: { kind: 'null_mx' }, code: null });
    expect(r('nowhere.test')).toMatchObject({ result: 'no_mail', mx: { kind: 'no_domain' } });
    expect(r('servfail.test')).toMatchObject({ result: 'unknown', mx: { kind: 'dns_error' }, stage: 'dns' });
    expect(r('nohost.test')).toMatchObject({ result: 'unknown', stage: 'dns' });
    expect(r('nohost.test').message).toMatch(/mx-nowhere\.test has no A\/AAAA record/);
    expect(r('not a domain')).toMatchObject({ result: 'unknown', mx: { kind: 'dns_error' } });

    // Deduplicated and normalised: "ACCEPT.test." is accept.test, probed once.
    expect(results.has('ACCEPT.test.')).toBe(false);
    const acceptRcpts = server(IP.accept).allCommands().filter((c) => c === 'RCPT TO:<postmaster@accept.test>');
    expect(acceptRcpts).toHaveLength(1);

    // A 4xx or a timeout is never "missing".
    for (const d of ['grey.test', 'greyfirst.test', 'stall.test', 'rcptstall.test', 'refused.test', 'nosmtp.test', 'servfail.test']) {
      expect(r(d).result, d).not.toBe('missing');
    }

    // Only envelope commands were ever sent; DATA never.
    const everything = [...fleet.servers.values()].flatMap((s) => s.allCommands());
    expect(everything.length).toBeGreaterThan(20);
    expect(everything.filter((c) => !ALLOWED.test(c))).toEqual([]);

    // The catch-all test ran in its own session, never beside postmaster@.
    for (const s of fleet.servers.values()) {
      for (const session of s.sessions) {
        const rcpts = session.commands.filter((c) => c.startsWith('RCPT'));
        const random = rcpts.filter((c) => c.includes('pm-check-'));
        expect(random.length === 0 || random.length === rcpts.length, JSON.stringify(rcpts)).toBe(true);
      }
    }
    const catchAllSessions = server(IP.catchAll).sessions.map((s) => s.commands.filter((c) => c.startsWith('RCPT')));
    expect(catchAllSessions).toEqual([['RCPT TO:<postmaster@catchall.test>'], [expect.stringMatching(/^RCPT TO:<pm-check-[0-9a-f]{12}@catchall\.test>$/)]]);

    // Evidence: relative times, and no other customer's address from a shared session.
    const acceptLines = lines(r('accept.test'));
    expect(r('accept.test').dialogue[0]!.at).toBe(0);
    expect(acceptLines).toContain('C RCPT TO:<postmaster@accept.test>');
    expect(acceptLines.some((l) => /alias\.test|aonly\.test|backup\.test/.test(l))).toBe(false);
    expect(acceptLines.some((l) => /^note catch-all test: pm-check-/.test(l))).toBe(true);
    for (const s of fleet.servers.values()) expect(s.maxActive, s.ip).toBeLessThanOrEqual(1);
  });

  it('never opens two sessions to one server, and batches the addresses it serves', async () => {
    const shared = server(IP.shared);
    const before = shared.sessions.length;
    const domains = [...Array.from({ length: 12 }, (_, i) => `s${i}.test`), ...Array.from({ length: 12 }, (_, i) => `d${i}.test`)];
    const results = await service({ maxPerSession: 5, catchAllCheck: false, globalConcurrency: 10 }).probeDomains(domains);
    expect([...results.values()].every((r) => r.result === 'accepted')).toBe(true);
    const sessions = shared.sessions.slice(before);
    expect(shared.maxActive).toBe(1);
    // 24 addresses on one server (12 via one MX name, 12 each their own MX name): 5 sessions of ≤ 5.
    expect(sessions).toHaveLength(5);
    const perSession = sessions.map((s) => s.commands.filter((c) => c.startsWith('RCPT')).length);
    expect(perSession.reduce((a, b) => a + b, 0)).toBe(24);
    expect(Math.max(...perSession)).toBe(5);
  });

  it.each([
    ['hangs up after one recipient (421)', IP.hangsUpAfterOne, 'hangup'],
    ['refuses a second recipient in a session (452 4.5.3)', IP.oneRcptPerSession, 'onercpt'],
  ])('asks again, alone, the addresses a server that %s did not answer', async (_label, ip, prefix) => {
    const domains = [0, 1, 2].map((i) => `${prefix}${i}.test`);
    const results = await service({ catchAllCheck: false }).probeDomains(domains);
    expect(domains.map((d) => results.get(d)!.result)).toEqual(['accepted', 'accepted', 'accepted']);
    const rcptsPerSession = server(ip).sessions.map((s) => s.commands.filter((c) => c.startsWith('RCPT')).length);
    expect(rcptsPerSession).toEqual([ip === IP.hangsUpAfterOne ? 2 : 3, 1, 1]);
    const retried = results.get(`${prefix}1.test`)!;
    expect(retried.dialogue.some((d) => d.dir === 'note' && /session of its own/.test(d.line))).toBe(true);
  });

  it('connects from the configured local address', async () => {
    const accept = server(IP.accept);
    const before = accept.sessions.length;
    const result = (await service({ localAddress: '127.0.0.9', catchAllCheck: false }).probeDomains(['accept.test'])).get('accept.test')!;
    expect(result.result).toBe('accepted');
    expect(accept.sessions.slice(before).map((s) => s.remoteAddress)).toEqual(['127.0.0.9']);
  });

  it('keeps to the global limit of sessions over all servers', async () => {
    const meter = fleet.meter;
    meter.maxActive = meter.active;
    const domains = GLOBAL_IPS.flatMap((_, i) => [0, 1, 2].map((j) => `g${i}-${j}.test`));
    const results = await service({ globalConcurrency: 2, maxPerSession: 1, catchAllCheck: false }).probeDomains(domains);
    expect([...results.values()].every((r) => r.result === 'accepted')).toBe(true);
    expect(meter.maxActive).toBe(2);
    for (const ip of GLOBAL_IPS) {
      expect(server(ip).maxActive).toBe(1);
      expect(server(ip).sessions.length).toBeGreaterThanOrEqual(3);
    }
  });

  it('serves cached results, re-probes after expiry, and bypasses the cache on force', async () => {
    const accept = server(IP.accept);
    const probe = service({ catchAllCheck: false });
    const sessionsNow = () => accept.sessions.length;

    const first = (await probe.probeDomains(['accept.test'])).get('accept.test')!;
    expect(first.fromCache).toBe(false);
    const afterFirst = sessionsNow();

    clock.advance(60_000);
    const second = (await probe.probeDomains(['accept.test'])).get('accept.test')!;
    expect(second).toMatchObject({ fromCache: true, result: 'accepted', checkedAt: first.checkedAt, mxHost: 'mx-accept.test' });
    expect(second.dialogue).toEqual(first.dialogue);
    expect(sessionsNow()).toBe(afterFirst);

    // Another instance (another app process) shares the table.
    expect((await service().probeDomains(['accept.test'])).get('accept.test')!.fromCache).toBe(true);

    const forced = (await probe.probeDomains(['accept.test'], { force: true })).get('accept.test')!;
    expect(forced.fromCache).toBe(false);
    expect(sessionsNow()).toBe(afterFirst + 1);

    clock.advance(24 * 3_600_000);
    expect((await probe.probeDomains(['accept.test'])).get('accept.test')!.fromCache).toBe(false);
    expect(sessionsNow()).toBe(afterFirst + 2);
  });

  it('keeps a missing answer for 2 hours and does not cache a temporary one', async () => {
    const probe = service();
    await probe.probeDomains(['missing.test', 'grey.test']);
    const missingSessions = server(IP.missing).sessions.length;
    const greySessions = server(IP.grey).sessions.length;

    clock.advance(2 * 3_600_000 - 1_000);
    const again = await probe.probeDomains(['missing.test', 'grey.test']);
    expect(again.get('missing.test')).toMatchObject({ result: 'missing', fromCache: true });
    expect(again.get('grey.test')).toMatchObject({ result: 'temporary', fromCache: false });
    expect(server(IP.missing).sessions.length).toBe(missingSessions);
    expect(server(IP.grey).sessions.length).toBe(greySessions + 1);

    clock.advance(2_000);
    expect((await probe.probeDomains(['missing.test'])).get('missing.test')!.fromCache).toBe(false);
    expect(server(IP.missing).sessions.length).toBe(missingSessions + 1);
  });

  it('shares a running probe between concurrent callers', async () => {
    const probe = service({ catchAllCheck: false });
    const before = server(IP.missing).sessions.length;
    const [a, b] = await Promise.all([probe.probeDomains(['missing.test']), probe.probeDomains(['missing.test', 'grey.test'])]);
    expect(a.get('missing.test')).toBe(b.get('missing.test'));
    expect(server(IP.missing).sessions.length).toBe(before + 1);

    // A forced check shares only a forced probe: a probe that may answer from the cache will not do.
    const [c, d, e] = await Promise.all([
      probe.probeDomains(['missing.test'], { force: true }),
      probe.probeDomains(['missing.test'], { force: true }),
      probe.probeDomains(['missing.test']),
    ]);
    expect(c.get('missing.test')).toMatchObject({ fromCache: false });
    expect(d.get('missing.test')).toBe(c.get('missing.test'));
    expect(e.get('missing.test')).toBe(c.get('missing.test'));
    expect(server(IP.missing).sessions.length).toBe(before + 2);
  });
});
