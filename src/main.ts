import type { Server } from 'node:http';
import { createApp } from './app';
import { ConfigError, loadConfig } from './config/load';
import { buildContainer } from './container';
import { createDb } from './db/knex';
import { migrateLatest } from './db/migrator';
import { startEmbeddedPanel } from './demo/embeddedPanel';
import { ensureDemoData } from './demo/seed';
import { startScheduler } from './jobs/scheduler';
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
  const container = buildContainer({ config, db, clock: systemClock, sessionSecret: resolveSessionSecret(config.sessionSecret, config.dataDir) });
  if (config.whm) {
    const { serverName, url, user, token, caPem, fingerprint } = config.whm;
    await container.servers.register(serverName, { url, user, token, caPem, fingerprint, source: 'env' });
  }
  const embeddedPanel = config.panelSimulated ? await startEmbeddedPanel(container.servers) : null;
  // The simulator answers at once, so wait for it; real servers sync in the background.
  const firstSync = container.accountSync.syncAll('startup').then((results) => {
    for (const r of results) if (r.status === 'failed') logger.warn('startup sync failed', { server: r.server, error: r.error });
  });
  if (embeddedPanel) await firstSync;
  const demo = config.demoData ? await ensureDemoData(db, systemClock, { dataDir: config.dataDir, demoPassword: config.demoPassword }) : null;
  // The embedded default shows postmaster@ verdicts at once instead of after the first nightly sweep.
  if (embeddedPanel) void container.postmasterSweep('startup', { jitter: false }).catch((err) => logger.warn('startup postmaster sweep failed', { error: String(err) }));
  const scheduler = startScheduler([
    { name: 'account-sync', schedule: config.syncSchedule, run: () => container.accountSync.syncAll('schedule') },
    { name: 'optin-expiry', schedule: '*/15 * * * *', run: () => container.optInExpiry('schedule') },
    { name: 'complaints-housekeeping', schedule: '*/15 * * * *', run: () => container.complaintHousekeeping('schedule') },
    { name: 'postmaster-sweep', schedule: config.postmaster.schedule, run: () => container.postmasterSweep('schedule') },
    { name: 'postmaster-housekeeping', schedule: '*/10 * * * *', run: () => container.postmasterHousekeeping('schedule') },
    { name: 'ip-blocks', schedule: config.blocks.schedule, run: () => container.blockMaintenance('schedule') },
    // Every minute, but a run is recorded only when notices are due (no row per idle minute).
    { name: 'notice-delivery', schedule: '* * * * *', run: async () => ((await container.noticeSender.hasDue()) ? container.noticeDelivery('schedule') : null) },
  ]);
  // CSV imports run in the background; one left running by a crashed process is resumed once its heartbeat is stale.
  container.importWorker.start();
  // Panel actions queued by decisions (and any left by a crashed process) are carried out in the background.
  container.actionLoop.start();
  const app = createApp(container);
  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(config.port, config.host, () => resolve(s));
    s.on('error', reject);
  });
  const pruneTimer = setInterval(() => void container.sessionStore.prune().catch((err) => logger.warn('session prune failed', { error: String(err) })), 3600_000);
  pruneTimer.unref();

  const url = config.baseUrl ?? `http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${config.port}`;
  const lines = [`Anti-spam policy plugin is running at ${url}/`, `Database: ${config.database.client === 'sqlite' ? config.database.filename : 'MySQL/MariaDB'}`];
  if (embeddedPanel) lines.push(`Panel: ${embeddedPanel.servers.length} simulated WHM servers (${embeddedPanel.servers.map((s) => s.url).join(', ')}), demo fleet synced.`);
  if (demo) {
    lines.push(demo.seeded ? 'Demo logins created for the accounts synced from the simulated WHM servers.' : 'Demo logins already present.');
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
    scheduler.stop();
    void container.importWorker.stop();
    void container.actionLoop.stop();
    container.mailer.close();
    // A running import stops at its next batch boundary and is handed back, so the next start resumes it at once.
    server.close(() => void container.importWorker.stop().then(() => embeddedPanel?.close()).then(() => db.destroy()).then(() => process.exit(0)));
    setTimeout(() => process.exit(1), 10_000).unref();
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((err) => {
  process.stderr.write(`Failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
