/**
 * Minimal, bounded MIME reader for complaint intake (see index.ts for why mailparser is not used for structure).
 *
 * Works on "binary strings": the raw bytes decoded as latin1, so one char is one byte and offsets are byte
 * offsets. Line endings are normalised to LF by the caller before anything here runs. Every loop is linear in
 * its input, no regex runs on unbounded text, and sizes, counts and depth are capped (LIMITS).
 */

export const LIMITS = {
  /** A header field value is cut here (a 1 MB Subject stays cheap to process). */
  fieldValue: 16 * 1024,
  /** Fields kept per header block; later ones are scanned past but not stored. */
  fields: 1000,
  /** Longest field name accepted (a colon after this is not a header field). */
  fieldName: 200,
  /** Multipart nesting followed; deeper multiparts are kept as opaque leaves. */
  depth: 32,
  /** MIME entities materialised per message. */
  entities: 2000,
  /** Parts read from one multipart. */
  parts: 1000,
  /** Longest boundary accepted (RFC 2046 says 70). */
  boundary: 200,
} as const;

export class Warnings {
  readonly list: string[] = [];
  private readonly seen = new Set<string>();
  add(message: string): void {
    if (this.seen.has(message) || this.list.length >= 100) return;
    this.seen.add(message);
    this.list.push(message);
  }
}

export interface HeaderField {
  /** Field name as written (trimmed). */
  name: string;
  /** Lowercased name, for case-insensitive lookup. */
  lname: string;
  /** Unfolded, trimmed value; 8-bit bytes decoded as UTF-8 when valid, else latin1; capped at LIMITS.fieldValue. */
  value: string;
}

export interface HeaderBlock {
  fields: HeaderField[];
  /** Offset where the body starts (after the empty line), or where reading stopped. */
  bodyStart: number;
  /** Offset just past the last header line (before the empty line). */
  headerEnd: number;
  /** An empty line ended the block. */
  separated: boolean;
  /** Lines that were neither a field nor a continuation. */
  invalidLines: number;
  truncatedValues: number;
  droppedFields: number;
}

const decoderUtf8Fatal = new TextDecoder('utf-8', { fatal: true });

/** Re-reads a latin1 binary string as UTF-8 when it holds 8-bit bytes forming valid UTF-8 (RFC 6532 headers). */
export function fixEncoding(s: string): string {
  let high = false;
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0x7f) {
      high = true;
      break;
    }
  }
  if (!high) return s;
  try {
    return decoderUtf8Fatal.decode(Buffer.from(s, 'latin1'));
  } catch {
    return s;
  }
}

function isFieldNameChar(c: number): boolean {
  return c >= 33 && c <= 126 && c !== 58;
}

/** Index of the colon ending a valid field name at `pos`, or -1. Names may be followed by blanks ("Subject :"). */
function fieldColon(s: string, pos: number, lineEnd: number): number {
  const max = Math.min(lineEnd, pos + LIMITS.fieldName + 1);
  let i = pos;
  while (i < max && isFieldNameChar(s.charCodeAt(i))) i++;
  if (i === pos) return -1;
  let j = i;
  while (j < max && (s.charCodeAt(j) === 32 || s.charCodeAt(j) === 9)) j++;
  return j < max && s.charCodeAt(j) === 58 ? j : -1;
}

/** The text starts with a header field line ("Name: value"). */
export function startsWithField(s: string, pos = 0): boolean {
  const nl = s.indexOf('\n', pos);
  return fieldColon(s, pos, nl === -1 ? s.length : nl) > 0;
}

/**
 * All fields of a "fields only" body such as message/feedback-report: empty lines separate groups instead of
 * ending the block, invalid lines are skipped.
 */
export function parseFieldLines(s: string): { fields: HeaderField[]; invalidLines: number } {
  const fields: HeaderField[] = [];
  let invalidLines = 0;
  let pos = 0;
  while (pos < s.length && fields.length < LIMITS.fields) {
    const hb = parseHeaderBlock(s, pos, s.length, 'skip');
    for (const f of hb.fields) if (fields.length < LIMITS.fields) fields.push(f);
    invalidLines += hb.invalidLines;
    if (!hb.separated || hb.bodyStart <= pos) break;
    pos = hb.bodyStart;
  }
  return { fields, invalidLines };
}

