import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { toNumber } from '../db/dialect';
import { setLogLevel } from '../lib/logger';
import { systemActor } from '../tenancy/actor';
import { drainOutbox, setEnforcementSettings, startEnforcementRig, type EnforcementRig } from '../testing/enforcementRig';
import { engines, migratedTestDb, type TestDb } from '../testing/testDb';
import { panelActionRepository } from './panelActionRepository';

/**
 * The outbox end to end on both engines: decisions queue actions in their transaction, the worker
 * applies them through a simulated WHM server over HTTP that fails and times out on purpose, and in
 * the end every action is applied exactly once (the simulator's own log of applied calls says so).
 */

async function accountId(db: TestDb['db'], username: string): Promise<number> {
  const row = (await db('accounts').where('username', username).first('id')) as { id: unknown };
  return toNumber(row.id);
}

function appliedCount(rig: EnforcementRig, fn: string, user: string): number {
  return rig.sim.applied.filter((a) => a.fn === fn && a.user === user).length;
}

describe.each(engines)('panel action outbox on %s', (engine) => {
  let t: TestDb;
  let rig: EnforcementRig;
  beforeAll(async () => {
    setLogLevel('silent');
    t = await migratedTestDb(engine);
  });
  afterAll(async () => {
    await t?.cleanup();
  });
  afterEach(async () => {
    await rig?.close();
  });

  describe('with a healthy panel', () => {
    beforeEach(async () => {
      await t.db('notices').del();
      await t.db('panel_actions').del();
      await t.db('strikes').del();
      await t.db('accounts').update({ strikes: 0 });
      rig = await startEnforcementRig(t.db, { accounts: 3 });
      await setEnforcementSettings(t.db, {});
    });

    it('a first strike suspends mail and account with a warning notice; a second proposes termination', async () => {
      const c1 = await accountId(t.db, 'c1');
      await rig.enforcement.addManualStrike(systemActor, c1, 'Spam run seen in the mail log');
      const queued = await t.db('panel_actions').where('account_id', c1).orderBy('id');
      expect(queued.map((a) => [a.kind, a.status, a.origin])).toEqual([
        ['suspend_outgoing_email', 'pending', 'ladder'],
        ['suspend_account', 'pending', 'ladder'],
      ]);
      expect((await t.db('notices').where('account_id', c1)).map((n) => n.kind)).toEqual(['warning']);
      // Nothing reached the panel yet: the decision only wrote the outbox.
      expect(rig.sim.applied).toEqual([]);

      await drainOutbox(t.db, rig.worker);
      expect(rig.sim.state.account('c1')?.suspended).toBe(true);
      expect(rig.sim.state.account('c1')?.outgoingMailSuspended).toBe(true);
      // By default only the provider can lift a ladder suspension (WHM disallowun=1).
      expect(rig.sim.state.account('c1')?.suspendLocked).toBe(true);
      const local = await t.db('accounts').where('id', c1).first();
      expect([local.status, local.outgoing_mail]).toEqual(['suspended', 'suspended']);
      const audit = await t.db('audit_log').where('subject_id', String(c1)).whereIn('action', ['panel.suspend_account', 'panel.suspend_outgoing_email', 'enforcement.ladder']).pluck('action');
      expect(audit.sort()).toEqual(['enforcement.ladder', 'panel.suspend_account', 'panel.suspend_outgoing_email']);

      await rig.enforcement.addManualStrike(systemActor, c1, 'Second spam run');
      const terminate = await t.db('panel_actions').where('account_id', c1).where('kind', 'terminate_account').first();
      expect(terminate.status).toBe('awaiting_approval');
      expect((await t.db('notices').where('account_id', c1).orderBy('id')).map((n) => n.kind)).toEqual(['warning', 'termination_pending']);
      await drainOutbox(t.db, rig.worker);
      // Awaiting approval: the worker leaves it alone.
      expect(rig.sim.state.account('c1')).toBeDefined();
      expect(appliedCount(rig, 'removeacct', 'c1')).toBe(0);
    });

    it('warns the reseller once when its customers reach the threshold', async () => {
      await setEnforcementSettings(t.db, { resellerWarnAt: 2 });
      const r1 = await accountId(t.db, 'r1');
      await rig.enforcement.addManualStrike(systemActor, await accountId(t.db, 'c1'), 'Spam from c1');
      expect(await t.db('notices').where({ account_id: r1, kind: 'reseller_warning' })).toHaveLength(0);
      await rig.enforcement.addManualStrike(systemActor, await accountId(t.db, 'c2'), 'Spam from c2');
      await rig.enforcement.addManualStrike(systemActor, await accountId(t.db, 'c3'), 'Spam from c3');
      const warnings = await t.db('notices').where({ account_id: r1, kind: 'reseller_warning' });
      expect(warnings).toHaveLength(1);
      expect(String(warnings[0].reason)).toContain('2 strikes within 30 days');
    });

    it('terminates only after an admin approves with the username typed', async () => {
      const c2 = await accountId(t.db, 'c2');
      await rig.enforcement.addManualStrike(systemActor, c2, 'first');
      await rig.enforcement.addManualStrike(systemActor, c2, 'second');
      const action = await t.db('panel_actions').where('account_id', c2).where('kind', 'terminate_account').first();
      await expect(rig.enforcement.approve(systemActor, toNumber(action.id), 'c1')).rejects.toThrow(/type "c2"/);
      await rig.enforcement.approve(systemActor, toNumber(action.id), 'C2');
      await drainOutbox(t.db, rig.worker);
      expect(rig.sim.state.account('c2')).toBeUndefined();
      expect(appliedCount(rig, 'removeacct', 'c2')).toBe(1);
      expect((await t.db('accounts').where('id', c2).first()).status).toBe('terminated');
      expect((await t.db('notices').where('account_id', c2).orderBy('id')).map((n) => n.kind)).toEqual(['warning', 'termination_pending', 'terminated']);
      expect(await t.db('audit_log').where('action', 'enforcement.approve').where('subject_id', String(c2)).count({ n: '*' }).first()).toMatchObject({ n: expect.anything() });
    });

    it('an admin action needs a reason, destructive ones the typed username; cancel stops a waiting action', async () => {
      const c3 = await accountId(t.db, 'c3');
      await expect(rig.enforcement.requestAccountAction(systemActor, c3, { kind: 'hold_outgoing_email', reason: '' })).rejects.toThrow(/reason/);
      await expect(rig.enforcement.requestAccountAction(systemActor, c3, { kind: 'terminate_account', reason: 'abuse' })).rejects.toThrow(/type the username "c3"/);
      await expect(rig.enforcement.requestAccountAction(systemActor, c3, { kind: 'format_disk', reason: 'abuse' })).rejects.toThrow(/kind/);
      const hold = await rig.enforcement.requestAccountAction(systemActor, c3, { kind: 'hold_outgoing_email', reason: 'Queue full of spam' });
      expect(hold.status).toBe('pending');
      await rig.enforcement.cancel(systemActor, hold.id, 'Customer cleaned up first');
      await drainOutbox(t.db, rig.worker);
      expect(appliedCount(rig, 'hold_outgoing_email', 'c3')).toBe(0);
      await expect(rig.enforcement.cancel(systemActor, hold.id, 'again')).rejects.toThrow(/cancelled/);
    });

    it('a refusal fails at once for an admin to retry; the retry then succeeds', async () => {
      const c3 = await accountId(t.db, 'c3');
      rig.sim.knobs.failFunctions.add('suspend_outgoing_email');
      const action = await rig.enforcement.requestAccountAction(systemActor, c3, { kind: 'suspend_outgoing_email', reason: 'Spam' });
      await drainOutbox(t.db, rig.worker);
      const failed = await panelActionRepository.find(t.db, action.id);
      expect(failed?.status).toBe('failed');
      expect(failed?.attempts).toBe(1);
      expect(failed?.lastError).toContain('Simulated failure');
      rig.sim.knobs.failFunctions.delete('suspend_outgoing_email');
      await rig.enforcement.retry(systemActor, action.id);
      await drainOutbox(t.db, rig.worker);
      expect((await panelActionRepository.find(t.db, action.id))?.status).toBe('done');
      expect(appliedCount(rig, 'suspend_outgoing_email', 'c3')).toBe(1);
    });
  });

  it('with 30% of calls failing and some timing out, every action is applied exactly once', async () => {
    await t.db('panel_actions').del();
    rig = await startEnforcementRig(t.db, { accounts: 40, timeoutMs: 250, knobs: { errorRate: 0.3, timeoutRate: 0.05, lostAnswerRate: 0.1 } });
    await setEnforcementSettings(t.db, { maxAttempts: 40, resellerWarnAt: 0 });
    const customers = Array.from({ length: 40 }, (_, i) => `c${i + 1}`);
    for (const user of customers) {
      const id = await accountId(t.db, user);
      await t.db('accounts').where('id', id).update({ status: 'active', outgoing_mail: 'active', strikes: 0 });
      await rig.enforcement.addManualStrike(systemActor, id, `Spam from ${user}`);
    }
    await drainOutbox(t.db, rig.worker, 120_000);
    const actions = await t.db('panel_actions').whereIn('username', customers);
    expect(actions).toHaveLength(80);
    expect(actions.every((a) => a.status === 'done')).toBe(true);
    for (const user of customers) {
      expect(appliedCount(rig, 'suspendacct', user), `suspendacct ${user}`).toBe(1);
      expect(appliedCount(rig, 'suspend_outgoing_email', user), `suspend_outgoing_email ${user}`).toBe(1);
      expect(rig.sim.state.account(user)?.suspended).toBe(true);
    }
    // The faults really happened: some actions needed more than one attempt, some found their effect already applied.
    expect(actions.some((a) => toNumber(a.attempts) > 1)).toBe(true);
    expect(actions.some((a) => String(a.result).startsWith('already applied'))).toBe(true);
  }, 180_000);
});
