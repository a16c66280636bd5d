import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FixedClock } from '../../lib/clock';
import { startDnsServer, type DnsZone, type TestDnsServer } from '../../testing/dnsServer';
import { MxResolver, type MxResolverOptions } from './mxResolver';

const zone: DnsZone = {
  'mx.test': {
    MX: [
      { preference: 20, exchange: 'backup.mx.test' },
      { preference: 10, exchange: 'b.mx.test' },
      { preference: 10, exchange: 'A.mx.test' },
    ],
    // A domain with MX records is never reached through its own A record.
    A: ['127.0.0.99'],
  },
  'alias.test': { CNAME: 'mx.test' },
  'alias2.test': { CNAME: 'alias.test' },
  'null.test': { MX: [{ preference: 0, exchange: '.' }] },
  'aonly.test': { A: ['127.0.0.31'], AAAA: ['::1'] },
  'alias-aonly.test': { CNAME: 'aonly.test' },
  'nothing.test': {},
  'dangling.test': { CNAME: 'gone.test' },
  'loop1.test': { CNAME: 'loop2.test' },
  'loop2.test': { CNAME: 'loop1.test' },
  'servfail.test': { fault: 'servfail' },
  'silent.test': { fault: 'timeout' },
  'host.test': { A: ['127.0.0.41', '127.0.0.42'], AAAA: ['::1'] },
  'v6only.test': { AAAA: ['::1'] },
};

function options(server: TestDnsServer, extra: Partial<MxResolverOptions> = {}): MxResolverOptions {
  return { servers: [server.address], timeoutMs: 600, positiveTtlMs: 300_000, negativeTtlMs: 60_000, ...extra };
}

describe.each([
  { chaseCnames: true, label: 'a recursive resolver (CNAMEs chased by the server)' },
  { chaseCnames: false, label: 'an authority (CNAMEs followed by the client)' },
])('MxResolver behind $label', ({ chaseCnames }) => {
  let dns: TestDnsServer;
  let resolver: MxResolver;
  beforeAll(async () => {
    dns = await startDnsServer(zone, { chaseCnames });
    resolver = new MxResolver(new FixedClock(new Date('2026-12-01T00:00:00Z')), options(dns));
  });
  afterAll(() => dns.close());

  it('returns MX hosts sorted by preference (ties by name), lowercased, ignoring the A record', async () => {
    expect(await resolver.resolveMail('MX.test.')).toEqual({
      kind: 'mx',
      hosts: [
        { host: 'a.mx.test', priority: 10 },
        { host: 'b.mx.test', priority: 10 },
        { host: 'backup.mx.test', priority: 20 },
      ],
    });
  });

  it('follows CNAMEs (twice) to the MX records', async () => {
    const answer = await resolver.resolveMail('alias2.test');
    expect(answer.kind).toBe('mx');
    expect(answer.hosts.map((h) => h.host)).toEqual(['a.mx.test', 'b.mx.test', 'backup.mx.test']);
  });

  it('reports a null MX as null_mx', async () => {
    expect(await resolver.resolveMail('null.test')).toEqual({ kind: 'null_mx', hosts: [] });
  });

  it('falls back to the name itself when there is no MX but an address', async () => {
    expect(await resolver.resolveMail('aonly.test')).toEqual({ kind: 'a_fallback', hosts: [{ host: 'aonly.test', priority: 0 }] });
    // Behind a CNAME the implicit MX is the canonical name.
    expect(await resolver.resolveMail('alias-aonly.test')).toEqual({ kind: 'a_fallback', hosts: [{ host: 'aonly.test', priority: 0 }] });
  });

  it('reports a name with neither MX nor address as a fallback without hosts', async () => {
    const answer = await resolver.resolveMail('nothing.test');
    expect(answer).toMatchObject({ kind: 'a_fallback', hosts: [] });
    expect(answer.error).toMatch(/neither MX nor A\/AAAA/);
  });

  it('reports NXDOMAIN as no_domain, also at the end of a CNAME', async () => {
    expect(await resolver.resolveMail('nowhere.test')).toMatchObject({ kind: 'no_domain', hosts: [] });
    expect(await resolver.resolveMail('dangling.test')).toMatchObject({ kind: 'no_domain', hosts: [] });
  });

  it('reports SERVFAIL, silence and CNAME loops as dns_error', async () => {
    expect(await resolver.resolveMail('servfail.test')).toMatchObject({ kind: 'dns_error', error: expect.stringMatching(/ESERVFAIL/) });
    const started = performance.now();
    const silent = await resolver.resolveMail('silent.test');
    expect(silent.kind).toBe('dns_error');
    expect(performance.now() - started).toBeLessThan(1_500);
    const loop = await resolver.resolveMail('loop1.test');
    expect(loop.kind).toBe('dns_error');
  });

  it('resolves host addresses IPv4 first, and IP literals as themselves', async () => {
    expect(await resolver.resolveHost('host.test')).toEqual({ addresses: ['127.0.0.41', '127.0.0.42', '::1'] });
    expect(await resolver.resolveHost('v6only.test')).toEqual({ addresses: ['::1'] });
    expect(await resolver.resolveHost('127.0.0.9')).toEqual({ addresses: ['127.0.0.9'] });
    expect(await resolver.resolveHost('nohost.test')).toEqual({ addresses: [] });
    expect((await resolver.resolveHost('servfail.test')).error).toMatch(/ESERVFAIL/);
  });
});

