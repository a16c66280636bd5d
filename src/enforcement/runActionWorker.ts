import { loadConfig } from '../config/load';
import { createDb } from '../db/knex';
import { systemClock } from '../lib/clock';
import { logger, setLogLevel } from '../lib/logger';
import { PanelRegistry } from '../panel/panelRegistry';
import { PanelActionWorker } from './actionWorker';
import { ProviderHooks } from './providerHooks';

/**
 * Runs the panel-action worker against the configured database until nothing is due, then exits:
 *
 *   DATABASE_URL=… npx tsx src/enforcement/runActionWorker.ts
 *
 * The restart test runs it as a child process and kills it (SIGKILL) while a panel call is in flight.
 * ACTION_LEASE_MS shortens the claim (default 5 minutes) so the test need not wait that long.
 */
const config = loadConfig();
setLogLevel(config.logLevel);
const db = createDb(config.database);
const worker = new PanelActionWorker(
  { db, clock: systemClock, panels: new PanelRegistry({ timeoutMs: config.panelTimeoutMs }), providers: new ProviderHooks(config.serverSuspension) },
  { leaseMs: process.env.ACTION_LEASE_MS ? Number(process.env.ACTION_LEASE_MS) : undefined },
);
try {
  const round = await worker.runDue();
  process.stdout.write(`done ${round.done} retrying ${round.retrying} failed ${round.failed}\n`);
} catch (err) {
  logger.error('panel action worker failed', { error: String(err) });
  process.exitCode = 1;
} finally {
  await db.destroy();
}
