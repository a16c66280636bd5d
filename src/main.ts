import type { Server } from 'node:http';
import { createApp } from './app';
import { ConfigError, loadConfig } from './config/load';
import { buildContainer } from './container';
import { createDb } from './db/knex';
import { migrateLatest } from './db/migrator';
import { ensureDemoData } from './demo/seed';
import { resolveSessionSecret } from './http/session';
import { systemClock } from './lib/clock';
import { logger, setLogLevel } from './lib/logger';

/** Process entry: config → database → migrations → demo data → app → listen. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  setLogLevel(config.logLevel);
  const db = createDb(config.database);
  const applied = await migrateLatest(db);
  if (applied.length) logger.info('migrations applied', { applied });
  const demo = config.demoData ? await ensureDemoData(db, systemClock, { dataDir: config.dataDir, demoPassword: config.demoPassword }) : null;

  const container = buildContainer({ config, db, clock: systemClock, sessionSecret: resolveSessionSecret(config.sessionSecret, config.dataDir) });
  const app = createApp(container);
  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(config.port, config.host, () => resolve(s));
    s.on('error', reject);
  });
  const pruneTimer = setInterval(() => void container.sessionStore.prune().catch((err) => logger.warn('session prune failed', { error: String(err) })), 3600_000);
  pruneTimer.unref();

  const url = config.baseUrl ?? `http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${config.port}`;
  const lines = [`Anti-spam policy plugin is running at ${url}/`, `Database: ${config.database.client === 'sqlite' ? config.database.filename : 'MySQL/MariaDB'}`];
  if (demo) {
    lines.push(demo.seeded ? 'Demo data loaded (3 servers, 3 resellers, 30 customers).' : 'Demo data already present; nothing reloaded.');
    for (const role of ['admin', 'reseller', 'customer']) {
      const login = demo.logins.find((l) => l.role === role);
      if (login) lines.push(`  ${role.padEnd(9)} login: ${login.login.padEnd(12)} password: ${login.password}`);
    }
    lines.push(`Every demo login (customers sign in with their panel username): ${config.dataDir}/demo-logins.tsv`);
  }
  process.stdout.write(lines.join('\n') + '\n');

  const shutdown = (signal: string) => {
    logger.info('shutting down', { signal });
    clearInterval(pruneTimer);
    server.close(() => void db.destroy().then(() => process.exit(0)));
    setTimeout(() => process.exit(1), 10_000).unref();
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((err) => {
  process.stderr.write(`Failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
