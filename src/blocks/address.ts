import net from 'node:net';
import { ValidationError } from '../lib/errors';

/**
 * IP addresses and networks as the block list stores them and hands them to the firewall: one
 * canonical text per network, so "192.0.2.7/32", "192.0.2.7" and "::ffff:192.0.2.7" are one block,
 * and a value that reaches the csf command line can only be digits, hex, dots, colons and a slash.
 */
export interface NormalizedAddress {
  /** "192.0.2.7", "192.0.2.0/24", "2001:db8::1", "2001:db8::/32" (host bits zeroed, IPv6 compressed, lowercase). */
  address: string;
  family: 4 | 6;
  /** null for a single address. */
  prefix: number | null;
}

/** Widest networks accepted: a /7 or a /15 of IPv6 would cut off a large part of the internet, including, most likely, the admins. */
export const minPrefix: Record<4 | 6, number> = { 4: 8, 6: 16 };
const bits: Record<4 | 6, number> = { 4: 32, 6: 128 };
/** Longest text an address or CIDR can have (an IPv4-mapped IPv6 address with a prefix), well under the column's 64. */
const maxLength = 49;
const safeCharacters = /^[0-9A-Fa-f:./]+$/;

const expects = 'expects an IPv4 or IPv6 address or network, e.g. 192.0.2.7, 192.0.2.0/24 or 2001:db8::/48';

/** Addresses a block must never cover: blocking them breaks the server itself, not an attacker. */
const reserved = new net.BlockList();
reserved.addSubnet('0.0.0.0', 8, 'ipv4');
reserved.addSubnet('127.0.0.0', 8, 'ipv4');
reserved.addSubnet('224.0.0.0', 4, 'ipv4');
reserved.addAddress('255.255.255.255', 'ipv4');
reserved.addAddress('::', 'ipv6');
reserved.addAddress('::1', 'ipv6');
reserved.addSubnet('ff00::', 8, 'ipv6');

function toBytes(host: string, family: 4 | 6): number[] {
  if (family === 4) return host.split('.').map(Number);
  let text = host;
  const tail: number[] = [];
  // An embedded IPv4 tail ("::ffff:192.0.2.7") is the last four bytes.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    tail.push(...v4[1]!.split('.').map(Number));
    text = text.slice(0, -v4[1]!.length);
    if (text.endsWith(':') && !text.endsWith('::')) text = text.slice(0, -1);
  }
  const [head, rest] = text.includes('::') ? text.split('::') : [text, null];
  const groups = (s: string | undefined) => (s ? s.split(':').filter((g) => g !== '') : []);
  const left = groups(head);
  const right = rest === null ? [] : groups(rest);
  const missing = 8 - tail.length / 2 - left.length - right.length;
  const all = [...left, ...Array<string>(rest === null ? 0 : missing).fill('0'), ...right];
  const bytes: number[] = [];
  for (const g of all) {
    const n = parseInt(g, 16);
    bytes.push(n >> 8, n & 0xff);
  }
  return [...bytes, ...tail];
}

function fromBytes(bytes: number[], family: 4 | 6): string {
  if (family === 4) return bytes.join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  // The platform's inet_ntop gives the RFC 5952 form (longest zero run compressed, lowercase).
  return new net.SocketAddress({ address: groups.join(':'), family: 'ipv6' }).address;
}

function zeroHostBits(bytes: number[], prefix: number): number[] {
  return bytes.map((b, i) => {
    const keep = Math.max(0, Math.min(8, prefix - i * 8));
    return keep === 8 ? b : b & ((0xff << (8 - keep)) & 0xff);
  });
}

/**
 * Validates and canonicalises an address or CIDR, or throws a 422 naming `field`.
 * Nothing is trimmed: a value with spaces, newlines or any character that cannot be part of an
 * address is refused outright rather than cleaned, since it may be an attempt to smuggle arguments.
 */
export function normalizeAddress(input: unknown, field = 'address'): NormalizedAddress {
  const fail = (problem: string): never => {
    throw new ValidationError({ [field]: problem });
  };
  if (typeof input !== 'string' || input === '') return fail(`is required: ${expects}`);
  if (input.length > maxLength) return fail(`is too long to be an address (${input.length} characters); ${expects}`);
  if (!safeCharacters.test(input)) return fail(`contains characters that cannot be part of an address (only digits, a-f, ".", ":" and one "/" are allowed); ${expects}`);
  const parts = input.split('/');
  if (parts.length > 2) return fail(`has more than one "/"; ${expects}`);
  const [host, prefixText] = parts as [string, string | undefined];
  const detected = net.isIP(host);
  if (detected !== 4 && detected !== 6) return fail(`"${host}" is not an IP address; ${expects}`);
  let family: 4 | 6 = detected;
  let bytes = toBytes(host, family);
  let prefix: number | null = null;
  if (prefixText !== undefined) {
    if (!/^\d{1,3}$/.test(prefixText)) return fail(`has a prefix length "/${prefixText}" that is not a number; ${expects}`);
    prefix = Number(prefixText);
    if (prefix < minPrefix[family] || prefix > bits[family]) {
      return fail(`has a prefix length /${prefix} out of range: IPv${family} networks from /${minPrefix[family]} to /${bits[family]} (a wider network would block a large part of the internet)`);
    }
  }
  // IPv4-mapped IPv6 ("::ffff:192.0.2.7") is the IPv4 address: one block, not two.
  const mapped = family === 6 && bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  if (mapped && (prefix === null || prefix >= 96 + minPrefix[4])) {
    family = 4;
    bytes = bytes.slice(12);
    if (prefix !== null) prefix -= 96;
  }
  if (prefix === bits[family]) prefix = null;
  if (prefix !== null) bytes = zeroHostBits(bytes, prefix);
  const base = fromBytes(bytes, family);
  const type = family === 4 ? 'ipv4' : 'ipv6';
  const covered = new net.BlockList();
  if (prefix === null) covered.addAddress(base, type);
  else covered.addSubnet(base, prefix, type);
  const probes = family === 4 ? ['0.0.0.0', '127.0.0.1', '224.0.0.1', '255.255.255.255'] : ['::', '::1', 'ff02::1'];
  if (reserved.check(base, type) || probes.some((p) => covered.check(p, type))) {
    return fail(`${prefix === null ? base : `${base}/${prefix}`} is or contains a loopback, unspecified, multicast or broadcast address; blocking it would break the server, not an attacker`);
  }
  return { address: prefix === null ? base : `${base}/${prefix}`, family, prefix };
}

/**
 * Every canonical network (from the widest accepted prefix down to the single address) that
 * contains `address`: a search for an IP finds the blocks of networks it belongs to with a plain
 * `IN (...)`, the same on SQLite and MySQL.
 */
export function networksContaining(address: NormalizedAddress): string[] {
  if (address.prefix !== null) return [address.address];
  const host = address.address;
  const bytes = toBytes(host, address.family);
  const out = [host];
  for (let prefix = bits[address.family] - 1; prefix >= minPrefix[address.family]; prefix--) {
    out.push(`${fromBytes(zeroHostBits(bytes, prefix), address.family)}/${prefix}`);
  }
  return out;
}