describe('MxResolver cache', () => {
  let dns: TestDnsServer;
  beforeAll(async () => {
    dns = await startDnsServer({
      'cached.test': { MX: [{ preference: 10, exchange: 'mx.cached.test' }] },
      'flaky.test': { fault: 'servfail' },
    });
  });
  afterAll(() => dns.close());

  const count = (name: string) => dns.queries.filter((q) => q.name === name).length;

  it('keeps positive answers for their TTL and negative ones for the shorter TTL, per instance', async () => {
    const clock = new FixedClock(new Date('2026-12-01T00:00:00Z'));
    const resolver = new MxResolver(clock, options(dns, { positiveTtlMs: 300_000, negativeTtlMs: 60_000 }));
    await resolver.resolveMail('cached.test');
    await resolver.resolveMail('cached.test');
    expect(count('cached.test')).toBe(1);
    await resolver.resolveMail('absent.test');
    await resolver.resolveMail('absent.test');
    const absentQueries = count('absent.test');

    clock.advance(61_000);
    await resolver.resolveMail('absent.test');
    expect(count('absent.test')).toBe(2 * absentQueries);
    await resolver.resolveMail('cached.test');
    expect(count('cached.test')).toBe(1);

    clock.advance(300_000);
    await resolver.resolveMail('cached.test');
    expect(count('cached.test')).toBe(2);

    // Another instance has its own cache.
    await new MxResolver(clock, options(dns)).resolveMail('cached.test');
    expect(count('cached.test')).toBe(3);
  });

  it('shares one lookup between concurrent callers', async () => {
    const resolver = new MxResolver(new FixedClock(new Date()), options(dns));
    dns.setRecords('shared.test', { MX: [{ preference: 5, exchange: 'mx.shared.test' }] });
    await Promise.all([resolver.resolveMail('shared.test'), resolver.resolveMail('shared.test'), resolver.resolveMail('SHARED.test')]);
    expect(count('shared.test')).toBe(1);
  });

  it('does not cache DNS errors, and retries a SERVFAIL before giving up', async () => {
    const resolver = new MxResolver(new FixedClock(new Date()), options(dns));
    expect((await resolver.resolveMail('flaky.test')).kind).toBe('dns_error');
    const first = count('flaky.test');
    expect(first).toBeGreaterThanOrEqual(2);
    dns.setRecords('flaky.test', { MX: [{ preference: 10, exchange: 'mx.flaky.test' }] });
    expect(await resolver.resolveMail('flaky.test')).toEqual({ kind: 'mx', hosts: [{ host: 'mx.flaky.test', priority: 10 }] });
  });

  it('ignores a null MX published beside real ones, saying so', async () => {
    const resolver = new MxResolver(new FixedClock(new Date()), options(dns));
    dns.setRecords('mixed.test', { MX: [{ preference: 0, exchange: '.' }, { preference: 10, exchange: 'mx.mixed.test' }] });
    const answer = await resolver.resolveMail('mixed.test');
    expect(answer).toMatchObject({ kind: 'mx', hosts: [{ host: 'mx.mixed.test', priority: 10 }] });
    expect(answer.error).toMatch(/RFC 7505/);
  });
});
