import { describe, expect, it } from 'vitest';
import type { DomainMailRoutes } from '../panel/panelAdapter';
import { decideRoute } from './routeDecider';
import { decideVerdict, type ProbeFinding, type ReadState } from './verdict';

const now = new Date('2026-11-28T12:00:00Z');
const routes = (over: Partial<DomainMailRoutes>): DomainMailRoutes => ({ domain: 'ex.test', mailboxes: [], forwarders: [], domainForwarder: null, defaultAddress: ':fail: No Such User Here', mx: [{ host: 'ex.test', priority: 0 }], mxRouting: 'local', ...over });
const noRead: ReadState = { sentAt: null, confirmedAt: null };
const verdictOf = (r: DomainMailRoutes | null, probe: ProbeFinding | null = null, read = noRead) => decideVerdict({ route: r && decideRoute(r), routeError: 'timeout', probe, read, readGraceDays: 14, now });
const probe = (result: ProbeFinding['result'], message = 'reply', catchAll: boolean | null = null): ProbeFinding => ({ result, message, catchAll });

describe('postmaster route', () => {
  it('classifies every route type the panel can have', () => {
    expect(decideRoute(routes({ mailboxes: ['Postmaster@ex.test'] })).route).toBe('mailbox');
    expect(decideRoute(routes({ forwarders: [{ from: 'POSTMASTER@ex.test', to: 'admin@else.test' }] }))).toMatchObject({ route: 'forwarder', target: 'admin@else.test', finding: 'delivered' });
    expect(decideRoute(routes({ forwarders: [{ from: 'postmaster@ex.test', to: ':fail: gone' }] })).finding).toBe('missing');
    expect(decideRoute(routes({ forwarders: [{ from: 'postmaster@ex.test', to: ':blackhole:' }] })).finding).toBe('undeliverable');
    expect(decideRoute(routes({ domainForwarder: 'other.test' }))).toMatchObject({ route: 'domain_forwarder', finding: 'delivered' });
    expect(decideRoute(routes({}))).toMatchObject({ route: 'default_fail', finding: 'missing' });
    expect(decideRoute(routes({ defaultAddress: ':blackhole:' }))).toMatchObject({ route: 'default_blackhole', finding: 'undeliverable' });
    expect(decideRoute(routes({ defaultAddress: '|/usr/local/bin/ticket' }))).toMatchObject({ route: 'default_pipe', finding: 'delivered' });
    expect(decideRoute(routes({ defaultAddress: 'owner' }))).toMatchObject({ route: 'default_forward', finding: 'delivered' });
    expect(decideRoute(routes({ defaultAddress: null }))).toMatchObject({ route: 'none', finding: 'missing' });
    expect(decideRoute(routes({ mx: [{ host: 'mx.google.test', priority: 1 }], mxRouting: 'remote' }))).toMatchObject({ route: 'remote_mx', finding: 'probe_only' });
    expect(decideRoute(routes({ mx: [{ host: '.', priority: 0 }], mxRouting: 'remote' }))).toMatchObject({ route: 'null_mx', finding: 'not_applicable' });
  });
});

describe('postmaster verdict', () => {
  it('a mailbox is ok; a failing default address is missing; a blackhole is undeliverable', () => {
    expect(verdictOf(routes({ mailboxes: ['postmaster@ex.test'] })).verdict).toBe('ok');
    expect(verdictOf(routes({})).verdict).toBe('missing');
    expect(verdictOf(routes({ defaultAddress: ':blackhole:' })).verdict).toBe('undeliverable');
  });

  it('a 4xx, a timeout or a policy block never makes a domain missing', () => {
    const remote = routes({ mx: [{ host: 'mx.remote.test', priority: 10 }], mxRouting: 'remote' });
    for (const result of ['temporary', 'unknown', 'policy_block'] as const) {
      const v = verdictOf(remote, probe(result));
      expect(v.verdict, result).toBe('unknown');
      expect(v.retry).toBe(true);
    }
    // A configured mailbox stays ok when the probe cannot decide.
    expect(verdictOf(routes({ mailboxes: ['postmaster@ex.test'] }), probe('temporary', '451 4.7.1 greylisted')).verdict).toBe('ok');
  });

  it('a remote domain is judged by the probe alone', () => {
    const remote = routes({ mx: [{ host: 'mx.remote.test', priority: 10 }], mxRouting: 'remote' });
    expect(verdictOf(remote, probe('accepted')).verdict).toBe('ok');
    expect(verdictOf(remote, probe('missing', '550 5.1.1 no such user')).verdict).toBe('missing');
    expect(verdictOf(remote, null).verdict).toBe('unknown');
  });

  it('a configured route the server rejects is undeliverable', () => {
    expect(verdictOf(routes({ forwarders: [{ from: 'postmaster@ex.test', to: 'a@b.test' }] }), probe('missing', '550 5.1.1')).verdict).toBe('undeliverable');
  });

  it('no confirmation within the grace period is unread; a confirmation after the mail restores ok', () => {
    const box = routes({ mailboxes: ['postmaster@ex.test'] });
    const sentAt = new Date(now.getTime() - 20 * 86_400_000);
    expect(verdictOf(box, null, { sentAt, confirmedAt: null }).verdict).toBe('unread');
    expect(verdictOf(box, null, { sentAt: new Date(now.getTime() - 86_400_000), confirmedAt: null }).verdict).toBe('ok');
    expect(verdictOf(box, null, { sentAt, confirmedAt: new Date(sentAt.getTime() + 3600_000) }).verdict).toBe('ok');
  });

  it('a null MX or a domain without mail is not applicable; the panel down with no probe is unknown', () => {
    expect(verdictOf(routes({ mx: [{ host: '.', priority: 0 }] })).verdict).toBe('not_applicable');
    expect(verdictOf(routes({ mailboxes: ['postmaster@ex.test'] }), probe('no_mail', 'null MX')).verdict).toBe('not_applicable');
    expect(verdictOf(null)).toMatchObject({ verdict: 'unknown', retry: true });
  });
});
