/**
 * Field-level helpers for complaint parsing: RFC 2047 words, RFC 5322 dates, IPs, addresses, Received headers.
 * Inputs are capped before any regex touches them; no regex here has nested or overlapping unbounded quantifiers.
 */
import { isIP } from 'node:net';
import { parseAddressHeader } from 'mailparser';
import { decodeCharset, type Warnings } from './mime';

// ---------------------------------------------------------------------------------------------------------------
// RFC 2047 encoded words

function isBlank(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 10 && c !== 13) return false;
  }
  return true;
}

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

function decodeQWord(text: string): Buffer {
  const out = Buffer.allocUnsafe(text.length);
  let o = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 95) out[o++] = 32;
    else if (c === 61 && i + 2 < text.length && isHex(text.charCodeAt(i + 1)) && isHex(text.charCodeAt(i + 2))) {
      out[o++] = parseInt(text.slice(i + 1, i + 3), 16);
      i += 2;
    } else out[o++] = c & 0xff;
  }
  return out.subarray(0, o);
}

/** Decodes RFC 2047 encoded words; adjacent words in the same charset are joined before decoding. */
export function decodeWords(input: string, warnings: Warnings | null = null): string {
  const s = input.length > 4096 ? input.slice(0, 4096) : input;
  if (s.indexOf('=?') === -1) return s;
  let out = '';
  let i = 0; // start of text not yet emitted
  let searchFrom = 0;
  let pending: { charset: string; chunks: Buffer[] } | null = null;
  const flush = (): void => {
    if (!pending) return;
    out += decodeCharset(Buffer.concat(pending.chunks), pending.charset, warnings);
    pending = null;
  };
  while (searchFrom < s.length) {
    const start = s.indexOf('=?', searchFrom);
    if (start === -1) break;
    searchFrom = start + 2;
    const q1 = s.indexOf('?', start + 2);
    if (q1 === -1 || q1 - start > 80 || q1 + 2 >= s.length || s[q1 + 2] !== '?') continue;
    const enc = s[q1 + 1];
    if (enc !== 'B' && enc !== 'b' && enc !== 'Q' && enc !== 'q') continue;
    const end = s.indexOf('?=', q1 + 3);
    if (end === -1) continue;
    const charset = s.slice(start + 2, q1);
    const text = s.slice(q1 + 3, end);
    const bytes = enc === 'B' || enc === 'b' ? Buffer.from(text, 'base64') : decodeQWord(text);
    if (pending && isBlank(s, i, start)) {
      // whitespace between adjacent encoded words is dropped
    } else {
      flush();
      out += s.slice(i, start);
    }
    const pendingNow = pending as { charset: string; chunks: Buffer[] } | null;
    if (pendingNow && pendingNow.charset.toLowerCase() === charset.toLowerCase()) pendingNow.chunks.push(bytes);
    else {
      flush();
      pending = { charset, chunks: [bytes] };
    }
    i = end + 2;
    searchFrom = i;
  }
  flush();
  return out + s.slice(i);
}

// ---------------------------------------------------------------------------------------------------------------
// Dates (RFC 5322 plus obsolete and common non-standard forms). Never uses local time.

const MONTHS = new Map<string, number>(Object.entries({
  jan: 0, feb: 1, mar: 2, apr: 3, may: 4, jun: 5, jul: 6, aug: 7, sep: 8, oct: 9, nov: 10, dec: 11,
}));
/** Offsets in minutes. RFC 5322 obsolete zones plus zone names seen in real report mail. */
const ZONES = new Map<string, number>(Object.entries({
  ut: 0, utc: 0, gmt: 0, z: 0, wet: 0,
  est: -300, edt: -240, cst: -360, cdt: -300, mst: -420, mdt: -360, pst: -480, pdt: -420,
  akst: -540, akdt: -480, hst: -600,
  bst: 60, cet: 60, met: 60, west: 60, cest: 120, mest: 120, eet: 120, eest: 180, msk: 180,
  ist: 330, sgt: 480, hkt: 480, awst: 480, jst: 540, kst: 540, aest: 600, aedt: 660, nzst: 720, nzdt: 780,
}));
const DAY_NAMES = new Set(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']);

export interface ParsedDate {
  date: Date;
  /** No usable zone was given; UTC was assumed. */
  assumedUtc: boolean;
}

function stripComments(s: string): string {
  if (s.indexOf('(') === -1) return s;
  let out = '';
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (ch === '(') depth++;
    else if (ch === ')') depth = Math.max(0, depth - 1);
    else if (depth === 0) out += ch;
  }
  return out;
}