/**
 * Reads a header block starting at `start`.
 * mode 'skip': a line that is not a field or continuation is skipped (counted in invalidLines).
 * mode 'stop': such a line ends the block and starts the body (for embedded messages without an empty line).
 */
export function parseHeaderBlock(s: string, start: number, end: number, mode: 'skip' | 'stop'): HeaderBlock {
  const fields: HeaderField[] = [];
  let invalidLines = 0;
  let truncatedValues = 0;
  let droppedFields = 0;
  let curName: string | null = null;
  let curParts: string[] = [];
  let curLen = 0;
  let curTruncated = false;
  let headerEnd = start;

  const flush = (): void => {
    if (curName === null) return;
    if (fields.length >= LIMITS.fields) {
      droppedFields++;
    } else {
      const raw = curParts.length === 1 ? curParts[0]! : curParts.join('');
      fields.push({ name: curName, lname: curName.toLowerCase(), value: fixEncoding(raw.trim()) });
      if (curTruncated) truncatedValues++;
    }
    curName = null;
    curParts = [];
    curLen = 0;
    curTruncated = false;
  };
  const append = (from: number, to: number): void => {
    if (curTruncated) return;
    const room = LIMITS.fieldValue - curLen;
    if (to - from > room) {
      curParts.push(s.slice(from, from + room));
      curLen += room;
      curTruncated = true;
    } else {
      curParts.push(s.slice(from, to));
      curLen += to - from;
    }
  };

  let pos = start;
  while (pos < end) {
    const nl = s.indexOf('\n', pos);
    const lineEnd = nl === -1 || nl >= end ? end : nl;
    const next = lineEnd < end ? lineEnd + 1 : end;
    let contentEnd = lineEnd;
    if (contentEnd > pos && s.charCodeAt(contentEnd - 1) === 13) contentEnd--;
    if (contentEnd === pos) {
      flush();
      return { fields, bodyStart: next, headerEnd, separated: true, invalidLines, truncatedValues, droppedFields };
    }
    const c0 = s.charCodeAt(pos);
    if (c0 === 32 || c0 === 9) {
      if (curName !== null) {
        append(pos, contentEnd);
        headerEnd = lineEnd;
      } else if (mode === 'stop') {
        flush();
        return { fields, bodyStart: pos, headerEnd, separated: false, invalidLines, truncatedValues, droppedFields };
      } else {
        invalidLines++;
      }
    } else {
      const colon = fieldColon(s, pos, contentEnd);
      if (colon > 0) {
        flush();
        curName = s.slice(pos, colon).trim();
        append(colon + 1, contentEnd);
        headerEnd = lineEnd;
      } else if (mode === 'stop') {
        flush();
        return { fields, bodyStart: pos, headerEnd, separated: false, invalidLines, truncatedValues, droppedFields };
      } else {
        // An invalid line also ends any folded value before it.
        flush();
        invalidLines++;
      }
    }
    pos = next;
  }
  flush();
  return { fields, bodyStart: end, headerEnd, separated: false, invalidLines, truncatedValues, droppedFields };
}

export function headerValue(fields: readonly HeaderField[], lname: string): string | undefined {
  for (const f of fields) if (f.lname === lname) return f.value;
  return undefined;
}

export function headerValues(fields: readonly HeaderField[], lname: string): string[] {
  const out: string[] = [];
  for (const f of fields) if (f.lname === lname) out.push(f.value);
  return out;
}

export interface ContentType {
  /** Lowercased type/subtype, or '' when absent or not a valid type. */
  type: string;
  /** Lowercased parameter names; RFC 2231 continuations joined and extended values decoded. */
  params: Map<string, string>;
}

