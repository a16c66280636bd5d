import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { toNumber } from '../db/dialect';
import { setLogLevel } from '../lib/logger';
import { systemActor } from '../tenancy/actor';
import { drainOutbox, harnessServer, setEnforcementSettings, startEnforcementRig, type EnforcementRig } from '../testing/enforcementRig';
import { engines, migratedTestDb, type TestDb } from '../testing/testDb';

/**
 * Server suspension: the owner of a dedicated server collects strikes, a suspension is proposed and
 * waits for an admin; once approved it suspends every account on the server (each through the outbox),
 * or runs the provider's command, or calls its webhook — with the owner's notice and the audit trail.
 */
describe.each(engines)('server suspension on %s', { timeout: 60_000 }, (engine) => {
  let t: TestDb;
  let rig: EnforcementRig;
  beforeAll(async () => {
    setLogLevel('silent');
    t = await migratedTestDb(engine);
  });
  afterEach(async () => {
    await rig?.close();
    await t.db('notices').del();
    await t.db('panel_actions').del();
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  /** Makes the rig's server a dedicated one owned by c1, and gives c1 `strikes` strikes. */
  async function ownerWithStrikes(strikes: number, reason = 'from the dedicated server'): Promise<{ serverId: number; owner: number }> {
    const serverId = toNumber((await t.db('servers').where('name', harnessServer).first('id')).id);
    const owner = toNumber((await t.db('accounts').where({ server_id: serverId, username: 'c1' }).first('id')).id);
    await t.db('servers').where('id', serverId).update({ kind: 'dedicated', owner_account_id: owner });
    for (let i = 1; i <= strikes; i++) await rig.enforcement.addManualStrike(systemActor, owner, `Spam run ${i} ${reason}`);
    return { serverId, owner };
  }

  it('suspending every account: proposed at the threshold, applied only after approval, the owner notified', async () => {
    rig = await startEnforcementRig(t.db, { accounts: 3 });
    // Termination off the table, so only the server rung is tested.
    await setEnforcementSettings(t.db, { terminateAt: 10, serverSuspendAt: 2, resellerWarnAt: 0 });
    const { serverId, owner } = await ownerWithStrikes(2);
    const proposal = await t.db('panel_actions').where('server_id', serverId).where('kind', 'suspend_server').first();
    expect(proposal).toMatchObject({ status: 'awaiting_approval', origin: 'server_suspension', account_id: null });
    await drainOutbox(t.db, rig.worker);
    expect(rig.sim.state.account('c2')?.suspended).toBe(false);

    // A third strike does not propose it twice while one is open.
    await rig.enforcement.addManualStrike(systemActor, owner, 'Spam run 3');
    expect(await t.db('panel_actions').where('kind', 'suspend_server').count({ n: '*' }).first()).toMatchObject({ n: 1 });

    await expect(rig.enforcement.approve(systemActor, toNumber(proposal.id), 'c1')).rejects.toThrow(`type "${harnessServer}"`);
    await rig.enforcement.approve(systemActor, toNumber(proposal.id), harnessServer);
    await drainOutbox(t.db, rig.worker);
    for (const user of ['r1', 'c1', 'c2', 'c3']) expect(rig.sim.state.account(user)?.suspended, user).toBe(true);
    expect(rig.sim.applied.filter((a) => a.fn === 'suspendacct' && a.user === 'c2')).toHaveLength(1);
    expect((await t.db('notices').where('account_id', owner).pluck('kind')).filter((k) => k === 'server_suspension')).toHaveLength(1);
    expect(await t.db('audit_log').where('action', 'enforcement.approve').count({ n: '*' }).first()).toMatchObject({ n: 1 });
  });

  it('the provider command gets the server, the action id and the reason, without a shell', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'suspend-cmd-'));
    const log = path.join(dir, 'args.log');
    const command = path.join(dir, 'suspend-server');
    fs.writeFileSync(command, `#!/bin/sh\nfor a in "$@"; do printf '%s\\n' "$a" >> ${JSON.stringify(log)}; done\necho suspended\n`, { mode: 0o755 });
    try {
      rig = await startEnforcementRig(t.db, { accounts: 1, providers: { command } });
      await setEnforcementSettings(t.db, { terminateAt: 10, serverSuspendAt: 1, serverSuspensionMode: 'command', resellerWarnAt: 0 });
      // Shell syntax in the reason stays a literal argument.
      const pwned = path.join(dir, 'pwned');
      const { serverId } = await ownerWithStrikes(1, `$(touch ${pwned})`);
      const proposal = await t.db('panel_actions').where('server_id', serverId).where('kind', 'provider_command').first();
      await rig.enforcement.approve(systemActor, toNumber(proposal.id), harnessServer);
      await drainOutbox(t.db, rig.worker);
      const done = await t.db('panel_actions').where('id', proposal.id).first();
      expect(done).toMatchObject({ status: 'done', result: 'suspended' });
      const args = fs.readFileSync(log, 'utf8').trim().split('\n');
      expect(args.slice(0, 2)).toEqual([harnessServer, String(proposal.id)]);
      expect(args[2]).toContain(`Spam run 1 $(touch ${pwned})`);
      expect(fs.existsSync(pwned)).toBe(false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the provider webhook is called with an Idempotency-Key; a failure is retried', async () => {
    const received: Array<{ key: string | undefined; body: Record<string, unknown> }> = [];
    let failFirst = true;
    const hook = http.createServer((req, res) => {
      let data = '';
      req.on('data', (c: Buffer) => (data += c.toString()));
      req.on('end', () => {
        received.push({ key: req.headers['idempotency-key'] as string | undefined, body: JSON.parse(data) as Record<string, unknown> });
        res.statusCode = failFirst ? 503 : 202;
        failFirst = false;
        res.end('ok');
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    try {
      rig = await startEnforcementRig(t.db, { accounts: 1, providers: { webhookUrl: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/suspend` } });
      await setEnforcementSettings(t.db, { terminateAt: 10, serverSuspendAt: 1, serverSuspensionMode: 'webhook', resellerWarnAt: 0 });
      const { serverId } = await ownerWithStrikes(1);
      const proposal = await t.db('panel_actions').where('server_id', serverId).where('kind', 'provider_webhook').first();
      await rig.enforcement.approve(systemActor, toNumber(proposal.id), harnessServer);
      await drainOutbox(t.db, rig.worker);
      expect((await t.db('panel_actions').where('id', proposal.id).first()).status).toBe('done');
      expect(received).toHaveLength(2);
      expect(received[0]!.key).toBe(received[1]!.key);
      expect(received[1]!.body).toMatchObject({ event: 'server.suspend', server: harnessServer, actionId: toNumber(proposal.id) });
    } finally {
      await new Promise<void>((r) => hook.close(() => r()));
    }
  });
});