export function parseDate(input: string | undefined): ParsedDate | null {
  if (!input) return null;
  const s = stripComments(input.length > 200 ? input.slice(0, 200) : input).trim();
  if (!s) return null;
  // ISO 8601 (some generators use it): 2016-01-19T15:14:53Z / 2016-01-19 15:14:53+00:00
  const iso = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?(?:\.\d{1,9})?\s?(Z|[+-]\d{2}:?\d{2})?$/i.exec(s);
  if (iso) {
    const zone = iso[7];
    let offset = 0;
    if (zone && zone.toUpperCase() !== 'Z') {
      const digits = zone.replace(':', '');
      offset = (digits[0] === '-' ? -1 : 1) * (Number(digits.slice(1, 3)) * 60 + Number(digits.slice(3, 5)));
    }
    return build(Number(iso[1]), Number(iso[2]) - 1, Number(iso[3]), Number(iso[4]), Number(iso[5]), Number(iso[6] ?? 0), offset, !zone);
  }
  const tokens = s.replace(/[,]/g, ' ').split(/[\s]+/).filter(Boolean);
  let day = -1;
  let month = -1;
  let year = -1;
  let hh = -1;
  let mm = -1;
  let ss = 0;
  let offset: number | null = null;
  let meridiem: 'am' | 'pm' | null = null;
  for (let t of tokens) {
    if (t.length > 40) return null;
    // "8-Mar-2005"
    if (/^\d{1,2}-[A-Za-z]{3,9}-\d{2,4}$/.test(t)) {
      const [d, mo, y] = t.split('-') as [string, string, string];
      day = Number(d);
      month = MONTHS.get(mo.slice(0, 3).toLowerCase()) ?? -1;
      year = Number(y);
      continue;
    }
    if (/^\d{1,2}:\d{2}(?::\d{2})?(?:\.\d{1,9})?$/.test(t) && hh < 0) {
      const parts = t.split('.')[0]!.split(':');
      hh = Number(parts[0]);
      mm = Number(parts[1]);
      ss = parts[2] !== undefined ? Number(parts[2]) : 0;
      continue;
    }
    if (/^[+-]\d{4}$/.test(t) || /^[+-]\d{2}:\d{2}$/.test(t)) {
      if (offset === null) {
        t = t.replace(':', '');
        const h = Number(t.slice(1, 3));
        const m = Number(t.slice(3, 5));
        if (m >= 60 || h > 23) return null;
        offset = (t[0] === '-' ? -1 : 1) * (h * 60 + m);
      }
      continue;
    }
    if (/^\d+$/.test(t)) {
      if (t.length === 4 && year < 0) year = Number(t);
      else if (t.length <= 2 && day < 0) day = Number(t);
      else if (t.length <= 3 && year < 0) year = Number(t);
      else return null;
      continue;
    }
    if (/^[A-Za-z]+\.?$/.test(t)) {
      const w = t.replace('.', '').toLowerCase();
      const mo = MONTHS.get(w.slice(0, 3));
      if (mo !== undefined && w.length >= 3 && month < 0 && (w.length === 3 || 'january february march april may june july august september october november december'.includes(w))) {
        month = mo;
        continue;
      }
      if (DAY_NAMES.has(w.slice(0, 3))) continue;
      if (w === 'am' || w === 'pm') {
        meridiem = w;
        continue;
      }
      if (offset === null) {
        const z = ZONES.get(w);
        if (z !== undefined) offset = z;
        else if (w.length === 1) offset = 0; // RFC 5322: military zones are treated as -0000
      }
      continue;
    }
    // anything else (e.g. "FILETIME=[...]") is ignored
  }
  if (day < 1 || month < 0 || year < 0 || hh < 0) return null;
  if (meridiem === 'pm' && hh < 12) hh += 12;
  else if (meridiem === 'am' && hh === 12) hh = 0;
  if (year < 50) year += 2000;
  else if (year < 1000) year += 1900;
  return build(year, month, day, hh, mm, ss, offset ?? 0, offset === null);
}