function isTokenChar(c: number): boolean {
  // RFC 2045 token: printable ASCII except SPACE and tspecials ()<>@,;:\"/[]?=
  if (c <= 32 || c >= 127) return false;
  switch (c) {
    case 40: case 41: case 60: case 62: case 64: case 44: case 59: case 58: case 92: case 34: case 47: case 91: case 93:
    case 63: case 61:
      return false;
    default:
      return true;
  }
}

function isTypeToken(s: string): boolean {
  const slash = s.indexOf('/');
  if (slash <= 0 || slash === s.length - 1 || s.length > 255) return false;
  for (let i = 0; i < s.length; i++) {
    if (i === slash) continue;
    if (!isTokenChar(s.charCodeAt(i))) return false;
  }
  return true;
}

function percentDecode(value: string, charset: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    const h = c === 37 && i + 2 < value.length ? hexVal(value.charCodeAt(i + 1)) : -1;
    const l = h >= 0 ? hexVal(value.charCodeAt(i + 2)) : -1;
    if (l >= 0) {
      bytes.push(h * 16 + l);
      i += 2;
    } else {
      bytes.push(c & 0xff);
    }
  }
  return decodeCharset(Buffer.from(bytes), charset || 'utf-8', null);
}

/**
 * Parses a Content-Type (or Content-Disposition) value with a real tokenizer: parameters in any order, quoted or
 * not, quoted-pairs, comments, RFC 2231 continuations (name*0=, name*1*=) and charset'lang'%XX values.
 */
export function parseContentType(value: string | undefined): ContentType {
  const params = new Map<string, string>();
  if (!value) return { type: '', params };
  const v = value.length > 8192 ? value.slice(0, 8192) : value;
  let i = 0;
  const n = v.length;
  const skipCfws = (): void => {
    for (;;) {
      while (i < n && (v.charCodeAt(i) <= 32)) i++;
      if (i < n && v[i] === '(') {
        let depth = 0;
        while (i < n) {
          const ch = v[i];
          if (ch === '\\') i++;
          else if (ch === '(') depth++;
          else if (ch === ')' && --depth === 0) {
            i++;
            break;
          }
          i++;
        }
        continue;
      }
      return;
    }
  };
  skipCfws();
  const typeStart = i;
  while (i < n && v[i] !== ';' && v[i] !== '(' && v.charCodeAt(i) > 32) i++;
  const rawType = v.slice(typeStart, i).toLowerCase();
  const type = isTypeToken(rawType) ? rawType : '';
  while (i < n && v[i] !== ';') i++;

  // name -> { plain?, sections: Map<index, {value, extended}> }
  const plain = new Map<string, string>();
  const sections = new Map<string, Map<number, { value: string; extended: boolean }>>();
  while (i < n) {
    // at ';' or garbage: skip to the next parameter
    while (i < n && (v[i] === ';' || v.charCodeAt(i) <= 32)) i++;
    skipCfws();
    const nameStart = i;
    while (i < n && v[i] !== '=' && v[i] !== ';' && v.charCodeAt(i) > 32) i++;
    const name = v.slice(nameStart, i).toLowerCase();
    skipCfws();
    if (i >= n || v[i] !== '=') {
      while (i < n && v[i] !== ';') i++;
      continue;
    }
    i++; // '='
    skipCfws();
    let val: string;
    if (i < n && v[i] === '"') {
      i++;
      let out = '';
      let segStart = i;
      while (i < n && v[i] !== '"') {
        if (v[i] === '\\' && i + 1 < n) {
          out += v.slice(segStart, i);
          i++;
          segStart = i;
        }
        i++;
      }
      out += v.slice(segStart, i);
      if (i < n) i++; // closing quote
      val = out;
      while (i < n && v[i] !== ';') i++;
    } else {
      const valStart = i;
      while (i < n && v[i] !== ';') i++;
      val = v.slice(valStart, i).trim();
    }
    if (!name) continue;
    const star = name.indexOf('*');
    if (star === -1) {
      if (!plain.has(name)) plain.set(name, val);
      continue;
    }
    const base = name.slice(0, star);
    const rest = name.slice(star + 1); // '' | '0' | '0*' | '1' ...
    let index = 0;
    let extended = false;
    if (rest === '') extended = true;
    else {
      const digits = rest.endsWith('*') ? rest.slice(0, -1) : rest;
      extended = rest.endsWith('*');
      if (!/^\d{1,3}$/.test(digits)) continue;
      index = Number(digits);
    }
    let m = sections.get(base);
    if (!m) sections.set(base, (m = new Map()));
    if (!m.has(index)) m.set(index, { value: val, extended });
  }
  for (const [base, m] of sections) {
    let charset = '';
    let joinedBytes = '';
    for (let k = 0; m.has(k); k++) {
      const sec = m.get(k)!;
      let sv = sec.value;
      if (sec.extended) {
        if (k === 0) {
          const q1 = sv.indexOf("'");
          const q2 = q1 === -1 ? -1 : sv.indexOf("'", q1 + 1);
          if (q2 !== -1) {
            charset = sv.slice(0, q1);
            sv = sv.slice(q2 + 1);
          }
        }
        joinedBytes += percentDecode(sv, charset);
      } else {
        joinedBytes += sv;
      }
    }
    if (!params.has(base) && (m.has(0) || joinedBytes)) params.set(base, joinedBytes);
  }
  for (const [k, val] of plain) if (!params.has(k)) params.set(k, val);
  return { type, params };
}

