/**
 * Spam-complaint intake: a pure parser/classifier for mail arriving at abuse@ and feedback-loop addresses.
 *
 * parseComplaint(raw) does no I/O and never throws. It resolves to { ok: true, report } for anything it can
 * classify, or to { ok: false, reason } (one sentence for the admin triage queue) for input that is not a mail or a
 * report too broken to use. An internal exception becomes { ok: false, reason: "parser error: …" }.
 *
 * Formats
 * - 'arf': RFC 5965, multipart/report; report-type=feedback-report with a message/feedback-report part (found
 *   anywhere in the MIME tree; Content-Type parameters go through a real tokenizer: any order, quoting, comments,
 *   RFC 2231). Feedback-Type abuse | fraud | virus → isComplaint. other | not-spam | auth-failure | opt-out are
 *   classified but are not complaints. Unregistered lookalikes are mapped with a warning (spam/complaint → abuse,
 *   phishing → fraud, malware → virus, notspam → not-spam, optout/unsubscribe → opt-out). Anything else → other.
 * - 'jmrp': legacy Microsoft JMRP: a message/rfc822 part carrying X-HmXmrOriginalRecipient, or a
 *   hotmail/msn/live/outlook.com sender with the subject "complaint about message from <ip>". feedbackType abuse.
 * - 'unsubscribe': automatic unsubscribe mail (X-Apple-Unsubscribe: true; or Subject "unsubscribe" with
 *   Auto-Submitted, or a To local part like unsubscribe…/opt-out…/leave…/remove…), with no attached message. Not a
 *   complaint. recipients = the sender (the person leaving); each To address (local part case kept) goes to
 *   reportedUris as mailto:…, and its domain goes to reportedDomains.
 * - 'forwarded': a person forwarding spam to abuse@. The spam is attached as message/rfc822 (or message/global,
 *   text/rfc822-headers, a non-text *.eml attachment), or it is inline after "---------- Forwarded message ---------",
 *   "Begin forwarded message:", "-----Original Message-----" or a few translations, followed by From plus
 *   Subject/Date/To lines (HTML-only bodies are converted to text first). feedbackType abuse. An ARF report attached
 *   to a forward is parsed as ARF, with a warning.
 * - 'unknown': a well-formed mail that is none of the above: a bounce (non-feedback multipart/report), an
 *   auto-reply, or free text without the offending message. ok: true, feedbackType other, not a complaint: it needs
 *   a human.
 *
 * Decisions
 * - Sample 02 (third part text/plain, no User-Agent/Version): when the part after the feedback report is not
 *   message/rfc822 or text/rfc822-headers, it is still read as the original if it holds a header block (warning),
 *   and marked 'redacted' if it is a placeholder. Otherwise the report is accepted with original 'missing' and a
 *   warning only if it still names the sender: a source IP (field, original headers or subject),
 *   Original-Mail-From or Reported-Domain. Sample 02 has only Feedback-Type, so it is ok:false with the reason
 *   "third part is text/plain, not message/rfc822 or text/rfc822-headers". A report with no third part at all
 *   ("feedback report has no third part (the original message)") is handled the same way.
 * - Forwarded recipient: the forwarder's From. The exception is when the forwarder is not among the forwarded
 *   message's To/Cc/Delivered-To/X-Original-To, and its To names exactly one address that is not the spam's own
 *   From (a common forgery). Then the complainant is that To address, with a warning (e.g. a user forwarding
 *   from a private mailbox). The forwarder always stays in reporter.from.
 * - ARF recipients: every Original-Rcpt-To; Removal-Recipient when Feedback-Type is opt-out or there is no
 *   Original-Rcpt-To; failing both, the original's To addresses (warning); failing that, a Redacted-Address
 *   field yields one 'redacted' entry. Redaction: a "redacted" local part or placeholder (AOL Redacted-Address,
 *   To: redacted@…) or an all-'*' local part → 'redacted'. A local part of 32+ hex digits (Return Path) or the
 *   literal "hashed" → 'hashed'. address is null unless redaction is 'none'.
 * - Source IP: the Source-IP field (any case) → 'field', with a warning if private. Else, for JMRP, the
 *   "complaint about message from <ip>" subject → 'subject'. Else the original's Received chain, top first: the
 *   first public-looking from-clause IP of a hop that is not an internal relay (the from-host and by-host share an
 *   organisational domain), then X-Originating-IP → 'original-headers'. Else, for ARF only, an IP in the report
 *   subject → 'subject'. Received comes before X-Originating-IP because on webmail X-Originating-IP is the end
 *   user's client, not the sending server. Documentation ranges (192.0.2/24 …) count as public-looking because
 *   the fixtures use them.
 * - Arrival date: Arrival-Date, else Received-Date (warning). It is null if absent or unparseable (warning).
 *   JMRP uses the original's X-OriginalArrivalTime, forwards the original's topmost Received date, and unsubscribe
 *   mail its own Date, each with a warning. Dates never use local time (no zone → UTC, warning).
 * - Spamtrap (a trap hit rather than a user complaint; isComplaint is unchanged, policy decides) when any of:
 *   the report subject or its human-readable text mentions spamtrap / spam trap / honeypot / trap hit; the
 *   User-Agent mentions abusix, spamtrap or honeypot (Abusix reports come from its trap network, sample 10); or
 *   the original's topmost Received by-clause marks the receiver as a trap ("(trap)", spamtrap, honeypot).
 * - original.present: 'full' = a message with a non-empty body. 'headers' = text/rfc822-headers (even when a body
 *   follows, as in sample 11), or a message whose body is empty (Zoho, sample 05). 'redacted' = a placeholder such
 *   as "REDACTED" (sample 09). 'missing' = absent or without a header block. Inline forwards are 'full' when the
 *   forwarded text follows the shown headers.
 * - Case: addresses are lowercased, except the local parts of returnPath, originalMailFrom and the unsubscribe
 *   target (VERP tokens can be case-sensitive).
 *
 * Deviations tolerated, each recorded in warnings: mbox "From " first line; leading blank lines; lone-CR line
 * endings; Version 0.1 or missing; missing User-Agent; Received-Date; both Arrival-Date and Received-Date
 * (Arrival-Date wins); field names in any case; repeated single-valued fields (the first non-empty one wins);
 * misspelled text/rfc822-header, message/rfc822-headers, text/rfc822; parts out of order; a feedback report under
 * multipart/mixed, without report-type, or labelled text/plain; base64/quoted-printable feedback or original
 * parts; a missing or wrong boundary parameter (inferred from the first "--token" line that starts a part); a
 * missing closing boundary; unknown charsets (read as UTF-8, else latin1); malformed header lines (skipped);
 * private Source-IP; dates without a zone.
 *
 * Robustness: the input is read as latin1 (one char per byte) after line endings are normalised to LF. Limits:
 * header values 16 KiB, 1000 fields per block, feedback report 64 KiB, MIME nesting 32 levels, 2000 entities,
 * 1000 parts per multipart, 10 attached messages, 100 Received hops, input 50 MiB. No regex runs on unbounded
 * input, and none has nested quantifiers.
 *
 * mailparser's simpleParser is not used for structure. It folds message/rfc822 parts marked inline into the text
 * body (samples 03-09, 12, 13), returns them as attachments only when they have no disposition (10, 11), and
 * does not keep the raw header block. Its parseAddressHeader parses address lists (From/To/Cc), so mailparser
 * is a runtime dependency.
 */
