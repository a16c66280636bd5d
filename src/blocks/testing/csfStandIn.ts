import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * A stand-in for the csf command in tests: a real executable (POSIX sh) that appends its argv to
 * a log, keeps the temporary and permanent deny lists in files, and answers like csf does (exit 0
 * with "already blocked" / "not found" messages on stdout). Switches make it refuse on stdout the
 * way csf does, fail with an exit code, or hang. It writes only under its own temporary directory.
 */
export class CsfStandIn {
  readonly dir: string;
  readonly path: string;
  readonly confPath: string;

  private constructor() {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'antispam-csf-'));
    this.path = path.join(this.dir, 'csf');
    this.confPath = path.join(this.dir, 'csf.conf');
    const s = this.dir;
    // Arguments are separated by the ASCII unit separator (\037) so spaces inside one stay visible.
    const script = `#!/bin/sh
{ for a in "$@"; do printf '%s\\037' "$a"; done; printf '\\n'; } >> '${s}/calls.log'
if [ -f '${s}/hang' ]; then exec sleep 10; fi
if [ -f '${s}/fail-always' ]; then cat '${s}/fail-always' >&2; exit 1; fi
if [ -f '${s}/fail' ]; then cat '${s}/fail' >&2; rm -f '${s}/fail'; exit 1; fi
if [ -f '${s}/stdout' ]; then cat '${s}/stdout'; rm -f '${s}/stdout'; exit 0; fi
touch '${s}/temp' '${s}/deny'
ip="$2"
if [ -f '${s}/allow' ] && grep -Fqx "$ip" '${s}/allow' && { [ "$1" = -td ] || [ "$1" = -d ]; }; then echo "deny failed: [$ip] is in the allow file /etc/csf/csf.allow"; exit 0; fi
case "$1" in
  -td)
    if grep -Fqx "$ip" '${s}/deny'; then echo "csf: $ip is already permanently blocked"
    elif grep -Fqx "$ip" '${s}/temp'; then echo "csf: $ip is already temporarily blocked"
    else echo "$ip" >> '${s}/temp'; echo "csf: $ip blocked on port * for $3 seconds inbound"; fi ;;
  -d)
    if grep -Fqx "$ip" '${s}/deny'; then echo "deny failed: $ip is in already in the deny file /etc/csf/csf.deny 1 times"
    else echo "$ip" >> '${s}/deny'; echo "Adding $ip to csf.deny and iptables DROP..."; fi ;;
  -tr)
    if grep -Fqx "$ip" '${s}/temp'; then grep -Fvx "$ip" '${s}/temp' > '${s}/temp.new'; mv '${s}/temp.new' '${s}/temp'; echo "csf: $ip temporary block removed"
    else echo "csf: $ip not found in temporary bans"; fi ;;
  -dr)
    if grep -Fqx "$ip" '${s}/deny'; then grep -Fvx "$ip" '${s}/deny' > '${s}/deny.new'; mv '${s}/deny.new' '${s}/deny'; echo "Removing rule..."
    else echo "csf: $ip not found in csf.deny"; fi ;;
  *) echo "csf: unknown command $1"; exit 1 ;;
esac
`;
    fs.writeFileSync(this.path, script, { mode: 0o755 });
    this.setTesting('0');
  }

  static create(): CsfStandIn {
    return new CsfStandIn();
  }

  /** Every invocation's argv (without the program), oldest first. */
  calls(): string[][] {
    const file = path.join(this.dir, 'calls.log');
    if (!fs.existsSync(file)) return [];
    return fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => line.split('\u001f').slice(0, -1));
  }

  clearCalls(): void {
    fs.rmSync(path.join(this.dir, 'calls.log'), { force: true });
  }

  /** The next run exits 1 with this on stderr. */
  failNext(stderr: string): void {
    fs.writeFileSync(path.join(this.dir, 'fail'), stderr);
  }

  /** Every run exits 1 with this on stderr until called with null. */
  failAlways(stderr: string | null): void {
    const file = path.join(this.dir, 'fail-always');
    if (stderr === null) fs.rmSync(file, { force: true });
    else fs.writeFileSync(file, stderr);
  }

  /** Puts an address in (true) or takes it out of (false) the stand-in's csf.allow: csf then refuses to block it. */
  allow(address: string, on: boolean): void {
    const file = path.join(this.dir, 'allow');
    const rest = this.list('allow').filter((a) => a !== address);
    fs.writeFileSync(file, [...rest, ...(on ? [address] : [])].map((a) => `${a}\n`).join(''));
  }

  /** The next run exits 0 printing this (csf's way of refusing). */
  answerNext(stdout: string): void {
    fs.writeFileSync(path.join(this.dir, 'stdout'), stdout);
  }

  hang(on: boolean): void {
    const file = path.join(this.dir, 'hang');
    if (on) fs.writeFileSync(file, '');
    else fs.rmSync(file, { force: true });
  }

  temp(): string[] {
    return this.list('temp');
  }

  deny(): string[] {
    return this.list('deny');
  }

  /** Writes csf.conf with TESTING = "<value>", or removes it (null: CSF not installed). */
  setTesting(value: '0' | '1' | null): void {
    if (value === null) fs.rmSync(this.confPath, { force: true });
    else fs.writeFileSync(this.confPath, `# csf.conf (stand-in)\nTESTING = "${value}"\nTESTING_INTERVAL = "5"\nBLOCK_REPORT = ""\n`);
  }

  cleanup(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  private list(name: string): string[] {
    const file = path.join(this.dir, name);
    return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
  }
}