export interface MimeEntity {
  headers: HeaderField[];
  /** Lowercased type/subtype (defaulted when absent or invalid). */
  type: string;
  params: Map<string, string>;
  /** Raw (still transfer-encoded) body as a binary string. */
  body: string;
  children: MimeEntity[];
  depth: number;
  /** Header block was ended by an empty line. */
  separated: boolean;
  /** Lines in the header block that were neither a field nor a continuation (skipped). */
  invalidLines: number;
}

export interface MimeContext {
  warnings: Warnings;
  entities: number;
}

/** Start index of the next delimiter line "--boundary" at or after `from` (which must be at a line start). */
function nextDelimiter(body: string, delim: string, from: number): { start: number; close: boolean; lineEnd: number } | null {
  let searchFrom = from;
  for (;;) {
    let start: number;
    if (body.startsWith(delim, searchFrom) && (searchFrom === 0 || body.charCodeAt(searchFrom - 1) === 10)) {
      start = searchFrom;
    } else {
      const j = body.indexOf('\n' + delim, searchFrom);
      if (j === -1) return null;
      start = j + 1;
    }
    const after = start + delim.length;
    if (body.startsWith('--', after)) {
      const nl = body.indexOf('\n', after);
      return { start, close: true, lineEnd: nl === -1 ? body.length : nl };
    }
    // only transport padding may follow the boundary on its line
    let k = after;
    const max = Math.min(body.length, after + 256);
    while (k < max) {
      const c = body.charCodeAt(k);
      if (c === 32 || c === 9 || c === 13) k++;
      else break;
    }
    if (k === body.length || body.charCodeAt(k) === 10) return { start, close: false, lineEnd: k };
    searchFrom = after;
  }
}

export interface SplitResult {
  parts: string[];
  found: boolean;
  closed: boolean;
  truncated: boolean;
}

export function splitMultipart(body: string, boundary: string): SplitResult {
  const delim = '--' + boundary;
  const parts: string[] = [];
  let d = nextDelimiter(body, delim, 0);
  if (!d) return { parts, found: false, closed: false, truncated: false };
  if (d.close) return { parts, found: true, closed: true, truncated: false };
  for (;;) {
    const partStart = d.lineEnd < body.length ? d.lineEnd + 1 : body.length;
    const nd = nextDelimiter(body, delim, partStart);
    if (!nd) {
      parts.push(body.slice(partStart));
      return { parts, found: true, closed: false, truncated: false };
    }
    // the line break before a delimiter belongs to the delimiter
    const partEnd = Math.max(partStart, nd.start - 1);
    parts.push(body.slice(partStart, partEnd));
    if (nd.close) return { parts, found: true, closed: true, truncated: false };
    if (parts.length >= LIMITS.parts) return { parts, found: true, closed: false, truncated: true };
    d = nd;
  }
}

