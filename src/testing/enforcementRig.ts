import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Knex } from 'knex';
import { systemClock, type Clock } from '../lib/clock';
import { buildPanelServices, type PanelServices } from '../panel/panelServices';
import type { SeedFileInput } from '../panel/simulated/seedSchema';
import { startSimulatedWhm, type SimKnobs, type SimulatedWhm } from '../panel/simulated/server';
import { systemActor } from '../tenancy/actor';
import { PanelActionWorker, type ActionWorkerOptions } from '../enforcement/actionWorker';
import { EnforcementService } from '../enforcement/enforcementService';
import { ProviderHooks, type ProviderHookConfig } from '../enforcement/providerHooks';
import { settingsRepository } from '../settings/settingsRepository';
import { enforcementSettingsKey } from '../enforcement/settingsStore';
import { defaultEnforcementSettings, type EnforcementSettings } from '../enforcement/settings';

export const harnessServer = 'enforce1.example.test';

/** One server with `count` customer accounts c1…cN under reseller r1, plus a dedicated-server owner. */
export function enforcementSeed(count: number): SeedFileInput {
  return {
    version: 1,
    servers: [
      {
        name: harnessServer,
        kind: 'shared',
        resellers: ['r1'],
        accounts: [
          { user: 'r1', domain: 'r1.test', plan: 'reseller', email: 'owner@r1.test' },
          ...Array.from({ length: count }, (_, i) => ({ user: `c${i + 1}`, domain: `c${i + 1}.test`, owner: 'r1', plan: 'starter', email: `owner@c${i + 1}.test` })),
        ],
      },
    ],
  };
}

export interface EnforcementRig {
  sim: SimulatedWhm;
  panel: PanelServices;
  enforcement: EnforcementService;
  worker: PanelActionWorker;
  dataDir: string;
  close(): Promise<void>;
}

/**
 * A simulated WHM server over real HTTP, registered and synced into `db`, with the enforcement
 * service and an outbox worker whose retries are quick (tests and the bench).
 */
export async function startEnforcementRig(
  db: Knex,
  opts: { accounts: number; knobs?: Partial<Omit<SimKnobs, 'failFunctions'>>; timeoutMs?: number; worker?: ActionWorkerOptions; providers?: ProviderHookConfig; clock?: Clock; maxConcurrency?: number },
): Promise<EnforcementRig> {
  const clock = opts.clock ?? systemClock;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'enforce-'));
  const sim = await startSimulatedWhm({ seed: enforcementSeed(opts.accounts), server: harnessServer, token: 'enforce-token' });
  const panel = buildPanelServices({ db, clock, dataDir, panel: { timeoutMs: opts.timeoutMs ?? 2000, maxConcurrency: opts.maxConcurrency } });
  await panel.servers.register(harnessServer, { url: sim.url, user: 'root', token: 'enforce-token', source: 'simulated' });
  const [sync] = await panel.accountSync.syncAll('manual');
  if (sync?.status !== 'ok') throw new Error(`sync failed: ${JSON.stringify(sync)}`);
  sim.resetCounters();
  Object.assign(sim.knobs, opts.knobs ?? {});
  const providers = new ProviderHooks(opts.providers ?? {});
  const worker = new PanelActionWorker({ db, clock, panels: panel.panels, providers }, { retry: { baseDelayMs: 5, maxDelayMs: 40 }, ...opts.worker });
  return {
    sim,
    panel,
    enforcement: new EnforcementService(db, clock, providers),
    worker,
    dataDir,
    close: async () => {
      await sim.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Stores enforcement settings directly (tests): defaults overridden by `patch`. */
export async function setEnforcementSettings(db: Knex, patch: Partial<EnforcementSettings>): Promise<void> {
  await settingsRepository.write(db, enforcementSettingsKey, { ...defaultEnforcementSettings, ...patch }, systemActor.login, new Date());
}

/** Runs the worker until no action is pending or running (retries come due quickly in the rig), or the deadline passes. */
export async function drainOutbox(db: Knex, worker: PanelActionWorker, deadlineMs = 60_000): Promise<void> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    await worker.runDue();
    const open = await db('panel_actions').whereIn('status', ['pending', 'running']).count({ n: '*' }).first();
    if (Number(open?.n ?? 0) === 0) return;
    if (Date.now() > until) throw new Error(`${String(open?.n)} actions still open after ${deadlineMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
