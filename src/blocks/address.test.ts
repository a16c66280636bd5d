import { describe, expect, it } from 'vitest';
import { ValidationError } from '../lib/errors';
import { networksContaining, normalizeAddress } from './address';
import { CsfRunner, csfComment, safeComment } from './csfRunner';
import { parseCsfTesting } from './csfFirewall';
import { FirewallError } from './firewall';
import { blockFromLfdReport, lfdReportBody, reasonForTrigger } from './lfdReport';
import { parseDuration } from './schemas';

function problem(input: unknown, field?: string): string {
  try {
    normalizeAddress(input, field);
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    const fields = (err as ValidationError).fields;
    expect(Object.keys(fields)).toEqual([field ?? 'address']);
    return Object.values(fields)[0]!;
  }
  throw new Error(`expected ${JSON.stringify(input)} to be refused`);
}

describe('normalizeAddress', () => {
  it.each([
    ['192.0.2.7', '192.0.2.7', 4, null],
    ['192.0.2.7/32', '192.0.2.7', 4, null],
    ['192.0.2.77/24', '192.0.2.0/24', 4, 24],
    ['10.1.2.3/8', '10.0.0.0/8', 4, 8],
    ['198.51.100.130/25', '198.51.100.128/25', 4, 25],
    ['2001:DB8:0:0:0::1', '2001:db8::1', 6, null],
    ['2001:db8::1/128', '2001:db8::1', 6, null],
    ['2001:db8:1:2:3:4:5:6/64', '2001:db8:1:2::/64', 6, 64],
    ['2001:0db8:0000:0000:0001:0000:0000:0001', '2001:db8::1:0:0:1', 6, null],
    ['2001:db8::ffff/126', '2001:db8::fffc/126', 6, 126],
    ['::ffff:192.0.2.7', '192.0.2.7', 4, null],
    ['::ffff:192.0.2.7/120', '192.0.2.0/24', 4, 24],
  ])('%s → %s', (input, address, family, prefix) => {
    expect(normalizeAddress(input)).toEqual({ address, family, prefix });
  });

  it('refuses anything with characters an address cannot have, naming the field (shell metacharacters, spaces, newlines, options)', () => {
    for (const unsafe of ['192.0.2.7; rm -rf /', '$(id)', '`id`', '192.0.2.7 ', ' 192.0.2.7', '192.0.2.7\n', '192.0.2.7\n-d 10.0.0.1', '192.0.2.7|true', '192.0.2.7&', '-d', '--help', '192.0.2.7 -p 22', 'fe80::1%eth0', '192.0.2.7/24;id', "192.0.2.7'", '"192.0.2.7"', '192.0.2.7\0']) {
      expect(problem(unsafe, 'ip')).toMatch(/cannot be part of an address|is not an IP address/);
    }
    expect(problem('1.2.3.4 && reboot')).toContain('only digits, a-f, ".", ":" and one "/" are allowed');
  });

  it('refuses what is not an address, with a message saying what is expected', () => {
    expect(problem('')).toMatch(/^is required: expects an IPv4 or IPv6 address or network/);
    expect(problem(undefined)).toMatch(/^is required/);
    expect(problem(42)).toMatch(/^is required/);
    expect(problem('999.1.1.1')).toContain('"999.1.1.1" is not an IP address');
    expect(problem('192.0.2')).toContain('is not an IP address');
    expect(problem('010.0.0.1')).toContain('is not an IP address');
    expect(problem('1.2.3.4/24/8')).toContain('more than one "/"');
    expect(problem('1.2.3.4/')).toContain('not a number');
    expect(problem('a'.repeat(80))).toContain('too long');
  });

  it('refuses prefix lengths out of range and networks that would cut off the server itself', () => {
    expect(problem('192.0.2.0/33')).toContain('/33 out of range: IPv4 networks from /8 to /32');
    expect(problem('0.0.0.0/0')).toContain('/0 out of range');
    expect(problem('10.0.0.0/7')).toContain('/7 out of range');
    expect(problem('2001:db8::/129')).toContain('IPv6 networks from /16 to /128');
    expect(problem('2001:db8::/15')).toContain('out of range');
    for (const own of ['127.0.0.1', '127.0.0.0/8', '0.0.0.0', '::1', '::', '::/16', '224.0.0.5', '255.255.255.255', 'ff02::1', '::ffff:127.0.0.1']) {
      expect(problem(own)).toContain('loopback, unspecified, multicast or broadcast');
    }
  });

  it('lists every network containing an address, for searching', () => {
    const v4 = networksContaining(normalizeAddress('192.0.2.7'));
    expect(v4).toHaveLength(25);
    expect(v4.slice(0, 4)).toEqual(['192.0.2.7', '192.0.2.6/31', '192.0.2.4/30', '192.0.2.0/29']);
    expect(v4).toContain('192.0.2.0/24');
    expect(v4.at(-1)).toBe('192.0.0.0/8');
    const v6 = networksContaining(normalizeAddress('2001:db8::1'));
    expect(v6).toHaveLength(113);
    expect(v6).toContain('2001:db8::/32');
    expect(networksContaining(normalizeAddress('192.0.2.0/24'))).toEqual(['192.0.2.0/24']);
  });
});