/** Parses one MIME entity (headers + body); multiparts are split recursively up to LIMITS.depth. */
export function parseEntity(s: string, ctx: MimeContext, depth: number, defaultType: string): MimeEntity {
  ctx.entities++;
  const hb = parseHeaderBlock(s, 0, s.length, 'skip');
  const ctValue = headerValue(hb.fields, 'content-type');
  const ct = parseContentType(ctValue);
  let type = ct.type;
  if (!type) {
    if (ctValue !== undefined && ctValue !== '') ctx.warnings.add(`invalid Content-Type "${clip(ctValue, 60)}" read as ${defaultType}`);
    type = defaultType;
  }
  const entity: MimeEntity = {
    headers: hb.fields,
    type,
    params: ct.params,
    body: hb.separated ? s.slice(hb.bodyStart) : '',
    children: [],
    depth,
    separated: hb.separated,
    invalidLines: hb.invalidLines,
  };
  if (hb.truncatedValues > 0) ctx.warnings.add(`header value longer than ${LIMITS.fieldValue} bytes truncated`);
  if (hb.droppedFields > 0) ctx.warnings.add(`more than ${LIMITS.fields} header fields; the rest ignored`);
  if (type.startsWith('multipart/')) {
    if (depth >= LIMITS.depth) {
      ctx.warnings.add(`MIME nesting deeper than ${LIMITS.depth} levels; inner parts ignored`);
      return entity;
    }
    const declared = ct.params.get('boundary');
    let split = declared && declared.length <= LIMITS.boundary ? splitMultipart(entity.body, declared) : null;
    if (!split || !split.found) {
      // a missing or wrong boundary parameter: use the first "--token" line that starts a part
      const inferred = inferBoundary(entity.body);
      const retry = inferred !== null && inferred !== declared ? splitMultipart(entity.body, inferred) : null;
      if (!retry || !retry.found) {
        ctx.warnings.add(declared ? `${type} boundary never occurs in the body` : `${type} without a usable boundary parameter`);
        return entity;
      }
      ctx.warnings.add(`${type} boundary ${declared ? 'does not match the body' : 'parameter missing'}; used "${clip(inferred!, 70)}" found in the body`);
      split = retry;
    }
    if (!split.closed) ctx.warnings.add(`${type} has no closing boundary (truncated?)`);
    if (split.truncated) ctx.warnings.add(`${type} has more than ${LIMITS.parts} parts; the rest ignored`);
    const childDefault = type === 'multipart/digest' ? 'message/rfc822' : 'text/plain';
    for (const part of split.parts) {
      if (ctx.entities >= LIMITS.entities) {
        ctx.warnings.add(`more than ${LIMITS.entities} MIME parts; the rest ignored`);
        break;
      }
      entity.children.push(parseEntity(part, ctx, depth + 1, childDefault));
    }
  }
  return entity;
}

/** The boundary of the first "--token" line followed by a part header line (Content-*), scanning at most 64 KiB. */
function inferBoundary(body: string): string | null {
  const max = Math.min(body.length, 65536);
  let pos = 0;
  while (pos < max) {
    const nl = body.indexOf('\n', pos);
    const end = nl === -1 ? body.length : nl;
    if (body.startsWith('--', pos) && end - pos > 2 && end - pos <= LIMITS.boundary + 2) {
      const token = body.slice(pos + 2, end).trimEnd();
      const next = body.slice(end + 1, end + 1 + 80).toLowerCase();
      if (token && !/\s/.test(token) && (next.startsWith('content-') || next.startsWith('mime-version'))) return token;
    }
    if (nl === -1) break;
    pos = nl + 1;
  }
  return null;
}