import {
  addressCandidate,
  addressList,
  decodeWords,
  extractAddress,
  ipsIn,
  isPublicLooking,
  looksLikeAddress,
  normaliseDomain,
  normalizeIp,
  parseDate,
  sourceFromReceived,
  stripAngles,
  type ReceivedHop,
} from './text';
import {
  clip,
  decodeTransfer,
  entityText,
  headerValue,
  headerValues,
  normaliseNewlinesBuffer,
  parseContentType,
  parseEntity,
  parseFieldLines,
  startsWithField,
  Warnings,
  type MimeContext,
  type MimeEntity,
} from './mime';
import { emptyInfo, isRedactedPlaceholder, looksLikeHeaderBlock, readOriginal, type OriginalInfo } from './original';
import { findInlineForward, htmlToText } from './forwarded';
import type { FeedbackType, ParsedComplaint, ParseResult, ReportedRecipient } from './types';

export type { ComplaintFormat, FeedbackType, OriginalMessage, ParsedComplaint, ParseResult, ReportedRecipient } from './types';

const MAX_INPUT = 50 * 1024 * 1024;
const MAX_REPORT_PART = 64 * 1024;
const COMPLAINT_TYPES: ReadonlySet<FeedbackType> = new Set<FeedbackType>(['abuse', 'fraud', 'virus']);

/** Parses and classifies one incoming complaint mail. Never throws. */
export async function parseComplaint(raw: Buffer): Promise<ParseResult> {
  try {
    return parseSync(raw);
  } catch (err) {
    let message = 'unknown error';
    try {
      message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    } catch {
      // keep the generic message
    }
    return { ok: false, reason: `parser error: ${message}` };
  }
}

type Fail = { ok: false; reason: string };
const fail = (reason: string): Fail => ({ ok: false, reason });

interface TopInfo {
  entity: MimeEntity;
  from: string | null;
  subject: string | null;
  messageId: string | null;
}

interface Attached {
  part: MimeEntity;
  kind: 'message' | 'headers';
  /** Decoded content as a binary string (LF line endings). */
  content: string;
  /** Parsed as a message (kind 'message' only). */
  entity: MimeEntity | null;
}

interface Ctx extends MimeContext {
  warnings: Warnings;
}

function toBuffer(raw: unknown): Buffer | string {
  if (Buffer.isBuffer(raw)) return raw;
  if (raw instanceof Uint8Array) return Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  if (typeof raw === 'string') return Buffer.from(raw, 'utf8');
  return 'input is not a Buffer';
}

/** CRLF (and, leniently, a lone CR) to LF. */
function normaliseNewlines(s: string): string {
  return s.indexOf('\r') === -1 ? s : normaliseNewlinesBuffer(Buffer.from(s, 'latin1')).toString('latin1');
}

