import { loadConfig } from '../../config/load';
import { createDb } from '../../db/knex';
import { systemClock } from '../../lib/clock';
import { logger, setLogLevel } from '../../lib/logger';
import { ImportWorker } from './importWorker';

/**
 * Runs the CSV import worker against the configured database until no import is waiting, then exits:
 *
 *   DATABASE_URL=… npx tsx src/consent/import/runImportWorker.ts
 *
 * The restart test runs it as a child process and kills it (SIGKILL) in the middle of an import.
 * IMPORT_BATCH_SIZE sets the rows per batch; IMPORT_BATCH_DELAY_MS waits after each committed batch
 * (tests use it so the kill lands between two batches of a small file); each committed batch prints
 * "batch <status> <linesDone>" on stdout.
 */
const config = loadConfig();
setLogLevel(config.logLevel);
const db = createDb(config.database);
const delayMs = Number(process.env.IMPORT_BATCH_DELAY_MS ?? 0);
const worker = new ImportWorker({
  db,
  clock: systemClock,
  batchSize: Number(process.env.IMPORT_BATCH_SIZE ?? 2000),
  staleAfterMs: Number(process.env.IMPORT_STALE_AFTER_MS ?? 60_000),
  afterBatch: async (p) => {
    process.stdout.write(`batch ${p.status} ${p.linesDone}\n`);
    if (delayMs) await new Promise((resolve) => setTimeout(resolve, delayMs));
  },
});
try {
  await worker.drain();
} catch (err) {
  logger.error('import worker failed', { error: String(err) });
  process.exitCode = 1;
} finally {
  await db.destroy();
}
