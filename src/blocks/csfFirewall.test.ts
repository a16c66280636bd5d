import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CsfFirewall } from './csfFirewall';
import { CsfRunner } from './csfRunner';
import { FirewallError } from './firewall';
import { CsfStandIn } from './testing/csfStandIn';

/** The CSF adapter against a stand-in csf executable: the exact argument vectors, csf's answers, failures and the time limit. */
describe('CsfFirewall', () => {
  let csf: CsfStandIn;
  let firewall: CsfFirewall;

  beforeAll(() => {
    csf = CsfStandIn.create();
    firewall = new CsfFirewall(new CsfRunner(csf.path, 5_000), csf.confPath);
  });
  afterEach(() => {
    csf.clearCalls();
    csf.hang(false);
  });
  afterAll(() => csf.cleanup());

  it('a temporary block is "csf -td <address> <ttl> <comment>", one argument each, the comment made safe', async () => {
    const out = await firewall.block({ address: '192.0.2.7', expiry: { permanent: false, ttlSeconds: 3600 }, comment: '#7 port scan: "PS_LIMIT" -d out | 11 hits\n$(reboot)' });
    expect(out).toBe('csf: 192.0.2.7 blocked on port * for 3600 seconds inbound');
    expect(csf.calls()).toEqual([['-td', '192.0.2.7', '3600', 'antispam #7 port scan: PS_LIMIT d out 11 hits (reboot)']]);
    expect(csf.temp()).toEqual(['192.0.2.7']);
  });

  it('a new TTL for an address csf already has is "-tr" then "-td" (csf refuses a second -td)', async () => {
    await firewall.block({ address: '192.0.2.8', expiry: { permanent: false, ttlSeconds: 600 }, comment: 'first' });
    csf.clearCalls();
    await firewall.block({ address: '192.0.2.8', expiry: { permanent: false, ttlSeconds: 7200 }, comment: 'again' });
    expect(csf.calls()).toEqual([
      ['-td', '192.0.2.8', '7200', 'antispam again'],
      ['-tr', '192.0.2.8'],
      ['-td', '192.0.2.8', '7200', 'antispam again'],
    ]);
    expect(csf.temp()).toEqual(['192.0.2.7', '192.0.2.8']);
  });

  it('a permanent block is "csf -d <address> <comment>"; one already in csf.deny is fine', async () => {
    await firewall.block({ address: '2001:db8::/48', expiry: { permanent: true }, comment: '#9 hacking' });
    await firewall.block({ address: '2001:db8::/48', expiry: { permanent: true }, comment: '#9 hacking' });
    expect(csf.calls()).toEqual([
      ['-d', '2001:db8::/48', 'antispam #9 hacking'],
      ['-d', '2001:db8::/48', 'antispam #9 hacking'],
    ]);
    expect(csf.deny()).toEqual(['2001:db8::/48']);
  });

  it('unblocking: "-tr" for a temporary block; "-dr" then "-tr" for a permanent one; an address csf no longer has is not an error', async () => {
    await firewall.unblock({ address: '192.0.2.7', permanent: false });
    await firewall.unblock({ address: '2001:db8::/48', permanent: true });
    await firewall.unblock({ address: '198.51.100.1', permanent: false });
    expect(csf.calls()).toEqual([['-tr', '192.0.2.7'], ['-dr', '2001:db8::/48'], ['-tr', '2001:db8::/48'], ['-tr', '198.51.100.1']]);
    expect(csf.temp()).toEqual(['192.0.2.8']);
    expect(csf.deny()).toEqual([]);
  });

  it('csf refusing on stdout (exit 0) is a failure carrying its output', async () => {
    csf.answerNext('deny failed: [203.0.113.5] is in the allow file /etc/csf/csf.allow\n');
    const err = await firewall.block({ address: '203.0.113.5', expiry: { permanent: true }, comment: 'x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FirewallError);
    expect((err as FirewallError).message).toBe('csf -d 203.0.113.5 refused: deny failed: [203.0.113.5] is in the allow file /etc/csf/csf.allow');
    expect((err as FirewallError).output).toContain('is in the allow file');
    csf.answerNext('csf: 203.0.113.5 set as "do not delete" - not removed\n');
    await expect(firewall.unblock({ address: '203.0.113.5', permanent: true })).rejects.toThrow(/do not delete/);
  });

  it('a non-zero exit is a failure with stdout and stderr captured', async () => {
    csf.failNext('Error: csf is being restarted, try again in a moment: Resource temporarily unavailable\n');
    const err = (await firewall.block({ address: '203.0.113.6', expiry: { permanent: false, ttlSeconds: 60 }, comment: 'x' }).catch((e: unknown) => e)) as FirewallError;
    expect(err).toBeInstanceOf(FirewallError);
    expect(err.message).toMatch(new RegExp(`^${csf.path.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} -td 203\\.0\\.113\\.6 60 antispam x failed \\(exit 1\\): Error: csf is being restarted`));
    expect(err.output).toContain('csf is being restarted');
  });

  it('a csf that hangs is killed at the timeout', async () => {
    const quick = new CsfFirewall(new CsfRunner(csf.path, 400), csf.confPath);
    csf.hang(true);
    const started = Date.now();
    await expect(quick.unblock({ address: '192.0.2.8', permanent: false })).rejects.toThrow(/did not finish within 0.4 s and was stopped/);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('a missing csf binary says so and names CSF_PATH', async () => {
    const missing = new CsfFirewall(new CsfRunner(path.join(csf.dir, 'no-such-csf')), csf.confPath);
    await expect(missing.unblock({ address: '192.0.2.8', permanent: false })).rejects.toThrow(/csf was not found at .*no-such-csf \(CSF_PATH\)/);
  });

  it('never runs csf with an argument that did not pass validation', async () => {
    await expect(firewall.block({ address: '192.0.2.7 -p 22', expiry: { permanent: true }, comment: 'x' })).rejects.toThrow(/Refused to run csf -d: the address is not a valid IP address or network/);
    await expect(firewall.unblock({ address: '$(reboot)', permanent: false })).rejects.toThrow(FirewallError);
    await expect(firewall.block({ address: '192.0.2.7', expiry: { permanent: false, ttlSeconds: 5 }, comment: 'x' })).rejects.toThrow(/TTL must be/);
    expect(csf.calls()).toEqual([]);
  });

  it('reads CSF\'s TESTING mode from csf.conf (null when csf.conf cannot be read)', async () => {
    csf.setTesting('1');
    expect(await firewall.testingMode()).toBe(true);
    csf.setTesting('0');
    expect(await firewall.testingMode()).toBe(false);
    csf.setTesting(null);
    expect(await firewall.testingMode()).toBeNull();
    csf.setTesting('0');
    expect(fs.existsSync(csf.confPath)).toBe(true);
  });
});