function parseSync(raw: unknown): ParseResult {
  const buf = toBuffer(raw);
  if (typeof buf === 'string') return fail(buf);
  if (buf.length === 0) return fail('empty input');
  if (buf.length > MAX_INPUT) return fail(`input too large (${buf.length} bytes; the limit is ${MAX_INPUT} bytes)`);
  const warnings = new Warnings();
  const ctx: Ctx = { warnings, entities: 0 };

  let text = normaliseNewlinesBuffer(buf).toString('latin1');
  let start = 0;
  while (start < text.length && (text[start] === '\n' || text[start] === ' ' || text[start] === '\t')) start++;
  if (start === text.length) return fail('empty input (whitespace only)');
  if (start > 0) warnings.add('leading blank lines before the header block skipped');
  if (text.startsWith('From ', start)) {
    const nl = text.indexOf('\n', start);
    start = nl === -1 ? text.length : nl + 1;
    warnings.add('mbox "From " first line stripped');
  }
  if (start > 0) text = text.slice(start);

  const sep = text.indexOf('\n\n');
  const headEnd = Math.min(sep === -1 ? text.length : sep, 64 * 1024);
  let nul = 0;
  let ctl = 0;
  for (let i = 0; i < headEnd; i++) {
    const c = text.charCodeAt(i);
    if (c === 0) nul++;
    else if ((c < 32 && c !== 9 && c !== 10 && c !== 13) || c === 127) ctl++;
  }
  if (nul > 0) return fail('not an email message: binary data (NUL bytes) in the header block');
  if (ctl > 8 && ctl * 20 > headEnd) return fail('not an email message: binary data (control characters) in the header block');
  if (!startsWithField(text)) return fail('not an email message: the first line is not a header field');
  if (sep === -1) return fail('not an email message: no empty line separates the header block from the body');

  const top = parseEntity(text, ctx, 0, 'text/plain');
  if (!top.separated) return fail('not an email message: no empty line separates the header block from the body');
  const STANDARD = ['from', 'to', 'subject', 'date', 'message-id', 'received', 'content-type', 'mime-version', 'return-path'];
  if (!top.headers.some((f) => STANDARD.includes(f.lname))) {
    return fail('not an email message: no From, To, Subject, Date, Message-ID, Received or Content-Type header');
  }
  if (top.invalidLines > 0) warnings.add(`${top.invalidLines} malformed line(s) in the header block skipped`);
  if (headerValues(top.headers, 'content-type').length > 1) warnings.add('more than one Content-Type header; the first is used');
  const info = topInfo(top, warnings);

  // 1. ARF: a message/feedback-report part anywhere in the multipart tree (normally part 2 of the top level)
  const fb = findEntity(top, (e) => e.type === 'message/feedback-report');
  if (fb) return buildArf(info, fb.parent, fb.entity, ctx);
  const reportType = (top.params.get('report-type') ?? '').toLowerCase();
  if (top.type === 'multipart/report' && reportType === 'feedback-report') {
    const labelled = top.children.slice(1, 10).find((c) => c.type.startsWith('text/') && hasFeedbackType(c));
    if (labelled) {
      warnings.add(`feedback report labelled ${labelled.type} instead of message/feedback-report`);
      return buildArf(info, top, labelled, ctx);
    }
    return fail('multipart/report without a message/feedback-report part');
  }

  const attached = collectAttached(top, ctx);

  // 2. An ARF report forwarded as an attachment
  for (const a of attached.slice(0, 3)) {
    if (!a.entity) continue;
    const inner = findEntity(a.entity, (e) => e.type === 'message/feedback-report');
    if (inner) {
      warnings.add(`ARF report found inside a forwarded message (attached by ${info.from ?? 'unknown sender'})`);
      return buildArf(topInfo(a.entity, warnings), inner.parent, inner.entity, ctx);
    }
  }

  // 3. Legacy JMRP
  const hotmailComplaint =
    info.from !== null && /@(?:hotmail|msn|live|outlook)\.com$/.test(info.from) && /complaint about message from/i.test(info.subject ?? '');
  const jmrp =
    attached.find((a) => a.entity && headerValue(a.entity.headers, 'x-hmxmroriginalrecipient') !== undefined) ??
    (hotmailComplaint ? attached.find((a) => a.kind === 'message') : undefined);
  if (jmrp) return buildJmrp(info, jmrp, ctx);

  // 4. Automatic unsubscribe mail
  const autoSubmitted = (headerValue(top.headers, 'auto-submitted') ?? '').trim().toLowerCase();
  if (attached.length === 0 && isUnsubscribe(top, info, autoSubmitted)) return buildUnsubscribe(info, ctx);

  // 5. Not complaints: delivery reports and auto-replies
  if (top.type === 'multipart/report') {
    return unknown(info, ctx, `multipart/report; report-type=${clip(reportType || 'none', 40)} is not a feedback report (e.g. a bounce)`);
  }
  if (autoSubmitted.startsWith('auto-replied')) return unknown(info, ctx, 'auto-replied message (e.g. a vacation reply), not a complaint');

  // 6. Forwarded spam: attachment first, then an inline forwarded block
  if (attached.length > 0) {
    if (attached.length > 1) warnings.add(`${attached.length} attached messages; the first is used as the original`);
    const a = attached[0]!;
    const orig = readOriginal(a.content, a.kind, warnings, 'forwarded message');
    return buildForwarded(info, orig, forwardText(top, warnings), ctx);
  }
  const body = forwardText(top, warnings);
  const inline = body ? findInlineForward(body) : null;
  if (inline) {
    warnings.add('original taken from an inline forwarded block (only the headers shown by the forwarder)');
    const orig = readOriginal(inline.message, 'message', warnings, 'forwarded block');
    return buildForwarded(info, orig, body, ctx);
  }
  return unknown(info, ctx, 'no feedback report, attached message or forwarded block found');
}

