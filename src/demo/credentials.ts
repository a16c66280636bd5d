import fs from 'node:fs';
import path from 'node:path';

export interface DemoLogin {
  login: string;
  role: string;
  password: string;
}

/** Demo logins kept beside the demo database (mode 0600) so a restart can print them again. */
export function demoLoginsFile(dataDir: string): string {
  return path.join(dataDir, 'demo-logins.tsv');
}

export function writeDemoLogins(dataDir: string, logins: DemoLogin[]): void {
  fs.mkdirSync(dataDir, { recursive: true });
  const text = ['# login\trole\tpassword', ...logins.map((l) => `${l.login}\t${l.role}\t${l.password}`)].join('\n') + '\n';
  fs.writeFileSync(demoLoginsFile(dataDir), text, { mode: 0o600 });
}

export function readDemoLogins(dataDir: string): DemoLogin[] {
  let text: string;
  try {
    text = fs.readFileSync(demoLoginsFile(dataDir), 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const [login = '', role = '', password = ''] = line.split('\t');
      return { login, role, password };
    });
}