/** CRLF, and leniently a lone CR, to LF: one pass over the bytes, no copy when there is no CR. */
export function normaliseNewlinesBuffer(buf: Buffer): Buffer {
  const first = buf.indexOf(13);
  if (first === -1) return buf;
  const out = Buffer.allocUnsafe(buf.length);
  buf.copy(out, 0, 0, first);
  let o = first;
  const n = buf.length;
  for (let i = first; i < n; i++) {
    const c = buf[i]!;
    if (c === 13) {
      out[o++] = 10;
      if (i + 1 < n && buf[i + 1] === 10) i++;
    } else out[o++] = c;
  }
  return out.subarray(0, o);
}

/** Decodes the Content-Transfer-Encoding of an entity body into bytes. */
export function decodeTransfer(body: string, cte: string | undefined, warnings: Warnings | null): Buffer {
  const enc = (cte ?? '').trim().toLowerCase();
  if (enc === 'base64') return Buffer.from(body, 'base64');
  if (enc === 'quoted-printable') return decodeQuotedPrintable(body);
  if (enc && enc !== '7bit' && enc !== '8bit' && enc !== 'binary') {
    warnings?.add(`unknown Content-Transfer-Encoding "${clip(enc, 40)}" read as 8bit`);
  }
  return Buffer.from(body, 'latin1');
}

function hexVal(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

export function decodeQuotedPrintable(s: string): Buffer {
  const out = Buffer.allocUnsafe(s.length);
  let o = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 61) {
      // soft line break: "=" [blanks] LF
      let k = i + 1;
      while (k < s.length && (s.charCodeAt(k) === 32 || s.charCodeAt(k) === 9 || s.charCodeAt(k) === 13)) k++;
      if (k < s.length && s.charCodeAt(k) === 10) {
        i = k;
        continue;
      }
      if (k === s.length) break;
      const h = hexVal(s.charCodeAt(i + 1));
      const l = hexVal(s.charCodeAt(i + 2));
      if (h >= 0 && l >= 0) {
        out[o++] = h * 16 + l;
        i += 2;
        continue;
      }
    }
    out[o++] = c & 0xff;
  }
  return out.subarray(0, o);
}

const decoderCache = new Map<string, TextDecoder>();

/** Decodes bytes in a declared charset; unknown labels fall back to UTF-8 (if valid) or latin1, with a warning. */
export function decodeCharset(bytes: Buffer, charset: string | undefined, warnings: Warnings | null): string {
  let label = (charset ?? '').trim().toLowerCase();
  const star = label.indexOf('*'); // RFC 2231 language suffix
  if (star !== -1) label = label.slice(0, star);
  if (label === '' || label === 'us-ascii' || label === 'ascii' || label === 'utf-8' || label === 'utf8') {
    return fallbackDecode(bytes);
  }
  let dec = decoderCache.get(label);
  if (!dec) {
    try {
      dec = new TextDecoder(label.length <= 40 ? label : 'x-invalid');
      if (decoderCache.size < 64) decoderCache.set(label, dec);
    } catch {
      warnings?.add(`unknown charset "${clip(label, 40)}" decoded as UTF-8/latin1`);
      return fallbackDecode(bytes);
    }
  }
  return dec.decode(bytes);
}

function fallbackDecode(bytes: Buffer): string {
  try {
    return decoderUtf8Fatal.decode(bytes);
  } catch {
    return bytes.toString('latin1');
  }
}

/** Decoded text of a text/* entity (transfer encoding and charset), capped at `max` bytes of input. */
export function entityText(e: MimeEntity, warnings: Warnings | null, max = 256 * 1024): string {
  const body = e.body.length > max ? e.body.slice(0, max) : e.body;
  return decodeCharset(decodeTransfer(body, headerValue(e.headers, 'content-transfer-encoding'), warnings), e.params.get('charset'), warnings);
}

export function clip(s: string, n: number): string {
  let out = s.length > n ? s.slice(0, n) + '…' : s;
  // keep warnings printable
  out = out.replace(/[\x00-\x1f\x7f]/g, ' ');
  return out;
}
