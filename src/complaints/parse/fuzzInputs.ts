/**
 * Mutated complaint messages for fuzz tests (the parser's and the intake's): seeded, so any case can be
 * replayed from its seed and index.
 */
/** mulberry32: small, fast, seedable. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const MB = 1024 * 1024;
const HUGE = {
  plain: 'A'.repeat(MB),
  ips: '192.0.2.1 [198.51.100.7] '.repeat(MB / 25),
  words: '=?utf-8?B?'.repeat(MB / 10),
  folded: ' x\n'.repeat(MB / 3),
  params: '; a="b'.repeat(MB / 6),
  dashes: '-'.repeat(MB),
};
const CHARSETS = ['x-unknown', 'utf-7', 'bogus\xff', 'iso-8859-99', '', '"', 'utf-16', 'shift_jis', 'iso-2022-jp', 'a'.repeat(300), 'utf-8*en', 'windows-1252'];

export function deepNest(levels: number, inner: string): string {
  let head = 'From: deep@example.com\nSubject: deep\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b0"\n\n';
  let tail = '';
  for (let i = 0; i < levels; i++) {
    head += `--b${i}\nContent-Type: multipart/mixed; boundary="b${i + 1}"\n\n`;
    tail = `\n--b${i}--\n` + tail;
  }
  return head + `--b${levels}\nContent-Type: message/rfc822\n\n${inner}\n--b${levels}--` + tail;
}

export function mutate(base: string, rnd: () => number): string {
  const int = (n: number) => Math.floor(rnd() * n);
  const pick = <T,>(xs: readonly T[]): T => xs[int(xs.length)]!;
  let s = base;
  const rounds = 1 + int(3);
  for (let k = 0; k < rounds; k++) {
    switch (int(13)) {
      case 0: // truncate
        s = s.slice(0, int(s.length + 1));
        break;
      case 1: {
        // break or remove boundaries
        const m = /boundary="?([^";\s]+)"?/i.exec(s);
        if (!m) break;
        const b = m[1]!;
        const mode = int(3);
        if (mode === 0) s = s.split(b).join(b.slice(0, int(b.length)) + 'X');
        else if (mode === 1) s = s.replace(/boundary=/i, 'boundry=');
        else s = s.split('\n').filter((l) => !l.startsWith('--')).join('\n');
        break;
      }
      case 2: {
        // huge header line somewhere in the first header block
        const sep = s.indexOf('\n\n');
        const at = sep === -1 ? 0 : s.lastIndexOf('\n', int(sep + 1)) + 1;
        const kind = int(6);
        const line =
          kind === 0 ? `X-Huge: ${HUGE.plain}` :
          kind === 1 ? `Received: from x (${HUGE.ips}) by y` :
          kind === 2 ? `Subject: ${HUGE.words}` :
          kind === 3 ? `X-Folded:${HUGE.folded}` :
          kind === 4 ? `Content-Type: multipart/mixed${HUGE.params}` :
          HUGE.dashes;
        s = s.slice(0, at) + line + '\n' + s.slice(at);
        break;
      }
      case 3: {
        // random binary bytes spliced in
        const n = 1 + int(64);
        let junk = '';
        for (let i = 0; i < n; i++) junk += String.fromCharCode(int(256));
        const at = int(s.length + 1);
        s = s.slice(0, at) + junk + s.slice(at + int(8));
        break;
      }
      case 4: // wrong or unknown charsets, encoded words in them
        s = s.replace(/charset="?[^";\s]*"?/gi, () => `charset="${pick(CHARSETS)}"`);
        s = s.replace(/^Subject:/im, `Subject: =?${pick(CHARSETS)}?${pick(['B', 'Q', 'x'])}?${pick(['QUJD', '=C3=A9', '????', ''])}?= `);
        break;
      case 5: // deep nesting
        s = deepNest(150 + int(100), s);
        break;
      case 6: // CRLF or lone CR line endings
        s = int(2) ? s.replace(/\n/g, '\r\n') : s.replace(/\n/g, '\r');
        break;
      case 7: // header names in random case
        s = s.replace(/^([A-Za-z-]{2,30}):/gm, (_all, name: string) => (int(2) ? name.toUpperCase() : name.toLowerCase()) + ':');
        break;
      case 8: {
        // repeat a feedback field many times
        const field = pick(['Original-Rcpt-To: x@example.com', 'Reported-Domain: example.com', 'Source-IP: 999.1.1.1', 'Feedback-Type: ', 'Arrival-Date: ', 'Incidents: -5']);
        s = s.replace(/^Feedback-Type:/im, `${(field + '\n').repeat(1 + int(3000))}Feedback-Type:`);
        break;
      }
      case 9: {
        // delete a random span
        const a = int(s.length + 1);
        s = s.slice(0, a) + s.slice(a + int(2000));
        break;
      }
      case 10: // transfer encodings that do not match the content
        s = s.replace(/Content-Type: (message\/[a-z822-]+|text\/plain)/gi, (all) => `${all}\nContent-Transfer-Encoding: ${pick(['base64', 'quoted-printable', 'x-uuencode', 'BASE64'])}`);
        break;
      case 11: // many tiny parts
        s = s.replace(/(\n--[^\n]{1,100}\n)/, (all) => all + 'Content-Type: text/plain\n\nx\n' + all.slice(1).repeat(int(3000)));
        break;
      default: // duplicate a span (repeated structures)
        {
          const a = int(s.length);
          const span = s.slice(a, a + int(500));
          s = s.slice(0, a) + span.repeat(1 + int(20)) + s.slice(a);
        }
        break;
    }
  }
  return s;
}

