/**
 * Helpers for the tests of the panel-side files in plugin/ (Perl shims and hook, bash installer).
 * The scripts themselves are never mocked: tests spawn the real perl/bash files. What is faked is
 * the panel around them (cPanel's commands, systemctl, cPanel's AdminBin), in a temporary root
 * prefix (ANTISPAM_ROOT).
 */
import { spawn } from 'node:child_process';
import { createHmac, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const pluginDir = path.join(repoRoot, 'plugin');

export const HOOK_REL = 'usr/local/cpanel/3rdparty/antispam/bin/antispam-hook';

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface RunOptions {
  env?: Record<string, string | undefined>;
  input?: string | Buffer;
  cwd?: string;
  uid?: number;
  gid?: number;
  /** Kill the process after this many ms (a safety net; tests assert on `ms`). */
  killAfterMs?: number;
}

/**
 * Runs a command asynchronously (never spawnSync: the tests' own HTTP servers must keep answering
 * while the script runs). The environment is minimal: PATH plus what the test passes, so proxy
 * variables or an ANTISPAM_ROOT of the developer's shell never leak in.
 */
export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C' };
  for (const [k, v] of Object.entries(opts.env ?? {})) if (v !== undefined) env[k] = v;
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, cwd: opts.cwd ?? repoRoot, uid: opts.uid, gid: opts.gid });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const killer = setTimeout(() => child.kill('SIGKILL'), opts.killAfterMs ?? 20_000);
    child.on('error', (e) => {
      clearTimeout(killer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      resolve({
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        ms: Date.now() - started,
      });
    });
    child.stdin.on('error', () => {}); // a script may exit before reading all of its input
    child.stdin.end(opts.input ?? '');
  });
}

export function perl(script: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return run('perl', [script, ...args], opts);
}

/** A fresh temporary root prefix; removed by the returned cleanup function. */
export function makeTempRoot(prefix = 'antispam-plugin-'): { root: string; cleanup: () => void } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return { root, cleanup: () => fs.rmSync(root, { recursive: true, force: true }) };
}

export function writeFile(file: string, content: string | Buffer, mode = 0o644): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content);
  fs.chmodSync(file, mode);
}

export interface PluginConfig {
  appUrl: string;
  ssoSecret: string;
  hookSecret: string;
  hookTimeout?: number;
  /** Raw content of the key files (defaults to the secrets plus a newline). */
  ssoKeyFileContent?: string;
}

/** Writes <root>/etc/antispam-plugin/{plugin.conf,sso.key,hook.key} as install.sh would. */
export function writePluginConfig(root: string, cfg: PluginConfig): void {
  const etc = path.join(root, 'etc/antispam-plugin');
  const lines = [
    `app_url=${cfg.appUrl}`,
    `sso_secret_file=${etc}/sso.key`,
    `hook_secret_file=${etc}/hook.key`,
    `hook_timeout=${cfg.hookTimeout ?? 2}`,
  ];
  writeFile(path.join(etc, 'plugin.conf'), lines.join('\n') + '\n');
  writeFile(path.join(etc, 'sso.key'), cfg.ssoKeyFileContent ?? cfg.ssoSecret + '\n', 0o600);
  writeFile(path.join(etc, 'hook.key'), cfg.hookSecret + '\n', 0o600);
}

// ---------------------------------------------------------------------------------------------
// CGI responses and SSO tokens

export interface CgiResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Parses a CGI response ("Status: 302 Found\r\nLocation: ...\r\n\r\nbody"). */
export function parseCgi(stdout: string): CgiResponse {
  const sep = stdout.indexOf('\r\n\r\n');
  if (sep < 0) throw new Error(`not a CGI response: ${JSON.stringify(stdout.slice(0, 200))}`);
  const headers: Record<string, string> = {};
  for (const line of stdout.slice(0, sep).split('\r\n')) {
    const i = line.indexOf(':');
    if (i <= 0) throw new Error(`bad CGI header line: ${line}`);
    headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  const status = Number((headers.status ?? '200').split(' ')[0]);
  return { status, headers, body: stdout.slice(sep + 4) };
}

export interface SsoClaims {
  v: number;
  user: string;
  role: 'admin' | 'reseller' | 'customer';
  iat: number;
  exp: number;
  nonce: string;
}

/**
 * Verifies an SSO token the way the app must: "<payload>.<sig>", base64url without padding,
 * sig = HMAC-SHA256(secret, payload string), claims v=1, role known, 0 < exp-iat <= 60, not expired,
 * nonce 32 hex chars. Throws with the reason when anything is off.
 */
export function verifySsoToken(token: string, secret: string, nowSec = Math.floor(Date.now() / 1000)): SsoClaims {
  const parts = token.split('.');
  if (parts.length !== 2) throw new Error('token must have exactly two parts');
  const [payload, sig] = parts as [string, string];
  const b64url = /^[A-Za-z0-9_-]+$/;
  if (!b64url.test(payload) || !b64url.test(sig)) throw new Error('token parts must be base64url without padding');
  const expected = createHmac('sha256', Buffer.from(secret, 'utf8')).update(payload, 'utf8').digest();
  const given = Buffer.from(sig, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new Error('bad signature');
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Partial<SsoClaims>;
  if (claims.v !== 1) throw new Error('v must be 1');
  if (typeof claims.user !== 'string' || claims.user !== claims.user.toLowerCase() || claims.user === '') {
    throw new Error('user must be a lowercase name');
  }
  if (!['admin', 'reseller', 'customer'].includes(claims.role as string)) throw new Error('unknown role');
  if (!Number.isInteger(claims.iat) || !Number.isInteger(claims.exp)) throw new Error('iat/exp must be integers');
  const iat = claims.iat as number;
  const exp = claims.exp as number;
  if (exp - iat <= 0 || exp - iat > 60) throw new Error('exp - iat must be within 60 s');
  if (exp < nowSec) throw new Error('expired');
  if (iat > nowSec + 5) throw new Error('issued in the future');
  if (typeof claims.nonce !== 'string' || !/^[0-9a-f]{32}$/.test(claims.nonce)) throw new Error('nonce must be 32 hex chars');
  return claims as SsoClaims;
}

/** The token of a shim's redirect, after checking the Location shape. */
export function tokenFromLocation(location: string, appUrl: string): string {
  const prefix = `${appUrl}/sso?token=`;
  if (!location.startsWith(prefix)) throw new Error(`Location ${location} does not start with ${prefix}`);
  if (!location.endsWith('&embedded=1')) throw new Error(`Location ${location} lacks &embedded=1`);
  return location.slice(prefix.length, -'&embedded=1'.length);
}
