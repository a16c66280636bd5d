/**
 * Reads the reported ("original") message: part 3 of an ARF report, the attachment of a JMRP report or forward,
 * or the pseudo-message rebuilt from an inline forwarded block.
 */
import type { OriginalMessage } from './types';
import { fixEncoding, headerValue, headerValues, parseHeaderBlock, type HeaderField, type Warnings } from './mime';
import {
  addressList,
  decodeWords,
  extractAddress,
  ipsIn,
  isLoopbackOrUnspecified,
  normaliseDomain,
  parseDate,
  parseReceived,
  stripAngles,
  type ReceivedHop,
} from './text';

export type { OriginalMessage };
type AntiAbuse = OriginalMessage['antiAbuse'];

/** The original plus what classification needs beyond the public shape. */
export interface OriginalInfo {
  original: OriginalMessage;
  fields: HeaderField[];
  hops: ReceivedHop[];
  /** X-Originating-IP values, normalised. */
  originatingIps: string[];
}

export const HEADER_TEXT_CAP = 64 * 1024;
const MAX_HOPS = 100;
const MAX_IPS = 100;

export function emptyOriginal(present: OriginalMessage['present']): OriginalMessage {
  return {
    present,
    messageId: null,
    from: null,
    returnPath: null,
    subject: null,
    date: null,
    to: [],
    dkimDomains: [],
    receivedIps: [],
    antiAbuse: { senderDomain: null, authenticatedUser: null, authenticatedSender: null, caller: null },
    headerText: null,
  };
}

export function emptyInfo(present: OriginalMessage['present']): OriginalInfo {
  return { original: emptyOriginal(present), fields: [], hops: [], originatingIps: [] };
}

/** "REDACTED" (Return Path v2, sample 09) or a similar short placeholder instead of a message. */
export function isRedactedPlaceholder(content: string): boolean {
  if (content.length > 2048) return false;
  const t = content.trim();
  if (!t || t.length > 512) return false;
  return /^[[(<*_-]*redacted[\])>*_.-]*$/i.test(t) || /^(?:message|content|original message)\s+(?:has been\s+)?redacted\.?$/i.test(t);
}

const KNOWN_HEADER_NAMES = new Set([
  'received', 'from', 'to', 'subject', 'date', 'message-id', 'return-path', 'dkim-signature', 'mime-version',
  'content-type', 'reply-to', 'sender', 'x-mailer', 'delivered-to', 'cc',
]);

/** The text starts with a plausible header block (at least two fields, one of them a common mail header). */
export function looksLikeHeaderBlock(content: string): boolean {
  const s = content.length > 65536 ? content.slice(0, 65536) : content;
  let start = 0;
  while (start < s.length && s.charCodeAt(start) === 10) start++;
  const hb = parseHeaderBlock(s, start, s.length, 'stop');
  return hb.fields.length >= 2 && hb.fields.some((f) => KNOWN_HEADER_NAMES.has(f.lname));
}

function dkimDomain(value: string): string | null {
  for (const tag of value.split(';')) {
    const eq = tag.indexOf('=');
    if (eq === -1) continue;
    if (tag.slice(0, eq).trim().toLowerCase() !== 'd') continue;
    const d = tag.slice(eq + 1).replace(/\s+/g, '').toLowerCase();
    return /^[a-z0-9._-]{1,253}$/.test(d) && d.includes('.') ? d : null;
  }
  return null;
}

function readAntiAbuse(fields: readonly HeaderField[]): AntiAbuse {
  const out: AntiAbuse = { senderDomain: null, authenticatedUser: null, authenticatedSender: null, caller: null };
  for (const v of headerValues(fields, 'x-antiabuse')) {
    const dash = v.indexOf(' - ');
    if (dash === -1) continue;
    const key = v.slice(0, dash).trim().toLowerCase();
    const val = v.slice(dash + 3).trim();
    if (!val) continue;
    if (key === 'sender address domain' && out.senderDomain === null) out.senderDomain = normaliseDomain(val);
    else if (key === 'originator/caller uid/gid' && out.caller === null) out.caller = val.slice(0, 200);
  }
  // cPanel/Exim: "host: authenticated_id: user@domain" (SMTP auth) or "host: authenticated_local_user: user"
  // (local submission, e.g. PHP mail()); the topmost header is the last cPanel server the mail passed.
  for (const v of headerValues(fields, 'x-get-message-sender-via')) {
    const m = /(?:^|[\s:])authenticated_(?:id|local_user):\s*([^\s;,]{1,320})/i.exec(v.slice(0, 2048));
    if (m) {
      // "user@domain", "cpuser", "cpuser/only user confirmed/…" or "user+domain/user@domain"
      const pieces = m[1]!.replace(/^<|>$/g, '').split('/');
      out.authenticatedUser = (pieces.find((p) => p.includes('@')) ?? pieces[0] ?? '').toLowerCase() || null;
      break;
    }
  }
  for (const v of headerValues(fields, 'x-authenticated-sender')) {
    const last = v.lastIndexOf(': ');
    const tok = (last === -1 ? v : v.slice(last + 2)).trim().split(/\s+/)[0] ?? '';
    const cleaned = tok.replace(/^<|>$/g, '').toLowerCase();
    if (cleaned) {
      out.authenticatedSender = cleaned.slice(0, 320);
      break;
    }
  }
  return out;
}

