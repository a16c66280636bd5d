import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { toNumber } from '../db/dialect';
import { setLogLevel } from '../lib/logger';
import { saveServerToken } from '../panel/tokenStore';
import { systemActor } from '../tenancy/actor';
import { drainOutbox, harnessServer, startEnforcementRig, type EnforcementRig } from '../testing/enforcementRig';
import { engines, migratedTestDb, type TestDb } from '../testing/testDb';
import { panelActionRepository } from './panelActionRepository';

/**
 * A worker process killed with SIGKILL while its panel call is in flight (the call still reaches the
 * panel and is applied there): after the claim runs out, a new worker reads the panel's state, finds
 * the action applied and records it as done without sending it again.
 */
describe.each(engines)('panel action worker killed mid-call on %s', { timeout: 120_000 }, (engine) => {
  let t: TestDb;
  let rig: EnforcementRig;
  let child: ChildProcess | null = null;
  beforeAll(async () => {
    setLogLevel('silent');
    t = await migratedTestDb(engine);
  });
  afterEach(async () => {
    child?.kill('SIGKILL');
    await rig?.close();
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  it('resumes after the restart and applies the action exactly once', async () => {
    rig = await startEnforcementRig(t.db, { accounts: 2 });
    // The child process reads the token from a file, as servers added with the CLI do.
    await t.db('servers').where('name', harnessServer).update({ token_ref: saveServerToken(rig.dataDir, harnessServer, 'enforce-token') });
    const c1 = toNumber((await t.db('accounts').where('username', 'c1').first('id')).id);
    const action = await rig.enforcement.requestAccountAction(systemActor, c1, { kind: 'suspend_account', reason: 'Spam run' });
    rig.sim.knobs.latencyMs = 1500;

    const databaseUrl = t.config.client === 'sqlite' ? `sqlite:${t.config.filename}` : t.config.url;
    // node with tsx's loader, not the tsx CLI: SIGKILL on the CLI would leave its node child running.
    child = spawn(process.execPath, ['--import', 'tsx', 'src/enforcement/runActionWorker.ts'], {
      cwd: process.cwd(),
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? os.tmpdir(), DATABASE_URL: databaseUrl, DATA_DIR: rig.dataDir, LOG_LEVEL: 'silent', ACTION_LEASE_MS: '1000', PANEL_SIMULATED: 'off', DEMO_DATA: 'off' },
      stdio: 'ignore',
    });
    const until = Date.now() + 30_000;
    while (rig.sim.callCount('suspendacct') === 0) {
      if (Date.now() > until) throw new Error('the child never called suspendacct');
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill('SIGKILL');
    // The call was already on its way: the panel applies it after its latency.
    while (!rig.sim.applied.some((a) => a.fn === 'suspendacct')) await new Promise((r) => setTimeout(r, 50));
    expect((await panelActionRepository.find(t.db, action.id))?.status).toBe('running');

    rig.sim.knobs.latencyMs = 0;
    await new Promise((r) => setTimeout(r, 1100)); // the dead worker's claim runs out
    await drainOutbox(t.db, rig.worker);
    const done = await panelActionRepository.find(t.db, action.id);
    expect(done?.status).toBe('done');
    expect(done?.result).toMatch(/^already applied/);
    expect(rig.sim.applied.filter((a) => a.fn === 'suspendacct')).toEqual([{ fn: 'suspendacct', user: 'c1' }]);
  });
});
