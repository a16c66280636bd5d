import { z } from 'zod';
import { maxLogLineLength, maxLogLines } from './blockRepository';
import type { AddBlockInput } from './blockService';
import type { BlockReason } from './types';

/**
 * What plugin/bin/csf-block-report posts for one lfd block: lfd's eight BLOCK_REPORT arguments as
 * the strings lfd passed them (IP, ports, permanent, direction, TTL, message, log lines, trigger),
 * plus the reporting host. The script interprets nothing; this schema does.
 */
export const lfdReportBody = z.object({
  ip: z.string({ message: 'is required (BLOCK_REPORT argument 1)' }).max(64, 'is too long to be an address'),
  ports: z.string().max(1000).default(''),
  permanent: z.enum(['0', '1', ''], { message: 'expects 0 or 1 (BLOCK_REPORT argument 3)' }).default('0'),
  direction: z.enum(['in', 'out', 'inout', ''], { message: 'expects in, out or inout (BLOCK_REPORT argument 4)' }).default('in'),
  ttl: z.string().regex(/^\d{0,10}$/, 'expects a number of seconds (BLOCK_REPORT argument 5)').default(''),
  message: z.string().max(5000).default(''),
  logs: z.string().max(256 * 1024).default(''),
  trigger: z.string().regex(/^[A-Za-z0-9_]{0,64}$/, 'expects an lfd setting name such as LF_SSHD or PS_LIMIT (BLOCK_REPORT argument 8)').default(''),
  host: z.string().max(255).default(''),
});
export type LfdReportBody = z.infer<typeof lfdReportBody>;

/** lfd's login-failure triggers (csf.conf LF_* settings that count failed or excessive logins). */
const loginTriggers = new Set([
  'LF_TRIGGER', 'LF_SSHD', 'LF_FTPD', 'LF_SMTPAUTH', 'LF_POP3D', 'LF_IMAPD', 'LF_HTACCESS', 'LF_CPANEL', 'LF_WEBMIN', 'LF_DIRECTADMIN',
  'LF_INTERWORX', 'LF_CYBERPANEL', 'LF_CWP', 'LF_VESTA', 'LF_APACHE_401', 'LF_DISTATTACK', 'LF_DISTFTP', 'LF_DISTSMTP', 'LF_PERMBLOCK',
  'LF_NETBLOCK', 'LT_POP3D', 'LT_IMAPD',
]);

/**
 * The block list's reason for an lfd trigger: port scans and floods (PS_LIMIT, PORTFLOOD, …),
 * login failures (LF_SSHD, LF_SMTPAUTH, …), relay tracking (RT_*: the address sent too much mail)
 * as a spam source, and anything else (mod_security, exploit checks, custom triggers) as hacking.
 */
export function reasonForTrigger(trigger: string): BlockReason {
  const t = trigger.toUpperCase();
  if (/^(PS_|PORTFLOOD|PORTKNOCK|SYNFLOOD|UDPFLOOD|CONNLIMIT|CT_)/.test(t)) return 'port_scan';
  if (loginTriggers.has(t)) return 'login_failure';
  if (t.startsWith('RT_')) return 'spam_source';
  return 'hacking';
}

/** Control characters other than tab are dropped from text kept as evidence (terminal escapes in log lines are someone's attack). */
const clean = (s: string) => s.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '').trim();

/** lfd's own message says how many events in how long: "5 in the last 3600 secs", "11 hits in the last 46 seconds". */
function countsFrom(message: string): { count: number; windowSeconds: number } | null {
  const m = /(\d+)\s+(?:hits\s+)?in the last\s+(\d+)\s*sec/i.exec(message);
  return m ? { count: Number(m[1]), windowSeconds: Number(m[2]) } : null;
}

/** lfd's TTL when the block is temporary: csf turns anything under 2 seconds into an hour, and so does this. */
const lfdDefaultTtl = 3600;

/** The block to record for an lfd report (already applied by lfd: the service stores it as synced). */
export function blockFromLfdReport(r: LfdReportBody, now: Date): AddBlockInput {
  const logLines = r.logs
    .split(/\r?\n/)
    .map(clean)
    .filter(Boolean)
    .slice(-maxLogLines)
    .map((l) => l.slice(0, maxLogLineLength));
  const message = clean(r.message);
  const counted = countsFrom(message);
  const ports = r.ports === '*' ? [] : r.ports.split(',').map((p) => p.trim()).filter((p) => /^\d{1,5}(;(tcp|udp))?$/i.test(p));
  const ttl = Number(r.ttl || '0');
  const trigger = r.trigger ? r.trigger.toUpperCase() : null;
  return {
    address: r.ip,
    reason: trigger ? reasonForTrigger(trigger) : 'hacking',
    reasonText: message ? message.slice(0, 500) : null,
    trigger,
    expiry: r.permanent === '1' ? { permanent: true } : { permanent: false, ttlSeconds: Math.min(Math.max(ttl < 2 ? lfdDefaultTtl : ttl, 60), 365 * 86_400) },
    evidence: {
      logLines,
      count: counted?.count ?? logLines.length,
      firstSeen: new Date(now.getTime() - (counted?.windowSeconds ?? 0) * 1000).toISOString(),
      lastSeen: now.toISOString(),
      ports,
      direction: r.direction || 'in',
      ...(r.host ? { reportedBy: clean(r.host).slice(0, 255) } : {}),
    },
  };
}