function build(year: number, month: number, day: number, hh: number, mm: number, ss: number, offsetMin: number, assumedUtc: boolean): ParsedDate | null {
  if (month < 0 || month > 11 || day < 1 || day > 31 || hh > 24 || mm > 59 || ss > 60 || year < 1970 || year > 9999) return null;
  const ms = Date.UTC(year, month, day, hh, mm, Math.min(ss, 59)) - offsetMin * 60_000;
  const check = new Date(Date.UTC(year, month, day));
  if (check.getUTCDate() !== day || Number.isNaN(ms)) return null;
  return { date: new Date(ms), assumedUtc };
}

// ---------------------------------------------------------------------------------------------------------------
// IP addresses

/** A normalised IP from a token like "[192.0.2.1]", "IPv6:2001:db8::1", "192.0.2.1:25", "::ffff:192.0.2.1". */
export function normalizeIp(token: string): string | null {
  let t = token.trim();
  if (t.length > 60 || t.length < 2) return null;
  if (t[0] === '[' && t[t.length - 1] === ']') t = t.slice(1, -1);
  if (/^ipv6:/i.test(t)) t = t.slice(5);
  const pct = t.indexOf('%');
  if (pct !== -1) t = t.slice(0, pct);
  if (t.endsWith('.')) t = t.slice(0, -1);
  let kind = isIP(t);
  if (kind === 0) {
    const withPort = /^(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}):\d{1,5}$/.exec(t);
    if (!withPort) return null;
    t = withPort[1]!;
    kind = isIP(t);
    if (kind !== 4) return null;
  }
  if (kind === 6) {
    t = t.toLowerCase();
    const mapped = /^::ffff:(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/.exec(t);
    if (mapped && isIP(mapped[1]!) === 4) return mapped[1]!;
  }
  return t;
}

function v4(ip: string): number[] | null {
  const p = ip.split('.');
  if (p.length !== 4) return null;
  return p.map(Number);
}

export function isLoopbackOrUnspecified(ip: string): boolean {
  const o = v4(ip);
  if (o) return o[0] === 127 || o[0] === 0;
  return ip === '::1' || ip === '::';
}

/**
 * "Public-looking": not loopback, unspecified, private (RFC 1918 / ULA), CGNAT, link-local, multicast or reserved.
 * Documentation ranges (192.0.2/24, 198.51.100/24, 203.0.113/24, 2001:db8::/32) count as public-looking: they
 * never occur in real mail, but every anonymised fixture uses them for the "real" sender.
 */
export function isPublicLooking(ip: string): boolean {
  const o = v4(ip);
  if (o) {
    const [a, b] = o as [number, number, number, number];
    if (a === 0 || a === 10 || a === 127 || a >= 224) return false;
    if (a === 169 && b === 254) return false;
    if (a === 172 && b >= 16 && b <= 31) return false;
    if (a === 192 && b === 168) return false;
    if (a === 100 && b >= 64 && b <= 127) return false;
    return true;
  }
  const l = ip.toLowerCase();
  if (l === '::' || l === '::1') return false;
  if (/^fe[89ab]/.test(l) || /^f[cd]/.test(l) || l.startsWith('ff')) return false;
  return true;
}