// -----------------------------------------------------------------------------------------------------------------

function topInfo(e: MimeEntity, warnings: Warnings): TopInfo {
  const fromRaw = headerValue(e.headers, 'from');
  const subjectRaw = headerValue(e.headers, 'subject');
  return {
    entity: e,
    from: fromRaw ? (addressList([fromRaw], 1)[0] ?? extractAddress(fromRaw)) : null,
    subject: subjectRaw !== undefined ? decodeWords(subjectRaw, warnings).replace(/\s+/g, ' ').trim() : null,
    messageId: stripAngles(headerValue(e.headers, 'message-id')),
  };
}

function findEntity(root: MimeEntity, pred: (e: MimeEntity) => boolean): { entity: MimeEntity; parent: MimeEntity | null } | null {
  const stack: Array<[MimeEntity, MimeEntity | null]> = [[root, null]];
  while (stack.length) {
    const [e, parent] = stack.pop()!;
    if (pred(e)) return { entity: e, parent };
    for (let i = e.children.length - 1; i >= 0; i--) stack.push([e.children[i]!, e]);
  }
  return null;
}

function hasFeedbackType(e: MimeEntity): boolean {
  const t = normaliseNewlines(decodeTransfer(e.body.slice(0, MAX_REPORT_PART), headerValue(e.headers, 'content-transfer-encoding'), null).toString('latin1'));
  return startsWithField(t.replace(/^\n+/, '')) && parseFieldLines(t).fields.some((f) => f.lname === 'feedback-type');
}

function filenameOf(e: MimeEntity): string {
  const cd = headerValue(e.headers, 'content-disposition');
  // parseContentType reads parameters even when the leading token is not a type/subtype
  const name = (cd ? parseContentType(cd).params.get('filename') : undefined) ?? e.params.get('name') ?? '';
  return name.toLowerCase();
}

/** message/rfc822 (and similar) parts, decoded; at most 10. */
function collectAttached(top: MimeEntity, ctx: Ctx): Attached[] {
  const out: Attached[] = [];
  const stack: MimeEntity[] = [top];
  while (stack.length && out.length < 10) {
    const e = stack.pop()!;
    for (let i = e.children.length - 1; i >= 0; i--) stack.push(e.children[i]!);
    let kind: Attached['kind'] | null = null;
    if (e.type === 'message/rfc822' || e.type === 'message/global') kind = 'message';
    else if (e.type === 'text/rfc822-headers' || e.type === 'message/global-headers' || e.type === 'text/rfc822-header') kind = 'headers';
    else if (e !== top && !e.type.startsWith('multipart/') && !e.type.startsWith('text/') && filenameOf(e).endsWith('.eml')) {
      kind = 'message';
      ctx.warnings.add(`${e.type} attachment named *.eml read as a message`);
    }
    if (!kind) continue;
    const cte = headerValue(e.headers, 'content-transfer-encoding');
    let content = decodeTransfer(e.body, cte, ctx.warnings).toString('latin1');
    if (/^(base64|quoted-printable)$/i.test((cte ?? '').trim())) content = normaliseNewlines(content);
    const entity = kind === 'message' ? parseEntity(content, ctx, e.depth + 1, 'text/plain') : null;
    out.push({ part: e, kind, content, entity });
  }
  return out;
}

/** The forwarder's own text: the first text/plain part outside attached messages, else text/html as text. */
function forwardText(top: MimeEntity, warnings: Warnings): string {
  const plain = findEntity(top, (e) => e.type === 'text/plain' && !isAttachment(e));
  if (plain) return normaliseNewlines(entityText(plain.entity, warnings));
  const html = findEntity(top, (e) => e.type === 'text/html' && !isAttachment(e));
  if (html) return htmlToText(normaliseNewlines(entityText(html.entity, warnings)));
  return '';
}

function isAttachment(e: MimeEntity): boolean {
  return /^\s*attachment/i.test(headerValue(e.headers, 'content-disposition') ?? '');
}

// -----------------------------------------------------------------------------------------------------------------

