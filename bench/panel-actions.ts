/**
 * The enforcement outbox at scale: 1,000 panel actions (one per account) carried out against a
 * simulated WHM server with 20 ms latency, on SQLite and (with TEST_MYSQL_URL) MariaDB. Prints the
 * time and the ratio to the floor measured by the rule:
 *   floor = actions × latency ÷ allowed concurrency (the WHM client's requests in flight per server)
 * Not a timed test: run it, read the ratio (target ≤ 1.5).
 *
 *   npx tsx bench/panel-actions.ts [actions=1000] [latencyMs=20]
 */
import { performance } from 'node:perf_hooks';
import { migrateLatest } from '../src/db/migrator';
import { toNumber } from '../src/db/dialect';
import { panelActionRepository } from '../src/enforcement/panelActionRepository';
import { setLogLevel } from '../src/lib/logger';
import { startEnforcementRig } from '../src/testing/enforcementRig';
import { onEachEngine } from './support';

const actions = Number(process.argv[2] ?? 1000);
const latencyMs = Number(process.argv[3] ?? 20);
const concurrency = 4; // the WHM client's default requests in flight per server
const floorMs = (actions * latencyMs) / concurrency;
setLogLevel('warn');

console.log(`${actions} actions on 1 server, ${latencyMs} ms latency, ${concurrency} requests in flight; floor = ${actions} × ${latencyMs} ms ÷ ${concurrency} = ${floorMs.toFixed(0)} ms`);
await onEachEngine('panel-actions', async (label, db) => {
  await migrateLatest(db);
  const rig = await startEnforcementRig(db, { accounts: actions, worker: { batchSize: 64 } });
  try {
    const accounts = (await db('accounts').where('username', 'like', 'c%').select('id', 'server_id', 'username')) as Array<{ id: unknown; server_id: unknown; username: string }>;
    const now = new Date();
    await db.transaction(async (trx) => {
      for (const a of accounts) {
        await panelActionRepository.enqueue(trx, { key: `bench:${a.username}`, kind: 'hold_outgoing_email', serverId: toNumber(a.server_id), accountId: toNumber(a.id), username: a.username, reason: 'bench', origin: 'admin', requestedBy: 'bench', needsApproval: false, maxAttempts: 8 }, now);
      }
    });
    rig.sim.knobs.latencyMs = latencyMs;
    const start = performance.now();
    const round = await rig.worker.runDue();
    const ms = performance.now() - start;
    const applied = rig.sim.applied.filter((c) => c.fn === 'hold_outgoing_email').length;
    if (round.done !== accounts.length || applied !== accounts.length) throw new Error(`expected ${accounts.length} actions done once each; got ${JSON.stringify(round)}, ${applied} applied`);
    console.log(`${label.padEnd(14)} ${ms.toFixed(0).padStart(6)} ms  ${round.done} done, ${rig.sim.stats.maxInFlight} max in flight  ratio to floor ${(ms / floorMs).toFixed(2)} (target ≤ 1.5)`);
  } finally {
    await rig.close();
  }
});
