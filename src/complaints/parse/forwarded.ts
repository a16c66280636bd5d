/**
 * Inline forwarded messages ("---------- Forwarded message ---------", "Begin forwarded message:",
 * "-----Original Message-----") and a small, linear HTML-to-text for HTML-only forwards.
 */

const MARKERS: RegExp[] = [
  /^-{2,} ?forwarded message ?-{2,}$/i,
  /^-{2,} ?forwarded message follows ?-{2,}$/i,
  /^-{2,} ?original message ?-{2,}$/i,
  /^begin forwarded message ?:?$/i,
  /^-{2,} ?weitergeleitete nachricht ?-{2,}$/i,
  /^anfang der weitergeleiteten nachricht ?:?$/i,
  /^-{2,} ?message transf[eé]r[eé] ?-{2,}$/i,
  /^-{2,} ?mensaje reenviado ?-{2,}$/i,
];

/** Header names kept from an inline block ("Sent" is Outlook's Date). */
const NAME_MAP = new Map<string, string>(Object.entries({
  from: 'From',
  to: 'To',
  cc: 'Cc',
  subject: 'Subject',
  date: 'Date',
  sent: 'Date',
  'message-id': 'Message-ID',
  'reply-to': 'Reply-To',
  'return-path': 'Return-Path',
  received: 'Received',
  'dkim-signature': 'DKIM-Signature',
  'x-originating-ip': 'X-Originating-IP',
  'x-antiabuse': 'X-AntiAbuse',
  'x-get-message-sender-via': 'X-Get-Message-Sender-Via',
  'x-authenticated-sender': 'X-Authenticated-Sender',
  sender: 'Sender',
  'delivered-to': 'Delivered-To',
}));

function dequote(line: string): string {
  let i = 0;
  while (i < line.length && i < 40 && (line[i] === '>' || line[i] === ' ' || line[i] === '\t')) i++;
  return line.slice(i);
}

export interface InlineForward {
  /** A rebuilt message ("Name: value" lines, an empty line, then the forwarded body), for readOriginal. */
  message: string;
  hasBody: boolean;
}

/** Finds the first inline forwarded block with a usable header block (From plus Subject, Date or To). */
export function findInlineForward(text: string): InlineForward | null {
  const s = text.length > 256 * 1024 ? text.slice(0, 256 * 1024) : text;
  const lines = s.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.length > 200) continue;
    const marker = dequote(line).trim();
    if (marker.length < 10 || !MARKERS.some((re) => re.test(marker))) continue;
    let j = i + 1;
    let blanks = 0;
    while (j < lines.length && dequote(lines[j]!).trim() === '' && blanks < 3) {
      j++;
      blanks++;
    }
    const header: string[] = [];
    const names = new Set<string>();
    let last: string | null = null;
    let seen = 0;
    for (; j < lines.length && header.length < 200; j++) {
      const raw = dequote(lines[j]!).replace(/\r$/, '');
      if (raw.trim() === '') break;
      if ((raw[0] === ' ' || raw[0] === '\t') && seen > 0) {
        if (last !== null) header[header.length - 1] += ' ' + raw.trim();
        continue;
      }
      const m = /^\*?([A-Za-z][A-Za-z0-9-]{0,40})\*? ?:\*? ?(.*)$/.exec(raw.length > 4096 ? raw.slice(0, 4096) : raw);
      if (!m) break;
      seen++;
      const mapped = NAME_MAP.get(m[1]!.toLowerCase());
      last = mapped ?? null;
      if (!mapped) continue;
      names.add(mapped);
      header.push(`${mapped}: ${m[2]!.replace(/\*+$/, '').trim()}`);
    }
    if (!names.has('From') || !(names.has('Subject') || names.has('Date') || names.has('To'))) continue;
    const body = lines
      .slice(j, j + 5000)
      .map(dequote)
      .join('\n');
    return { message: header.join('\n') + '\n\n' + body, hasBody: body.trim().length > 0 };
  }
  return null;
}

const ENTITIES = new Map<string, string>(Object.entries({ amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ', '#39': "'" }));
const BLOCK_TAGS = new Set(['br', 'p', 'div', 'tr', 'li', 'blockquote', 'h1', 'h2', 'h3', 'h4', 'table', 'hr']);

/** Linear, tolerant HTML to text: drops script/style, turns block tags into line breaks, decodes basic entities. */
export function htmlToText(html: string): string {
  const s = html.length > 512 * 1024 ? html.slice(0, 512 * 1024) : html;
  let lower: string | null = null;
  let out = '';
  let i = 0;
  while (i < s.length) {
    const lt = s.indexOf('<', i);
    const chunkEnd = lt === -1 ? s.length : lt;
    out += decodeEntities(s.slice(i, chunkEnd));
    if (lt === -1) break;
    const gt = s.indexOf('>', lt + 1);
    if (gt === -1) break;
    const tag = s.slice(lt + 1, Math.min(gt, lt + 40)).trim().toLowerCase();
    const name = (tag.startsWith('/') ? tag.slice(1) : tag).split(/[\s/>]/)[0] ?? '';
    if ((name === 'script' || name === 'style') && !tag.startsWith('/')) {
      lower ??= s.toLowerCase();
      const close = lower.indexOf(`</${name}`, gt);
      i = close === -1 ? s.length : close;
      continue;
    }
    // <br> is always a line break; other block tags only end the current line (so </div><div> is one break)
    if (name === 'br') out += '\n';
    else if (BLOCK_TAGS.has(name) && out.length > 0 && !out.endsWith('\n')) out += '\n';
    i = gt + 1;
  }
  return out;
}

function decodeEntities(t: string): string {
  if (t.indexOf('&') === -1) return t.replace(/[\r\n]+/g, ' ');
  return t.replace(/[\r\n]+/g, ' ').replace(/&(#x[0-9a-f]{1,6}|#[0-9]{1,7}|[a-z]{2,6}|#39);/gi, (all, code: string) => {
    const c = code.toLowerCase();
    const named = ENTITIES.get(c);
    if (named !== undefined) return named;
    if (c.startsWith('#x')) return safeCodePoint(parseInt(c.slice(2), 16), all);
    if (c.startsWith('#')) return safeCodePoint(parseInt(c.slice(1), 10), all);
    return all;
  });
}

function safeCodePoint(n: number, fallback: string): string {
  return Number.isFinite(n) && n > 0 && n <= 0x10ffff ? String.fromCodePoint(n) : fallback;
}
