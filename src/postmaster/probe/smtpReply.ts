/**
 * SMTP replies (RFC 5321 §4.2): one or more lines "ddd-text" ending with "ddd text" (or bare "ddd"),
 * optionally with an RFC 3463 enhanced status code at the start of the text.
 */
export interface SmtpReply {
  code: number;
  /** The text of each line, without the code and separator. */
  lines: string[];
  /** "5.1.1", when the first line starts with one whose class matches the reply code. */
  enhanced: string | null;
}

export class SmtpProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SmtpProtocolError';
  }
}

const LINE = /^(\d{3})(?:([ -])(.*))?$/;
const ENHANCED = /^([245])\.(\d{1,3})\.(\d{1,3})(?=\s|$)/;

export function enhancedCodeOf(code: number, text: string): string | null {
  const m = ENHANCED.exec(text);
  if (!m || Number(m[1]) !== Math.floor(code / 100)) return null;
  return `${m[1]}.${m[2]}.${m[3]}`;
}

/** The reply's text on one line, enhanced codes removed (they are reported separately). */
export function replyText(reply: SmtpReply): string {
  return reply.lines
    .map((line) => line.replace(ENHANCED, '').trim())
    .filter((line) => line !== '')
    .join(' ');
}

export function formatReply(reply: SmtpReply): string {
  return `${reply.code}${reply.enhanced ? ` ${reply.enhanced}` : ''} ${replyText(reply)}`.trim();
}

/** Collects lines until a reply is complete. */
export class ReplyAssembler {
  private lines: string[] = [];

  /** Returns the completed reply, or null while a multi-line reply goes on. */
  push(line: string): SmtpReply | null {
    const m = LINE.exec(line);
    if (!m) throw new SmtpProtocolError(`not an SMTP reply line: ${JSON.stringify(line.slice(0, 80))}`);
    this.lines.push(m[3] ?? '');
    if (m[2] === '-') return null;
    // RFC 5321 wants one code on every line; a server that varies it is believed on its last line.
    const code = Number(m[1]);
    const reply: SmtpReply = { code, lines: this.lines, enhanced: enhancedCodeOf(code, this.lines[0] ?? '') };
    this.lines = [];
    return reply;
  }
}
