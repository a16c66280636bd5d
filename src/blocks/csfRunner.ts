import { execFile } from 'node:child_process';
import path from 'node:path';
import { normalizeAddress } from './address';
import { FirewallError } from './firewall';
import { maxTtlSeconds, minTtlSeconds } from './types';

/** The only csf subcommands the app may run: temporary deny, deny, and their removals. */
export const csfSubcommands = ['-td', '-d', '-tr', '-dr'] as const;
export type CsfSubcommand = (typeof csfSubcommands)[number];

/**
 * A comment csf writes into csf.deny / csf.tempban as it is. csf re-joins its arguments with spaces
 * and strips "-d …" and "-p …" out of a -td comment, csf.tempban is "|"-separated, and a newline
 * would start a new csf.deny line: so comments are plain words only (no "-", "|", quotes or control
 * characters), always start with "antispam", and never say "do not delete" (which would pin the
 * line so the app could not lift it).
 */
export const safeComment = /^antispam( [A-Za-z0-9.,:_#()/@+=]+)*$/;
export const maxCommentLength = 200;

export function csfComment(text: string): string {
  const words = text
    .replace(/do not delete/gi, ' ')
    .replace(/[^A-Za-z0-9.,:_#()/@+=]+/g, ' ')
    .trim();
  const comment = words ? `antispam ${words}` : 'antispam';
  return comment.slice(0, maxCommentLength).trimEnd();
}

export interface CsfRunResult {
  stdout: string;
  stderr: string;
}

/** Output kept from a run (csf prints a lot with DEBUG on); sync_error holds 1000 characters. */
const maxOutput = 64 * 1024;
/** csf finds iptables and friends through csf.conf; PATH is for its helpers. The app's own environment (secrets) never reaches it. */
const childEnv = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C', LC_ALL: 'C' };

/**
 * Runs the csf binary through an allow-list: execFile (never a shell), one of four subcommands,
 * every argument checked again right here before exec (whatever the caller validated before), a
 * timeout, and the output captured for the error.
 */
export class CsfRunner {
  constructor(
    private readonly csfPath: string,
    private readonly timeoutMs = 30_000,
  ) {
    if (!path.isAbsolute(csfPath)) throw new Error(`CSF_PATH must be absolute, not "${csfPath}"`);
  }

  /** The exact argument vector for a subcommand, or a FirewallError saying which argument is refused. */
  static argv(sub: CsfSubcommand, args: string[]): string[] {
    const refuse = (why: string): never => {
      throw new FirewallError(`Refused to run csf ${sub}: ${why}.`, '');
    };
    if (!(csfSubcommands as readonly string[]).includes(sub)) refuse('not an allowed subcommand');
    const [address, ...rest] = args;
    let canonical: string;
    try {
      canonical = normalizeAddress(address, 'address').address;
    } catch {
      return refuse('the address is not a valid IP address or network');
    }
    if (canonical !== address) refuse('the address is not in canonical form');
    if (sub === '-tr' || sub === '-dr') {
      if (rest.length) refuse('it takes the address only');
      return [sub, address!];
    }
    if (sub === '-td') {
      const [ttl, comment, ...extra] = rest;
      if (!ttl || !/^\d{1,9}$/.test(ttl) || Number(ttl) < minTtlSeconds || Number(ttl) > maxTtlSeconds) refuse(`the TTL must be ${minTtlSeconds} to ${maxTtlSeconds} seconds`);
      if (comment === undefined || extra.length || comment.length > maxCommentLength || !safeComment.test(comment)) refuse('the comment must be plain words starting with "antispam"');
      return [sub, address!, ttl!, comment!];
    }
    const [comment, ...extra] = rest;
    if (comment === undefined || extra.length || comment.length > maxCommentLength || !safeComment.test(comment)) refuse('the comment must be plain words starting with "antispam"');
    return [sub, address!, comment!];
  }

  run(sub: CsfSubcommand, args: string[]): Promise<CsfRunResult> {
    const argv = CsfRunner.argv(sub, args);
    return new Promise((resolve, reject) => {
      execFile(this.csfPath, argv, { shell: false, timeout: this.timeoutMs, killSignal: 'SIGKILL', maxBuffer: maxOutput, env: childEnv, windowsHide: true }, (err, stdout, stderr) => {
        const out = `${String(stdout)}${stderr ? `\n${String(stderr)}` : ''}`.trim();
        if (!err) return resolve({ stdout: String(stdout), stderr: String(stderr) });
        const e = err as NodeJS.ErrnoException & { killed?: boolean; code?: string | number; signal?: string | null };
        const command = `${this.csfPath} ${argv.join(' ')}`;
        if (e.code === 'ENOENT') return reject(new FirewallError(`csf was not found at ${this.csfPath} (CSF_PATH): install CSF or set FIREWALL=none.`, out, true));
        if (e.code === 'EACCES') return reject(new FirewallError(`csf at ${this.csfPath} cannot be run by this process (permission denied; the app must run as root to change the firewall).`, out, true));
        if (e.killed || e.signal === 'SIGKILL') return reject(new FirewallError(`${command} did not finish within ${this.timeoutMs / 1000} s and was stopped.`, out, true));
        reject(new FirewallError(`${command} failed (exit ${typeof e.code === 'number' ? e.code : (e.signal ?? e.code ?? '?')})${out ? `: ${out}` : ''}`, out, true));
      });
    });
  }
}