function mapFeedbackType(value: string, w: Warnings): FeedbackType {
  const tok = value.trim().toLowerCase().slice(0, 64).split(/[\s;,(]/)[0] ?? '';
  switch (tok) {
    case 'abuse':
    case 'fraud':
    case 'virus':
    case 'other':
    case 'not-spam':
    case 'auth-failure':
    case 'opt-out':
      return tok;
  }
  const mapped: Record<string, FeedbackType> = {
    spam: 'abuse',
    complaint: 'abuse',
    phishing: 'fraud',
    malware: 'virus',
    notspam: 'not-spam',
    not_spam: 'not-spam',
    'non-spam': 'not-spam',
    optout: 'opt-out',
    opt_out: 'opt-out',
    unsubscribe: 'opt-out',
    authfailure: 'auth-failure',
    auth_failure: 'auth-failure',
  };
  const m = Object.hasOwn(mapped, tok) ? mapped[tok] : undefined;
  if (m) {
    w.add(`unregistered Feedback-Type "${clip(tok, 40)}" read as ${m}`);
    return m;
  }
  w.add(`unknown Feedback-Type "${clip(tok, 40)}" treated as other`);
  return 'other';
}

function classifyRecipient(raw: string): ReportedRecipient {
  const r = raw.trim().slice(0, 1024);
  const cand = (addressCandidate(r) ?? r).toLowerCase();
  const at = cand.lastIndexOf('@');
  const local = at === -1 ? cand : cand.slice(0, at);
  if (/^[[(<]?redacted[\])>]?$/.test(local) || /^\*+$/.test(local) || (at === -1 && /redacted/.test(cand))) {
    return { raw: r, address: null, redaction: 'redacted' };
  }
  if (local === 'hashed' || /^[0-9a-f]{32,}$/.test(local)) return { raw: r, address: null, redaction: 'hashed' };
  return { raw: r, address: looksLikeAddress(cand) ? cand : null, redaction: 'none' };
}

function recipientList(values: readonly string[], into: ReportedRecipient[] = []): ReportedRecipient[] {
  const seen = new Set(into.map((x) => x.address ?? x.raw.toLowerCase()));
  for (const value of values) {
    const pieces = value.includes(',') && value.indexOf('@') !== value.lastIndexOf('@') ? value.split(',') : [value];
    for (const piece of pieces) {
      if (!piece.trim() || into.length >= 1000) continue;
      const rec = classifyRecipient(piece);
      const key = rec.address ?? rec.raw.toLowerCase();
      if (seen.has(key)) continue;
      seen.add(key);
      into.push(rec);
    }
  }
  return into;
}

const SPAMTRAP_WORDS = /spam[\s_-]?trap|honey[\s_-]?pot|trap[\s_-]?hit/i;

function detectSpamtrap(subject: string | null, userAgent: string | null, text: string, hops: readonly ReceivedHop[]): boolean {
  if (subject && SPAMTRAP_WORDS.test(subject.slice(0, 1000))) return true;
  if (userAgent && /abusix|spam[\s_-]?trap|honey[\s_-]?pot/i.test(userAgent.slice(0, 300))) return true;
  if (text && SPAMTRAP_WORDS.test(text.slice(0, 16 * 1024))) return true;
  const first = hops[0];
  return !!first && /\(\s*trap\s*\)|spam[\s_-]?trap|honey[\s_-]?pot/i.test(first.byClause);
}

interface Common {
  info: TopInfo;
  orig: OriginalInfo;
  ctx: Ctx;
}

function assemble(c: Common, r: Omit<ParsedComplaint, 'isComplaint' | 'original' | 'warnings' | 'reportMessageId'>): ParseResult {
  return {
    ok: true,
    report: {
      ...r,
      isComplaint: COMPLAINT_TYPES.has(r.feedbackType),
      reportMessageId: c.info.messageId,
      original: c.orig.original,
      warnings: c.ctx.warnings.list,
    },
  };
}

// -----------------------------------------------------------------------------------------------------------------
// ARF

const ORIGINAL_TYPES = new Map<string, { kind: 'message' | 'headers'; warn?: string }>([
  ['message/rfc822', { kind: 'message' }],
  ['message/global', { kind: 'message' }],
  ['text/rfc822-headers', { kind: 'headers' }],
  ['message/global-headers', { kind: 'headers' }],
  ['text/rfc822-header', { kind: 'headers', warn: 'third part labelled text/rfc822-header (misspelling of text/rfc822-headers)' }],
  ['message/rfc822-headers', { kind: 'headers', warn: 'third part labelled message/rfc822-headers (should be text/rfc822-headers)' }],
  ['text/rfc822', { kind: 'message', warn: 'third part labelled text/rfc822 (should be message/rfc822)' }],
]);

const SINGLE_FIELDS = [
  'Feedback-Type', 'User-Agent', 'Version', 'Arrival-Date', 'Received-Date', 'Source-IP', 'Original-Mail-From', 'Incidents',
  'Reporting-MTA', 'Original-Envelope-Id', 'Auth-Failure',
];

function buildArf(info: TopInfo, container: MimeEntity | null, fb: MimeEntity, ctx: Ctx): ParseResult {
  const w = ctx.warnings;
  if (container) {
    if (container.type !== 'multipart/report') w.add(`feedback report is inside ${container.type}, not multipart/report`);
    else {
      const rt = container.params.get('report-type');
      if (!rt) w.add('multipart/report without a report-type parameter');
      else if (rt.toLowerCase() !== 'feedback-report') w.add(`multipart/report report-type is "${clip(rt, 40)}", not feedback-report`);
    }
  }
  const siblings = container?.children ?? [];
  const fbIndex = siblings.indexOf(fb);
  if (container && fbIndex !== 1) w.add(`feedback report is part ${fbIndex + 1}, not part 2`);

  // the machine-readable part
  const cte = headerValue(fb.headers, 'content-transfer-encoding');
  if (/^(base64|quoted-printable)$/i.test((cte ?? '').trim())) w.add(`message/feedback-report part is ${cte!.trim().toLowerCase()}-encoded`);
  if (fb.body.length > MAX_REPORT_PART) w.add('message/feedback-report part longer than 64 KiB; the rest ignored');
  const fbText = normaliseNewlines(decodeTransfer(fb.body.slice(0, MAX_REPORT_PART), cte, w).toString('latin1'));
  const { fields, invalidLines } = parseFieldLines(fbText);
  if (invalidLines > 0) w.add(`${invalidLines} malformed line(s) in the feedback report skipped`);
  // the first non-empty value of a field (an empty repeat does not hide a later real value)
  const get = (n: string): string | undefined => {
    const values = headerValues(fields, n);
    return values.find((v) => v.trim() !== '') ?? values[0];
  };
  const all = (n: string): string[] => headerValues(fields, n);
  for (const name of SINGLE_FIELDS) {
    const count = all(name.toLowerCase()).length;
    if (count > 1) w.add(`${name} appears ${count} times; the first is used`);
  }

  const ftRaw = get('feedback-type');
  if (ftRaw === undefined || ftRaw.trim() === '') return fail('message/feedback-report part has no Feedback-Type field');
  const feedbackType = mapFeedbackType(ftRaw, w);
  const userAgent = get('user-agent')?.slice(0, 500) || null;
  if (!userAgent) w.add('no User-Agent field');
  const version = get('version')?.slice(0, 50) || null;
  if (!version) w.add('no Version field');
  else if (version === '0.1') w.add('Version 0.1 (pre-RFC 5965 draft) accepted');
  else if (version !== '1' && version !== '1.0') w.add(`unexpected Version "${clip(version, 20)}" accepted`);
  const mtaRaw = get('reporting-mta');
  const reportingMta = mtaRaw ? mtaRaw.slice(mtaRaw.indexOf(';') + 1).trim().slice(0, 255) || null : null;

  // Arrival-Date, or the historic Received-Date
  const arrivalRaw = get('arrival-date');
  const receivedRaw = get('received-date');
  if (arrivalRaw !== undefined && receivedRaw !== undefined) {
    w.add('both Arrival-Date and Received-Date present (malformed per RFC 5965); Arrival-Date used');
  } else if (receivedRaw !== undefined) {
    w.add('historic Received-Date used as Arrival-Date');
  }
  let arrivalDate: Date | null = null;
  const candidates = [arrivalRaw, receivedRaw].filter((x): x is string => x !== undefined);
  if (candidates.length === 0) w.add('no Arrival-Date or Received-Date field');
  for (const d of candidates) {
    const pd = parseDate(d);
    if (!pd) {
      w.add(`unparseable date "${clip(d, 60)}"`);
      continue;
    }
    if (pd.assumedUtc) w.add('Arrival-Date has no usable time zone; UTC assumed');
    arrivalDate = pd.date;
    break;
  }

  let incidents = 1;
  const incRaw = get('incidents');
  if (incRaw !== undefined) {
    const t = incRaw.trim();
    const n = /^\d{1,9}$/.test(t) ? Number(t) : NaN;
    if (n >= 1) incidents = n;
    else w.add(`invalid Incidents "${clip(t, 20)}"; 1 assumed`);
  }

  const omfRaw = get('original-mail-from');
  const originalMailFrom = extractAddress(omfRaw, true);
  if (omfRaw !== undefined && !originalMailFrom && omfRaw.trim() !== '<>') w.add(`Original-Mail-From "${clip(omfRaw, 60)}" is not an address`);

  const reportedDomains: string[] = [];
  for (const v of all('reported-domain')) {
    const d = normaliseDomain(v);
    if (d && !reportedDomains.includes(d) && reportedDomains.length < 100) reportedDomains.push(d);
    else if (!d) w.add(`invalid Reported-Domain "${clip(v, 60)}" ignored`);
  }
  const reportedUris: string[] = [];
  for (const v of all('reported-uri')) {
    let u = v.trim();
    if (u.startsWith('<') && u.endsWith('>')) u = u.slice(1, -1).trim();
    if (u && u.length <= 2048 && !reportedUris.includes(u) && reportedUris.length < 100) reportedUris.push(u);
  }
  const authFailure = get('auth-failure')?.trim().toLowerCase().slice(0, 100) || null;
  if (feedbackType === 'auth-failure' && !authFailure) w.add('auth-failure report without an Auth-Failure field');

  // the original message (part 3)
  let orig: OriginalInfo;
  let structuralProblem: string | null = null;
  const origIndex = siblings.findIndex((c) => c !== fb && ORIGINAL_TYPES.has(c.type));
  if (origIndex !== -1) {
    const part = siblings[origIndex]!;
    const spec = ORIGINAL_TYPES.get(part.type)!;
    if (spec.warn) w.add(spec.warn);
    if (origIndex !== 2) w.add(`original message is part ${origIndex + 1}, not part 3`);
    orig = readOriginal(partContent(part, w), spec.kind, w, 'original message part');
  } else {
    const third = siblings[fbIndex + 1] ?? siblings.find((c, i) => i > 0 && c !== fb);
    if (!third) {
      orig = emptyInfo('missing');
      structuralProblem = 'feedback report has no third part (the original message)';
    } else {
      const content = partContent(third, w);
      const problem = `third part is ${third.type}, not message/rfc822 or text/rfc822-headers`;
      if (isRedactedPlaceholder(content)) {
        w.add(problem);
        orig = emptyInfo('redacted');
      } else if (looksLikeHeaderBlock(content)) {
        w.add(`${problem}; it holds a header block and was read as the original`);
        orig = readOriginal(content, 'message', w, 'third part');
      } else {
        orig = emptyInfo('missing');
        structuralProblem = problem;
      }
    }
  }

  // source IP
  let sourceIp: string | null = null;
  let sourceIpFrom: ParsedComplaint['sourceIpFrom'] = null;
  const sipRaw = get('source-ip');
  if (sipRaw !== undefined) {
    const ip = ipsIn(sipRaw)[0] ?? null;
    if (ip) {
      sourceIp = ip;
      sourceIpFrom = 'field';
      if (!isPublicLooking(ip)) w.add(`Source-IP ${ip} is a private or reserved address`);
    } else w.add(`invalid Source-IP "${clip(sipRaw, 60)}"`);
  }
  if (!sourceIp) {
    const ip = sourceFromReceived(orig.hops) ?? orig.originatingIps.find(isPublicLooking) ?? null;
    if (ip) {
      sourceIp = ip;
      sourceIpFrom = 'original-headers';
      w.add("no Source-IP field; source IP taken from the original's Received/X-Originating-IP headers");
    }
  }
  if (!sourceIp) {
    const ip = ipsIn(info.subject ?? '')[0] ?? null;
    if (ip) {
      sourceIp = ip;
      sourceIpFrom = 'subject';
      w.add('no Source-IP field; source IP taken from the report subject');
    }
  }
  if (!sourceIp) w.add('no source IP found');

  if (structuralProblem) {
    const attributable = sourceIp !== null || originalMailFrom !== null || reportedDomains.length > 0;
    if (!attributable) return fail(structuralProblem);
    w.add(`${structuralProblem}; accepted because the report still names the sender`);
  }

  // recipients
  const recipients = recipientList(all('original-rcpt-to'));
  const removal = all('removal-recipient');
  if (removal.length > 0 && (feedbackType === 'opt-out' || recipients.length === 0)) recipientList(removal, recipients);
  if (recipients.length === 0 && orig.original.to.length > 0) {
    recipientList(orig.original.to, recipients);
    w.add("no Original-Rcpt-To; recipients taken from the original's To header");
  }
  const redactedFields = all('redacted-address');
  if (redactedFields.length > 0) {
    w.add('the reporter redacted the recipient address (Redacted-Address)');
    if (recipients.length === 0) recipients.push({ raw: 'redacted', address: null, redaction: 'redacted' });
  }

  const first = siblings[0];
  const humanText = first && first !== fb && first.type.startsWith('text/') ? entityText(first, null, 16 * 1024) : '';

  return assemble(
    { info, orig, ctx },
    {
      format: 'arf',
      feedbackType,
      spamtrap: detectSpamtrap(info.subject, userAgent, humanText, orig.hops),
      reporter: { from: info.from, userAgent, reportingMta, version },
      arrivalDate,
      sourceIp,
      sourceIpFrom,
      incidents,
      originalMailFrom,
      recipients,
      reportedDomains,
      reportedUris,
      authFailure,
    },
  );
}

/** The arrival date in the reported message's topmost Received header (the receiving ISP's own hop), noted. */
function arrivalFromTopHop(orig: OriginalInfo, w: Warnings, whose: string): Date | null {
  const date = orig.hops[0]?.date ?? null;
  w.add(date ? `arrival date taken from ${whose} topmost Received header` : 'no arrival date found');
  return date;
}

/** A part's body with its transfer encoding undone, as a binary string with LF line endings. */
function partContent(part: MimeEntity, w: Warnings): string {
  const cte = headerValue(part.headers, 'content-transfer-encoding');
  const encoded = /^(base64|quoted-printable)$/i.test((cte ?? '').trim());
  if (encoded && part.type.startsWith('message/')) w.add(`${part.type} part is ${cte!.trim().toLowerCase()}-encoded`);
  const s = decodeTransfer(part.body, cte, w).toString('latin1');
  return encoded ? normaliseNewlines(s) : s;
}

// -----------------------------------------------------------------------------------------------------------------
// JMRP, unsubscribe, forwarded, unknown

function buildJmrp(info: TopInfo, a: Attached, ctx: Ctx): ParseResult {
  const w = ctx.warnings;
  const orig = readOriginal(a.content, a.kind, w, 'JMRP message');
  let recipients = recipientList(headerValues(orig.fields, 'x-hmxmroriginalrecipient'));
  if (recipients.length === 0) {
    w.add("JMRP report without X-HmXmrOriginalRecipient; recipients taken from the original's To header");
    recipients = recipientList(orig.original.to);
  }
  let sourceIp: string | null = null;
  let sourceIpFrom: ParsedComplaint['sourceIpFrom'] = null;
  const m = /complaint about message from\s+(\S{1,60})/i.exec((info.subject ?? '').slice(0, 500));
  const subjectIp = m ? normalizeIp(m[1]!) : null;
  if (subjectIp) {
    sourceIp = subjectIp;
    sourceIpFrom = 'subject';
  } else {
    const ip = orig.originatingIps.find(isPublicLooking) ?? sourceFromReceived(orig.hops);
    if (ip) {
      sourceIp = ip;
      sourceIpFrom = 'original-headers';
      w.add("source IP taken from the original's X-Originating-IP/Received headers");
    } else w.add('no source IP found');
  }
  let arrivalDate: Date | null = null;
  const oat = headerValue(orig.fields, 'x-originalarrivaltime');
  const oatDate = oat ? parseDate(oat.split('FILETIME')[0]) : null;
  if (oatDate) {
    arrivalDate = oatDate.date;
    w.add("arrival date taken from the original's X-OriginalArrivalTime");
  } else arrivalDate = arrivalFromTopHop(orig, w, "the original's");
  return assemble(
    { info, orig, ctx },
    {
      format: 'jmrp',
      feedbackType: 'abuse',
      spamtrap: detectSpamtrap(info.subject, null, '', orig.hops),
      reporter: { from: info.from, userAgent: null, reportingMta: null, version: null },
      arrivalDate,
      sourceIp,
      sourceIpFrom,
      incidents: 1,
      originalMailFrom: null,
      recipients,
      reportedDomains: [],
      reportedUris: [],
      authFailure: null,
    },
  );
}

function isUnsubscribe(top: MimeEntity, info: TopInfo, autoSubmitted: string): boolean {
  if ((headerValue(top.headers, 'x-apple-unsubscribe') ?? '').trim().toLowerCase() === 'true') return true;
  if ((info.subject ?? '').trim().toLowerCase() !== 'unsubscribe') return false;
  if (autoSubmitted !== '' && autoSubmitted !== 'no') return true;
  const to = addressList(headerValues(top.headers, 'to'), 5);
  return to.some((a) => /unsub|opt-?out|leave|remove/.test(a.slice(0, a.lastIndexOf('@'))));
}

function buildUnsubscribe(info: TopInfo, ctx: Ctx): ParseResult {
  const w = ctx.warnings;
  const top = info.entity;
  const targets = addressList(headerValues(top.headers, 'to'), 20, true);
  const reportedDomains: string[] = [];
  for (const t of targets) {
    const d = normaliseDomain(t);
    if (d && !reportedDomains.includes(d)) reportedDomains.push(d);
  }
  const dateRaw = headerValue(top.headers, 'date');
  const pd = parseDate(dateRaw);
  if (pd) w.add('arrival date taken from the Date header of the unsubscribe mail');
  else w.add('no arrival date found');
  return assemble(
    { info, orig: emptyInfo('missing'), ctx },
    {
      format: 'unsubscribe',
      feedbackType: 'unsubscribe',
      spamtrap: false,
      reporter: { from: info.from, userAgent: null, reportingMta: null, version: null },
      arrivalDate: pd?.date ?? null,
      sourceIp: null,
      sourceIpFrom: null,
      incidents: 1,
      originalMailFrom: null,
      recipients: info.from ? recipientList([info.from]) : [],
      reportedDomains,
      reportedUris: targets.map((t) => `mailto:${t}`),
      authFailure: null,
    },
  );
}

function buildForwarded(info: TopInfo, orig: OriginalInfo, forwarderText: string, ctx: Ctx): ParseResult {
  const w = ctx.warnings;
  const forwarder = info.from;
  const o = orig.original;
  const listed = new Set<string>([
    ...o.to,
    ...addressList(headerValues(orig.fields, 'cc')),
    ...headerValues(orig.fields, 'delivered-to').map((v) => extractAddress(v) ?? ''),
    ...headerValues(orig.fields, 'x-original-to').map((v) => extractAddress(v) ?? ''),
  ]);
  let recipients: ReportedRecipient[];
  const soleTo = o.to.length === 1 ? o.to[0]! : null;
  if (forwarder && listed.has(forwarder)) recipients = recipientList([forwarder]);
  else if (soleTo && soleTo !== forwarder && soleTo !== o.from) {
    recipients = recipientList([soleTo]);
    w.add(`complainant taken from the forwarded message's To (${soleTo}), not the forwarder (${forwarder ?? 'unknown'})`);
  } else recipients = forwarder ? recipientList([forwarder]) : [];

  const sourceIp = sourceFromReceived(orig.hops) ?? orig.originatingIps.find(isPublicLooking) ?? null;
  if (!sourceIp) w.add('no source IP found (the forwarded message has no usable Received/X-Originating-IP header)');
  const arrivalDate = arrivalFromTopHop(orig, w, "the forwarded message's");
  return assemble(
    { info, orig, ctx },
    {
      format: 'forwarded',
      feedbackType: 'abuse',
      spamtrap: detectSpamtrap(info.subject, null, forwarderText, orig.hops),
      reporter: { from: forwarder, userAgent: null, reportingMta: null, version: null },
      arrivalDate,
      sourceIp,
      sourceIpFrom: sourceIp ? 'original-headers' : null,
      incidents: 1,
      originalMailFrom: null,
      recipients,
      reportedDomains: [],
      reportedUris: [],
      authFailure: null,
    },
  );
}

function unknown(info: TopInfo, ctx: Ctx, why: string): ParseResult {
  ctx.warnings.add(`not classified: ${why}`);
  return assemble(
    { info, orig: emptyInfo('missing'), ctx },
    {
      format: 'unknown',
      feedbackType: 'other',
      spamtrap: false,
      reporter: { from: info.from, userAgent: null, reportingMta: null, version: null },
      arrivalDate: null,
      sourceIp: null,
      sourceIpFrom: null,
      incidents: 1,
      originalMailFrom: null,
      recipients: [],
      reportedDomains: [],
      reportedUris: [],
      authFailure: null,
    },
  );
}