/** IPs among the tokens of a short text (Received from-clause, subject, X-Originating-IP). */
export function ipsIn(text: string, max = 20): string[] {
  const out: string[] = [];
  const s = text.length > 4096 ? text.slice(0, 4096) : text;
  for (const tok of s.split(/[^0-9A-Za-z:.%]+/)) {
    if (tok.length < 3 || (tok.indexOf('.') === -1 && tok.indexOf(':') === -1)) continue;
    const ip = normalizeIp(tok);
    if (ip && !out.includes(ip)) {
      out.push(ip);
      if (out.length >= max) break;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Received headers

export interface ReceivedHop {
  /** IPs in the from-clause (the connecting client), in order. */
  fromIps: string[];
  /** Host names in the from-clause (HELO and reverse DNS). */
  fromHosts: string[];
  byHost: string | null;
  /** The by-clause text, for trap markers. */
  byClause: string;
  date: Date | null;
}

function isHostName(t: string): boolean {
  return t.length <= 253 && /^[a-z0-9_-]+(?:\.[a-z0-9_-]+)+$/.test(t) && /[a-z]/.test(t) && isIP(t) === 0;
}

export function parseReceived(value: string): ReceivedHop {
  const v = value.length > 4096 ? value.slice(0, 4096) : value;
  const lower = v.toLowerCase();
  const semi = lower.lastIndexOf(';');
  const date = semi !== -1 ? (parseDate(v.slice(semi + 1))?.date ?? null) : null;
  const head = semi !== -1 ? lower.slice(0, semi) : lower;
  const byMatch = /(?:^|[\s)\]])by\s/.exec(head);
  const byIdx = byMatch ? byMatch.index + byMatch[0].indexOf('by') : -1;
  let fromClause = '';
  const trimmed = head.trimStart();
  if (trimmed.startsWith('from')) {
    const fromStart = head.indexOf('from') + 4;
    fromClause = v.slice(fromStart, byIdx > fromStart ? byIdx : head.length);
  }
  let byClause = '';
  let byHost: string | null = null;
  if (byIdx !== -1) {
    byClause = head.slice(byIdx + 2, byIdx + 2 + 300);
    const tok = byClause.trim().split(/[\s;()]+/)[0] ?? '';
    const host = tok.replace(/\.$/, '');
    byHost = isHostName(host) ? host : null;
  }
  const fromHosts: string[] = [];
  for (const tok of fromClause.toLowerCase().split(/[\s()[\]<>;,=?]+/)) {
    const h = tok.replace(/\.$/, '');
    if (h && isHostName(h) && !fromHosts.includes(h)) fromHosts.push(h);
  }
  return { fromIps: ipsIn(fromClause), fromHosts, byHost, byClause, date };
}

/**
 * Crude organisational domain: the last two labels, or three under a two-letter ccTLD with a short second level
 * (co.uk, com.au, ne.jp). Only used to tell a provider's internal relay hops from the hop that received the mail.
 */
export function orgDomain(host: string): string {
  const labels = host.toLowerCase().split('.').filter(Boolean);
  if (labels.length <= 2) return labels.join('.');
  const tld = labels[labels.length - 1]!;
  const sld = labels[labels.length - 2]!;
  const n = tld.length === 2 && sld.length <= 3 ? 3 : 2;
  return labels.slice(-n).join('.');
}

/**
 * The source IP of a message from its Received chain (top first): the first public-looking from-IP of a hop that
 * is not an internal relay (from-host and by-host in the same organisational domain); failing that, the first
 * public-looking from-IP of any hop.
 */
export function sourceFromReceived(hops: readonly ReceivedHop[]): string | null {
  for (const hop of hops) {
    const ip = hop.fromIps.find(isPublicLooking);
    if (!ip) continue;
    const byOrg = hop.byHost ? orgDomain(hop.byHost) : null;
    const internal = byOrg !== null && hop.fromHosts.some((h) => orgDomain(h) === byOrg);
    if (!internal) return ip;
  }
  for (const hop of hops) {
    const ip = hop.fromIps.find(isPublicLooking);
    if (ip) return ip;
  }
  return null;
}

// ---------------------------------------------------------------------------------------------------------------
// Addresses

export function looksLikeAddress(a: string): boolean {
  return a.length <= 320 && /^[^\s@<>()[\],;:"]+@[^\s@<>()[\],;:"]+$/.test(a) && !a.endsWith('.');
}

/** Lowercases an address, or only its domain when `keepLocalCase` (VERP tokens can be case-sensitive). */
function caseAddress(a: string, keepLocalCase: boolean): string {
  if (!keepLocalCase) return a.toLowerCase();
  const at = a.lastIndexOf('@');
  return a.slice(0, at + 1) + a.slice(at + 1).toLowerCase();
}

/** The bare address of a single-address value: "<a@b>", "Name <a@b>", "rfc822; a@b", "a@b (comment)". */
export function extractAddress(value: string | undefined, keepLocalCase = false): string | null {
  const cand = addressCandidate(value);
  if (!cand || !looksLikeAddress(cand)) return null;
  return caseAddress(cand, keepLocalCase);
}

/** The address-like part of a value before validation (kept for redaction checks). */
export function addressCandidate(value: string | undefined): string | null {
  if (!value) return null;
  let v = (value.length > 1024 ? value.slice(0, 1024) : value).trim();
  if (/^rfc822\s*;/i.test(v)) v = v.slice(v.indexOf(';') + 1).trim();
  const lt = v.indexOf('<');
  if (lt !== -1) {
    const gt = v.indexOf('>', lt + 1);
    v = v.slice(lt + 1, gt === -1 ? undefined : gt).trim();
  } else {
    const toks = stripComments(v).trim().split(/\s+/);
    v = toks.find((t) => t.includes('@')) ?? toks[0] ?? '';
  }
  if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1);
  return v || null;
}

