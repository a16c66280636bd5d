/**
 * Runs one simulated WHM server until SIGINT/SIGTERM (`npm run panel:sim`).
 *
 * Environment:
 *   PANEL_SEED        seed file (JSON, see seedSchema.ts); default: the built-in demo seed
 *   PANEL_SIM_SERVER  which server of the seed (default: the first)
 *   PANEL_SIM_HOST    listen address (default 127.0.0.1)
 *   PANEL_SIM_PORT    port (default 3087)
 *   PANEL_SIM_USER    WHM user of the token (default root)
 *   PANEL_SIM_TOKEN   API token clients must send (default: a random one, printed)
 *   PANEL_SIM_LATENCY_MS  delay before every answer (default 0)
 */
import crypto from 'node:crypto';
import { buildDemoSeed } from './demoSeed';
import { loadSeed, type SeedFile } from './seedSchema';
import { startSimulatedWhm } from './server';

/** A token in WHM's style: 32 characters, upper-case letters and digits. */
function randomToken(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  return Array.from(crypto.randomBytes(32), (b) => alphabet[b % alphabet.length]).join('');
}

function intFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got ${JSON.stringify(raw)}`);
  return n;
}

async function main(): Promise<void> {
  const seedPath = process.env.PANEL_SEED;
  const seed: SeedFile = seedPath ? loadSeed(seedPath) : buildDemoSeed();
  const token = process.env.PANEL_SIM_TOKEN || randomToken();
  const user = process.env.PANEL_SIM_USER || 'root';
  const sim = await startSimulatedWhm({
    seed,
    server: process.env.PANEL_SIM_SERVER || undefined,
    token,
    user,
    host: process.env.PANEL_SIM_HOST || '127.0.0.1',
    port: intFromEnv('PANEL_SIM_PORT', 3087),
    knobs: { latencyMs: intFromEnv('PANEL_SIM_LATENCY_MS', 0) },
  });
  const accounts = sim.state.allAccounts().length;
  process.stdout.write(
    [
      `Simulated WHM for ${sim.serverName} (${accounts} accounts, seed: ${seedPath ?? 'built-in demo seed'})`,
      `  URL:   ${sim.url}`,
      `  user:  ${user}`,
      `  token: ${token}`,
      `  try:   curl -H 'Authorization: whm ${user}:${token}' '${sim.url}/json-api/listaccts?api.version=1'`,
      '',
    ].join('\n'),
  );
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`${signal}: stopping the simulated WHM\n`);
    sim.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
