import fs from 'node:fs';
import path from 'node:path';

/**
 * WHM API tokens of CLI-configured servers live in files under DATA_DIR/whm-tokens (mode 0600),
 * never in the database; the servers row keeps only a reference ("file:<path>").
 */
export function saveServerToken(dataDir: string, serverName: string, token: string): string {
  const dir = path.join(dataDir, 'whm-tokens');
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, `${serverName.replace(/[^a-z0-9.-]/gi, '_')}.token`);
  fs.writeFileSync(file, `${token.trim()}\n`, { mode: 0o600 });
  return `file:${file}`;
}

export function readServerToken(tokenRef: string): string {
  if (!tokenRef.startsWith('file:')) throw new Error(`Unknown token reference "${tokenRef}"`);
  const file = tokenRef.slice('file:'.length);
  let token: string;
  try {
    token = fs.readFileSync(file, 'utf8').trim();
  } catch {
    throw new Error(`The WHM API token file ${file} cannot be read; add the server again with --token-file`);
  }
  if (!token) throw new Error(`The WHM API token file ${file} is empty`);
  return token;
}

export function removeServerToken(tokenRef: string | null): void {
  if (tokenRef?.startsWith('file:')) fs.rmSync(tokenRef.slice('file:'.length), { force: true });
}
