import fs from 'node:fs/promises';
import { CsfRunner, csfComment, type CsfRunResult } from './csfRunner';
import { FirewallError, type FirewallAdapter } from './firewall';

/**
 * csf exits 0 for most refusals and says so on stdout ("deny failed: … is in the allow file"), so
 * its output is read, not only its exit code. These lines mean it did not do what was asked.
 */
const refused = [/\bfailed\b/i, /is not a valid IP/i, /\*Error\*/, /^Error\b/im, /set as "do not delete"/i, /No IP specified/i, /have been disabled/i, /unresolved error/i];
/** Already in the wanted state: success. */
const alreadyTemp = /is already temporarily blocked/i;
const alreadyPermanent = /is already permanently blocked|is in already in the deny file|already in the deny file/i;

const outputOf = (r: CsfRunResult) => `${r.stdout}${r.stderr ? `\n${r.stderr}` : ''}`.trim();

function check(command: string, r: CsfRunResult, ...tolerated: RegExp[]): string {
  const out = outputOf(r);
  const lines = out.split('\n').filter((line) => !tolerated.some((t) => t.test(line)));
  const bad = lines.find((line) => refused.some((p) => p.test(line)));
  if (bad) throw new FirewallError(`csf ${command} refused: ${bad.trim()}`, out);
  return out;
}

/** The TESTING flag of csf.conf: `TESTING = "1"` (quotes optional, spaces free, comments ignored). */
export function parseCsfTesting(conf: string): boolean | null {
  const match = /^[ \t]*TESTING[ \t]*=[ \t]*"?[ \t]*(\d+)[ \t]*"?[ \t]*(?:#.*)?$/m.exec(conf);
  return match ? match[1] !== '0' : null;
}

/**
 * CSF (ConfigServer Security & Firewall) on the machine the app runs on, through the csf command:
 *   temporary  csf -td <address> <ttl seconds> <comment>   (removed with csf -tr <address>)
 *   permanent  csf -d <address> <comment>                  (removed with csf -dr <address>)
 * Changing an existing temporary block (a new TTL) is -tr then -td: csf refuses a second -td.
 */
export class CsfFirewall implements FirewallAdapter {
  readonly name = 'csf';

  constructor(
    private readonly runner: CsfRunner,
    private readonly confPath: string,
  ) {}

  async block(request: { address: string; expiry: { permanent: true } | { permanent: false; ttlSeconds: number }; comment: string }): Promise<string> {
    const comment = csfComment(request.comment);
    const { address, expiry } = request;
    if (expiry.permanent) {
      return check(`-d ${address}`, await this.runner.run('-d', [address, comment]), alreadyPermanent);
    }
    const ttl = String(Math.round(expiry.ttlSeconds));
    const first = await this.runner.run('-td', [address, ttl, comment]);
    const firstOut = check(`-td ${address}`, first, alreadyPermanent);
    if (!alreadyTemp.test(firstOut)) return firstOut;
    // A temporary block with another TTL is in place: replace it so the firewall ends when the block list does.
    const removed = check(`-tr ${address}`, await this.runner.run('-tr', [address]));
    const again = check(`-td ${address}`, await this.runner.run('-td', [address, ttl, comment]), alreadyPermanent);
    if (alreadyTemp.test(again)) throw new FirewallError(`csf -td ${address} still reports an existing temporary block after -tr`, `${removed}\n${again}`);
    return `${firstOut}\n${removed}\n${again}`;
  }

  async unblock(request: { address: string; permanent: boolean }): Promise<string> {
    const { address } = request;
    const outputs: string[] = [];
    if (request.permanent) outputs.push(check(`-dr ${address}`, await this.runner.run('-dr', [address])));
    // A permanent block may have started as a temporary one (repeat offender, or lfd's own block): clear that too.
    outputs.push(check(`-tr ${address}`, await this.runner.run('-tr', [address])));
    return outputs.join('\n');
  }

  async testingMode(): Promise<boolean | null> {
    try {
      return parseCsfTesting(await fs.readFile(this.confPath, 'utf8'));
    } catch {
      return null;
    }
  }
}
