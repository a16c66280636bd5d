/**
 * Postmaster sweep at fleet scale: 10,000 domains (5 servers × 400 accounts × 5 domains) on simulated
 * WHM servers with 25 ms latency and 1% HTTP 500s, each server's domains probed over real SMTP (one
 * smtp-server per server on its own loopback address, MX answers from a real DNS server).
 *
 * Prints the sweep's wall time and its ratio to the floor (target ≤ 1.3):
 *   floor = panel calls × latency ÷ allowed concurrency  +  probe time ÷ probe concurrency
 * where panel calls are the calls the sweep made, allowed concurrency is 4 requests per server, and
 * the probe term is measured: the probe layer alone probing the same domains at its limits (one
 * session per MX host, 5 hosts), i.e. probe time already divided by its concurrency.
 * And the speed-up over checking the domains one by one (a sample checked with `checkDomain`,
 * scaled), target ≥ 20×. Not a timed test: run it, read the ratios.
 *
 *   npx tsx bench/postmaster-sweep.ts [accountsPerServer=400]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { migrateLatest } from '../src/db/migrator';
import { JobRunner } from '../src/jobs/jobRunner';
import { systemClock } from '../src/lib/clock';
import { setLogLevel } from '../src/lib/logger';
import { buildPanelServices } from '../src/panel/panelServices';
import type { SeedFileInput } from '../src/panel/simulated/seedSchema';
import { startSimulatedWhm, type SimulatedWhm } from '../src/panel/simulated/server';
import { PostmasterCheckService } from '../src/postmaster/checkService';
import { ProbeService } from '../src/postmaster/probe/probeService';
import { startSmtpFleet } from '../src/postmaster/probe/testing/probeSmtpServers';
import { runPostmasterSweep } from '../src/postmaster/sweep';
import { startDnsServer, type DnsZone } from '../src/testing/dnsServer';
import { onEachEngine } from './support';

const accountsPerServer = Number(process.argv[2] ?? 400);
const serverCount = 5;
const latencyMs = 25;
const perServerConcurrency = 4; // the WHM client's default
const sampleSize = 40; // domains checked one by one for the speed-up
setLogLevel('silent');

const mxIp = (s: number) => `127.0.0.${60 + s}`;
const mxHost = (s: number) => `mx.pm${s}.bench.test`;

function seed(): SeedFileInput {
  return {
    version: 1,
    servers: Array.from({ length: serverCount }, (_, s) => ({
      name: `pm${s}.bench.test`,
      kind: 'shared' as const,
      resellers: [],
      accounts: Array.from({ length: accountsPerServer }, (_, i) => {
        const user = `s${s}u${i}`;
        const domains = Array.from({ length: 4 }, (_, k) => ({ name: `d${k}.${user}.test`, type: 'addon' as const }));
        const all = [`${user}.test`, ...domains.map((d) => d.name)];
        return {
          user,
          domain: `${user}.test`,
          email: `owner@${user}.test`,
          domains,
          // Mixed routes: mailboxes, forwarders, a catch-all, and some with nothing (missing).
          mailboxes: all.filter((_, k) => k % 5 === 0).map((d) => `postmaster@${d}`),
          forwarders: all.filter((_, k) => k % 5 === 1).map((d) => ({ from: `postmaster@${d}`, to: `owner@${user}.test` })),
          defaultAddresses: all.filter((_, k) => k % 5 === 2).map((d) => ({ domain: d, to: user })),
          mx: all.map((d) => ({ domain: d, host: d, priority: 0 })),
        };
      }),
    })),
  };
}

const fleet = seed();
const zone: DnsZone = {};
fleet.servers.forEach((server, s) => {
  zone[mxHost(s)] = { A: [mxIp(s)] };
  for (const a of server.accounts) for (const d of [a.domain, ...(a.domains ?? []).map((x) => x.name)]) zone[d] = { MX: [{ preference: 10, exchange: mxHost(s) }] };
});
const dns = await startDnsServer(zone);
const smtp = await startSmtpFleet(Object.fromEntries(fleet.servers.map((_, s) => [mxIp(s), {}])));
const sims: SimulatedWhm[] = [];
for (const server of fleet.servers) sims.push(await startSimulatedWhm({ seed: fleet, server: server.name, token: 'bench-token' }));
const totalDomains = fleet.servers.length * accountsPerServer * 5;
console.log(`${totalDomains} domains on ${serverCount} servers (${accountsPerServer} accounts each), ${latencyMs} ms latency, 1% HTTP 500s; probes over SMTP to ${serverCount} MX hosts`);

try {
  await onEachEngine('postmaster-sweep', async (label, db) => {
    await migrateLatest(db);
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-pm-'));
    try {
      const panel = buildPanelServices({ db, clock: systemClock, dataDir });
      for (const [s, sim] of sims.entries()) {
        sim.knobs.latencyMs = 0;
        sim.knobs.errorRate = 0;
        await panel.servers.register(fleet.servers[s]!.name, { url: sim.url, user: 'root', token: 'bench-token', source: 'simulated' });
      }
      await panel.accountSync.syncAll('manual');
      const probeOptions = { dnsServers: [dns.address], port: smtp.port, heloName: 'bench.example.test', globalConcurrency: 10 };
      const prober = new ProbeService({ db, clock: systemClock }, probeOptions);
      const checks = new PostmasterCheckService({ db, clock: systemClock, panels: panel.panels, proberFor: () => prober });
      for (const sim of sims) {
        sim.knobs.latencyMs = latencyMs;
        sim.knobs.errorRate = 0.01;
        sim.resetCounters();
      }

      const start = performance.now();
      const run = await runPostmasterSweep({ db, jobs: new JobRunner(db, systemClock), checks }, 'manual', { jitter: false });
      const sweepMs = performance.now() - start;
      if (!run.ran) throw new Error('the sweep did not run');
      const panelCalls = sims.reduce((n, sim) => n + sim.totalCalls(), 0);
      const probed = Number((await db('postmaster_checks').whereNot('smtp_result', 'not_probed').count({ n: '*' }).first())?.n ?? 0);

      // Probe time: the probe layer alone over the same domains (fresh, no cache), at its own limits
      // (one session per MX host); the sweep overlaps it with the panel reads, so it may beat the sum.
      const probedDomains = (await db('postmaster_checks').whereNot('smtp_result', 'not_probed').pluck('domain')) as string[];
      const alone = new ProbeService({ db, clock: systemClock }, probeOptions);
      const probeStart = performance.now();
      await alone.probeDomains(probedDomains, { force: true });
      const probeMs = performance.now() - probeStart;
      const panelFloorMs = (panelCalls * latencyMs) / (serverCount * perServerConcurrency);
      const floorMs = panelFloorMs + probeMs;
      const sample = probedDomains.slice(0, sampleSize);

      // One by one: the same check for single domains (panel read + probe each), scaled to all domains.
      const oneStart = performance.now();
      for (const d of sample) await checks.checkDomain(d, 'manual');
      const oneByOneMs = ((performance.now() - oneStart) / sample.length) * totalDomains;

      const counts = run.run.counts ?? {};
      console.log(
        `${label.padEnd(14)} sweep ${(sweepMs / 1000).toFixed(1)} s (${panelCalls} panel calls, ${probed} probed; ok ${counts.ok}, missing ${counts.missing}, unknown ${counts.unknown})  floor ${(floorMs / 1000).toFixed(1)} s (panel ${(panelFloorMs / 1000).toFixed(1)} + probes ${(probeMs / 1000).toFixed(1)})  ratio ${(sweepMs / floorMs).toFixed(2)} (target ≤ 1.3)  one by one ≈ ${(oneByOneMs / 1000).toFixed(0)} s  speed-up ${(oneByOneMs / sweepMs).toFixed(0)}× (target ≥ 20×)`,
      );
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
} finally {
  await Promise.all(sims.map((s) => s.close()));
  await smtp.close();
  await dns.close();
}
