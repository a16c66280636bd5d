/**
 * Account sync at fleet scale: 10,000 accounts on 3 simulated WHM servers with 20 ms latency.
 * Prints the time of a first sync (everything new) and of a steady-state sync (nothing changed),
 * each as a ratio to the network floor measured by the rule:
 *   floor = panel calls needed × latency ÷ allowed concurrency
 * Not a timed test: run it, read the ratios.
 *
 *   npx tsx bench/panel-sync.ts [accounts=10000] [latencyMs=20]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createDb } from '../src/db/knex';
import { migrateLatest } from '../src/db/migrator';
import { systemClock } from '../src/lib/clock';
import { buildPanelServices } from '../src/panel/panelServices';
import type { SeedFileInput } from '../src/panel/simulated/seedSchema';
import { startSimulatedWhm, type SimulatedWhm } from '../src/panel/simulated/server';

const totalAccounts = Number(process.argv[2] ?? 10_000);
const latencyMs = Number(process.argv[3] ?? 20);
const serverCount = 3;
const callsPerServer = 3; // listresellers, listaccts, get_domain_info
const concurrencyPerServer = 4; // the WHM client's default

function seed(): SeedFileInput {
  const perServer = Math.ceil(totalAccounts / serverCount);
  return {
    version: 1,
    servers: Array.from({ length: serverCount }, (_, s) => {
      const resellers = Array.from({ length: 10 }, (_, r) => `s${s}res${r}`);
      const accounts = [
        ...resellers.map((user) => ({ user, domain: `${user}.example`, plan: 'reseller', email: `owner@${user}.example` })),
        ...Array.from({ length: perServer - resellers.length }, (_, i) => {
          const user = `s${s}u${i}`;
          return { user, domain: `${user}.example`, owner: resellers[i % resellers.length]!, plan: 'starter', email: `owner@${user}.example`, domains: [{ name: `blog.${user}.example`, type: 'sub' as const }] };
        }),
      ];
      return { name: `bench${s}.example`, kind: 'shared' as const, resellers, accounts };
    }),
  };
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-sync-'));
const db = createDb({ client: 'sqlite', filename: path.join(dir, 'bench.sqlite') });
await migrateLatest(db);
const panel = buildPanelServices({ db, clock: systemClock, dataDir: dir });
const fleet = seed();
const sims: SimulatedWhm[] = [];
for (const server of fleet.servers) {
  const sim = await startSimulatedWhm({ seed: fleet, server: server.name, token: 'bench-token', knobs: { latencyMs } });
  sims.push(sim);
  await panel.servers.register(server.name, { url: sim.url, user: 'root', token: 'bench-token', source: 'simulated' });
}

const floorMs = (serverCount * callsPerServer * latencyMs) / (serverCount * concurrencyPerServer);
async function timed(label: string): Promise<void> {
  const start = performance.now();
  const results = await panel.accountSync.syncAll('manual');
  const ms = performance.now() - start;
  const failed = results.filter((r) => r.status !== 'ok');
  if (failed.length) throw new Error(`sync failed: ${JSON.stringify(failed)}`);
  const calls = sims.reduce((n, sim) => n + sim.totalCalls(), 0);
  sims.forEach((sim) => sim.resetCounters());
  console.log(`${label.padEnd(28)} ${ms.toFixed(0).padStart(6)} ms  ${calls} panel calls  ratio to floor ${(ms / floorMs).toFixed(1)} (target ≤ 1.5)`);
}

console.log(`${totalAccounts} accounts on ${serverCount} servers, ${latencyMs} ms latency; floor = ${serverCount * callsPerServer} calls × ${latencyMs} ms ÷ ${serverCount * concurrencyPerServer} = ${floorMs.toFixed(1)} ms`);
await timed('first sync (all new)');
await timed('steady state (no change)');
await Promise.all(sims.map((sim) => sim.close()));
await db.destroy();
fs.rmSync(dir, { recursive: true, force: true });