describe('csf arguments', () => {
  it('comments are plain words starting with "antispam": no options, separators, newlines or "do not delete"', () => {
    expect(csfComment('#12 port scan: PS_LIMIT 11 hits')).toBe('antispam #12 port scan: PS_LIMIT 11 hits');
    const nasty = csfComment('x -d out -p 22|1.2.3.4\nnext line; $(id) `id` "quoted" do not delete DO NOT DELETE');
    expect(nasty).toMatch(safeComment);
    expect(nasty).not.toMatch(/[-|\n;$`"]/);
    expect(nasty.toLowerCase()).not.toContain('do not delete');
    expect(csfComment('')).toBe('antispam');
    expect(csfComment('word '.repeat(100)).length).toBeLessThanOrEqual(200);
  });

  it('the runner builds only allow-listed argument vectors and re-checks every argument', () => {
    expect(CsfRunner.argv('-td', ['192.0.2.7', '3600', 'antispam #1 manual'])).toEqual(['-td', '192.0.2.7', '3600', 'antispam #1 manual']);
    expect(CsfRunner.argv('-d', ['2001:db8::/48', 'antispam #2'])).toEqual(['-d', '2001:db8::/48', 'antispam #2']);
    expect(CsfRunner.argv('-tr', ['192.0.2.7'])).toEqual(['-tr', '192.0.2.7']);
    expect(CsfRunner.argv('-dr', ['192.0.2.0/24'])).toEqual(['-dr', '192.0.2.0/24']);
    const refused = (sub: string, args: string[]) => expect(() => CsfRunner.argv(sub as '-td', args), `${sub} ${args.join(' ')}`).toThrow(FirewallError);
    refused('-x', ['192.0.2.7']);
    refused('-df', []);
    refused('-td', ['192.0.2.7; id', '3600', 'antispam']);
    refused('-td', ['192.0.2.7/32', '3600', 'antispam']); // not canonical
    refused('-td', ['192.0.2.7', '3600s', 'antispam']);
    refused('-td', ['192.0.2.7', '10', 'antispam']);
    refused('-td', ['192.0.2.7', '3600', 'antispam -d out']);
    refused('-td', ['192.0.2.7', '3600', 'antispam\n10.0.0.1 # x']);
    refused('-td', ['192.0.2.7', '3600', 'something else']);
    refused('-td', ['192.0.2.7', '3600', 'antispam', 'extra']);
    refused('-d', ['192.0.2.7']);
    refused('-tr', ['192.0.2.7', 'extra']);
    refused('-dr', ['-f']);
  });

  it('reads TESTING from csf.conf', () => {
    expect(parseCsfTesting('TESTING = "1"\nTESTING_INTERVAL = "5"\n')).toBe(true);
    expect(parseCsfTesting('# TESTING = "1"\nTESTING = "0"\n')).toBe(false);
    expect(parseCsfTesting('TESTING="1" # until confirmed\n')).toBe(true);
    expect(parseCsfTesting('TESTING_INTERVAL = "5"\n')).toBeNull();
  });
});

describe('lfd reports', () => {
  it('maps lfd triggers to reasons', () => {
    expect(reasonForTrigger('PS_LIMIT')).toBe('port_scan');
    expect(reasonForTrigger('PORTFLOOD')).toBe('port_scan');
    expect(reasonForTrigger('CT_LIMIT')).toBe('port_scan');
    expect(reasonForTrigger('LF_SSHD')).toBe('login_failure');
    expect(reasonForTrigger('LF_SMTPAUTH')).toBe('login_failure');
    expect(reasonForTrigger('LF_DISTATTACK')).toBe('login_failure');
    expect(reasonForTrigger('RT_AUTHRELAY_LIMIT')).toBe('spam_source');
    expect(reasonForTrigger('LF_MODSEC')).toBe('hacking');
    expect(reasonForTrigger('LF_CUSTOMTRIGGER')).toBe('hacking');
  });

  it('turns the eight BLOCK_REPORT arguments into a block with evidence', () => {
    const now = new Date('2026-11-28T10:00:00.000Z');
    const report = lfdReportBody.parse({
      ip: '203.0.113.9',
      ports: '22,2222',
      permanent: '0',
      direction: 'in',
      ttl: '3600',
      message: '(sshd) Failed SSH login from 203.0.113.9 (XX/Nowhere/-): 5 in the last 3600 secs',
      logs: 'Nov 28 09:59:01 cp1 sshd[1]: Failed password for root from 203.0.113.9\n\u001b[31mNov 28 09:59:02 cp1 sshd[2]: Failed password for root from 203.0.113.9\n',
      trigger: 'LF_SSHD',
      host: 'cp1.example.net',
    });
    const block = blockFromLfdReport(report, now);
    expect(block).toMatchObject({ address: '203.0.113.9', reason: 'login_failure', trigger: 'LF_SSHD', expiry: { permanent: false, ttlSeconds: 3600 } });
    expect(block.evidence).toEqual({
      logLines: ['Nov 28 09:59:01 cp1 sshd[1]: Failed password for root from 203.0.113.9', '[31mNov 28 09:59:02 cp1 sshd[2]: Failed password for root from 203.0.113.9'],
      count: 5,
      firstSeen: '2026-11-28T09:00:00.000Z',
      lastSeen: '2026-11-28T10:00:00.000Z',
      ports: ['22', '2222'],
      direction: 'in',
      reportedBy: 'cp1.example.net',
    });
    expect(blockFromLfdReport(lfdReportBody.parse({ ip: '203.0.113.9', permanent: '1', ports: '*', trigger: 'PS_LIMIT' }), now)).toMatchObject({ reason: 'port_scan', expiry: { permanent: true }, evidence: { ports: [], count: 0 } });
    expect(blockFromLfdReport(lfdReportBody.parse({ ip: '203.0.113.9', ttl: '0' }), now).expiry).toEqual({ permanent: false, ttlSeconds: 3600 });
    expect(lfdReportBody.safeParse({ ip: '203.0.113.9', trigger: 'LF_SSHD; id' }).success).toBe(false);
    expect(lfdReportBody.safeParse({ ip: '203.0.113.9', permanent: 'yes' }).success).toBe(false);
  });

  it('parses CLI durations', () => {
    expect(parseDuration('3600')).toBe(3600);
    expect(parseDuration('30m')).toBe(1800);
    expect(parseDuration('12h')).toBe(43_200);
    expect(parseDuration('7d')).toBe(604_800);
    expect(parseDuration('2w')).toBe(1_209_600);
    expect(parseDuration('1 day')).toBeNull();
    expect(parseDuration('-5')).toBeNull();
  });
});