/**
 * Reads an original message (kind 'message') or header block (kind 'headers') from a binary string.
 * present: 'redacted' for a placeholder, 'missing' when no header block is there, 'headers' for header-only
 * content (declared as such, or a message whose body is empty), 'full' otherwise.
 */
export function readOriginal(content: string, kind: 'message' | 'headers', warnings: Warnings, label: string): OriginalInfo {
  if (isRedactedPlaceholder(content)) return emptyInfo('redacted');
  let start = 0;
  while (start < content.length && start < 64 && (content.charCodeAt(start) === 10 || content.charCodeAt(start) === 13)) start++;
  const hb = parseHeaderBlock(content, start, content.length, 'stop');
  if (hb.fields.length === 0) {
    warnings.add(content.trim() ? `${label} holds no header block` : `${label} is empty`);
    return emptyInfo('missing');
  }
  if (hb.truncatedValues > 0) warnings.add(`${label}: header value longer than 16 KiB truncated`);
  const fields = hb.fields;
  let present: OriginalMessage['present'] = 'headers';
  if (kind === 'message') {
    let k = hb.bodyStart;
    const max = Math.min(content.length, k + 65536);
    while (k < max && content.charCodeAt(k) <= 32) k++;
    if (k < max) present = 'full';
  }

  let headerText = content.slice(start, Math.max(start, hb.headerEnd));
  if (headerText.length > HEADER_TEXT_CAP) {
    const cut = headerText.lastIndexOf('\n', HEADER_TEXT_CAP);
    headerText = headerText.slice(0, cut > 0 ? cut : HEADER_TEXT_CAP);
    warnings.add(`${label}: header block longer than 64 KiB; headerText truncated`);
  }

  const hops = headerValues(fields, 'received').slice(0, MAX_HOPS).map(parseReceived);
  const originatingIps = new Set<string>();
  for (const v of headerValues(fields, 'x-originating-ip').slice(0, 10)) for (const ip of ipsIn(v)) originatingIps.add(ip);
  const receivedIps = new Set<string>();
  for (const hop of hops) for (const ip of hop.fromIps) if (!isLoopbackOrUnspecified(ip) && receivedIps.size < MAX_IPS) receivedIps.add(ip);
  for (const ip of originatingIps) if (receivedIps.size < MAX_IPS) receivedIps.add(ip);

  const dkimDomains: string[] = [];
  for (const v of headerValues(fields, 'dkim-signature').slice(0, 50)) {
    const d = dkimDomain(v);
    if (d && !dkimDomains.includes(d)) dkimDomains.push(d);
  }

  const subjectRaw = headerValue(fields, 'subject');
  const dateRaw = headerValue(fields, 'date');
  const parsedDate = parseDate(dateRaw);
  if (dateRaw && !parsedDate) warnings.add(`${label}: unparseable Date "${dateRaw.slice(0, 60)}"`);
  if (parsedDate?.assumedUtc) warnings.add(`${label}: Date has no usable time zone; UTC assumed`);
  const fromRaw = headerValue(fields, 'from');

  const original: OriginalMessage = {
    present,
    messageId: stripAngles(headerValue(fields, 'message-id')),
    from: fromRaw ? (addressList([fromRaw], 1)[0] ?? extractAddress(fromRaw)) : null,
    returnPath: extractAddress(headerValue(fields, 'return-path'), true),
    subject: subjectRaw !== undefined ? decodeWords(subjectRaw, warnings).replace(/\s+/g, ' ').trim().slice(0, 2000) : null,
    date: parsedDate?.date ?? null,
    to: addressList(headerValues(fields, 'to')),
    dkimDomains,
    receivedIps: [...receivedIps],
    antiAbuse: readAntiAbuse(fields),
    headerText: fixEncoding(headerText),
  };
  return { original, fields, hops, originatingIps: [...originatingIps] };
}