/** Addresses of address-list headers (From, To, …), lowercased, valid and deduplicated. Uses mailparser. */
export function addressList(values: readonly string[], max = 100, keepLocalCase = false): string[] {
  const out: string[] = [];
  let budget = 16 * 1024; // characters handed to the address parser in total
  for (const value of values) {
    if (budget <= 0) break;
    const v = value.length > Math.min(8192, budget) ? value.slice(0, Math.min(8192, budget)) : value;
    budget -= v.length + 1;
    let parsed: ReturnType<typeof parseAddressHeader>;
    try {
      parsed = parseAddressHeader(v);
    } catch {
      const a = extractAddress(v, keepLocalCase);
      if (a && !out.includes(a)) out.push(a);
      continue;
    }
    const stack = [...(parsed.value ?? [])].reverse();
    while (stack.length && out.length < max) {
      const item = stack.pop()!;
      if (item.group) {
        for (let i = item.group.length - 1; i >= 0; i--) stack.push(item.group[i]!);
        continue;
      }
      const raw = (item.address ?? '').trim();
      const a = raw && looksLikeAddress(raw) ? caseAddress(raw, keepLocalCase) : '';
      if (a && !out.includes(a)) out.push(a);
    }
    if (out.length >= max) break;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Misc

export function stripAngles(v: string | undefined): string | null {
  if (!v) return null;
  let s = v.trim();
  const lt = s.indexOf('<');
  if (lt !== -1) {
    const gt = s.indexOf('>', lt + 1);
    s = s.slice(lt + 1, gt === -1 ? undefined : gt);
  } else {
    s = s.split(/\s+/)[0] ?? '';
  }
  s = s.trim();
  return s ? s.slice(0, 998) : null;
}

export function normaliseDomain(v: string): string | null {
  let d = v.trim().toLowerCase();
  if (d.startsWith('<') && d.endsWith('>')) d = d.slice(1, -1);
  const at = d.lastIndexOf('@');
  if (at !== -1) d = d.slice(at + 1);
  if (d.endsWith('.')) d = d.slice(0, -1);
  if (!d || d.length > 253 || /[\s,;<>()"]/.test(d)) return null;
  return d;
}
