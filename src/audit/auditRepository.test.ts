import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { toNumber } from '../db/dialect';
import { ForbiddenError } from '../lib/errors';
import { FixedClock } from '../lib/clock';
import { genesisHash } from '../lib/hashChain';
import { systemActor } from '../tenancy/actor';
import { testEpoch } from '../testing/factories';
import { engines, migratedTestDb, type TestDb } from '../testing/testDb';
import { auditRepository, type NewAuditEntry } from './auditRepository';
import { AuditService } from './auditService';

describe.each(engines)('audit log on %s', (engine) => {
  let t: TestDb;
  let clock = new FixedClock(testEpoch);
  const append = (entry: Partial<NewAuditEntry> & { action: string }) =>
    t.db.transaction((trx) => auditRepository.append(trx, { actorUserId: null, actorLogin: 'system', ...entry }, clock.now()));
  const seqs = (entries: Array<{ seq: number }>) => entries.map((e) => e.seq);

  beforeAll(async () => {
    t = await migratedTestDb(engine);
  });
  afterAll(async () => {
    await t?.cleanup();
  });
  // Every test starts from an empty log: the tamper tests leave broken chains behind.
  beforeEach(async () => {
    await t.db('audit_log').delete();
    clock = new FixedClock(testEpoch);
  });

  it('numbers entries 1, 2, 3 and links each to the one before it from the genesis hash', async () => {
    expect(await auditRepository.verify(t.db)).toEqual({ checked: 0, firstBreak: null, last: null });
    await append({ action: 'user.create', actorUserId: 7, actorLogin: 'admin', subjectType: 'user', subjectId: 9, data: { login: 'bob', role: 'reseller', note: 'ünïcødé 😀' }, ip: '192.0.2.1' });
    clock.advance(1500);
    await append({ action: 'server.add', data: { b: 2, a: [1, { z: true, y: null }] } });
    await append({ action: 'test.plain' });
    const rows = (await t.db('audit_log').orderBy('seq')) as Array<Record<string, unknown>>;
    expect(rows.map((r) => toNumber(r.seq))).toEqual([1, 2, 3]);
    expect(rows[0]!.prev_hash).toBe(genesisHash);
    expect(rows[1]!.prev_hash).toBe(rows[0]!.hash);
    expect(rows[2]!.prev_hash).toBe(rows[1]!.hash);
    expect(rows[1]!.data, 'data is stored as canonical JSON').toBe('{"a":[1,{"y":null,"z":true}],"b":2}');
    const result = await auditRepository.verify(t.db);
    expect(result).toEqual({ checked: 3, firstBreak: null, last: { seq: 3, hash: rows[2]!.hash } });

    const [third, second, first] = await auditRepository.recent(t.db, 3);
    expect(first).toMatchObject({ seq: 1, actorUserId: 7, actorLogin: 'admin', action: 'user.create', subjectType: 'user', subjectId: '9', ip: '192.0.2.1', prevHash: genesisHash });
    expect(first!.data).toEqual({ login: 'bob', role: 'reseller', note: 'ünïcødé 😀' });
    expect(first!.at.toISOString()).toBe(testEpoch.toISOString());
    expect(second!.at.getTime() - testEpoch.getTime()).toBe(1500);
    expect(third).toMatchObject({ action: 'test.plain', subjectType: null, subjectId: null, data: null, ip: null });
  });

  it('verifies in batches and finds a break in a later batch', async () => {
    for (let i = 1; i <= 7; i++) await append({ action: `test.batch.${i}` });
    expect(await auditRepository.verify(t.db, 2)).toMatchObject({ checked: 7, firstBreak: null, last: { seq: 7 } });
    await t.db('audit_log').where('seq', 6).update({ action: 'test.batch.forged' });
    expect(await auditRepository.verify(t.db, 2)).toMatchObject({ checked: 6, firstBreak: { seq: 6, reason: "hash does not match the entry's contents" }, last: { seq: 5 } });
  });

  it('names the first altered entry: changed data, a changed time, a rewritten hash, a changed prev_hash', async () => {
    for (let i = 1; i <= 5; i++) await append({ action: 'charge.approve', subjectType: 'charge', subjectId: i, data: { amountCents: 300000 } });
    const original = (await t.db('audit_log').where('seq', 3).first()) as Record<string, unknown>;
    const restore = () => t.db('audit_log').where('seq', 3).update({ data: original.data, at: original.at, hash: original.hash, prev_hash: original.prev_hash });

    await t.db('audit_log').where('seq', 3).update({ data: '{"amountCents":1}' });
    expect((await auditRepository.verify(t.db)).firstBreak).toEqual({ seq: 3, reason: "hash does not match the entry's contents" });
    await restore();
    await t.db('audit_log').where('seq', 3).update({ at: '2026-11-27 09:00:00.000' });
    expect((await auditRepository.verify(t.db)).firstBreak?.seq).toBe(3);
    await restore();
    // A forger who recomputes the entry's own hash still breaks the link of the entry after it.
    await t.db('audit_log').where('seq', 3).update({ hash: 'f'.repeat(64) });
    expect((await auditRepository.verify(t.db)).firstBreak).toEqual({ seq: 3, reason: "hash does not match the entry's contents" });
    await restore();
    await t.db('audit_log').where('seq', 3).update({ prev_hash: 'e'.repeat(64) });
    expect((await auditRepository.verify(t.db)).firstBreak).toEqual({ seq: 3, reason: "prev_hash does not match the previous entry's hash" });
    await restore();
    expect((await auditRepository.verify(t.db)).firstBreak).toBeNull();

    const checked = await auditRepository.check(t.db, 3);
    expect(checked).toMatchObject({ hashMatches: true, linkMatches: true, entry: { seq: 3, subjectId: '3' } });
    await t.db('audit_log').where('seq', 3).update({ data: '{"amountCents":1}' });
    expect(await auditRepository.check(t.db, 3)).toMatchObject({ hashMatches: false, linkMatches: true });
    expect(await auditRepository.check(t.db, 99)).toBeNull();
  });

  it('names the entry after a deleted one, and the first entry when the oldest are deleted', async () => {
    for (let i = 1; i <= 5; i++) await append({ action: `test.delete.${i}` });
    await t.db('audit_log').where('seq', 3).delete();
    expect(await auditRepository.verify(t.db)).toMatchObject({ checked: 3, firstBreak: { seq: 4, reason: 'sequence gap: expected seq 3, found seq 4: entry 3 was deleted or renumbered' }, last: { seq: 2 } });
    expect(await auditRepository.check(t.db, 4)).toMatchObject({ hashMatches: true, linkMatches: false });
    await t.db('audit_log').whereIn('seq', [1, 2]).delete();
    expect((await auditRepository.verify(t.db)).firstBreak).toEqual({ seq: 4, reason: 'sequence gap: expected seq 1, found seq 4: entries 1-3 were deleted or renumbered' });
  });

  it('keeps one gapless chain when audited transactions run concurrently, some of them rolling back', async () => {
    await append({ action: 'test.first' });
    const results = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) =>
        t.db.transaction(async (trx) => {
          await auditRepository.append(trx, { actorUserId: null, actorLogin: 'system', action: `test.concurrent.${i}` }, clock.now());
          // Every third one fails after its entry was written: the entry must go, and leave no hole in seq.
          if (i % 3 === 2) throw new Error(`rolled back ${i}`);
        }),
      ),
    );
    expect(results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason))).toEqual(['Error: rolled back 2', 'Error: rolled back 5', 'Error: rolled back 8', 'Error: rolled back 11']);
    await append({ action: 'test.last' });
    const actions = ((await t.db('audit_log').orderBy('seq').select('seq', 'action')) as Array<{ seq: unknown; action: string }>);
    expect(actions.map((r) => toNumber(r.seq))).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
    expect(actions.filter((r) => r.action.startsWith('test.concurrent.'))).toHaveLength(8);
    expect(await auditRepository.verify(t.db)).toMatchObject({ checked: 10, firstBreak: null });
  });

  describe('list', () => {
    beforeEach(async () => {
      // 1..4 on the 28th, 5..7 on the 29th, 8 on the 30th.
      await append({ action: 'user.login', actorUserId: 1, actorLogin: 'admin', subjectType: 'user', subjectId: 1, ip: '192.0.2.1' });
      await append({ action: 'user.login_failed', actorUserId: 2, actorLogin: 'resa', subjectType: 'user', subjectId: 2 });
      await append({ action: 'user_x.odd', actorLogin: 'admin' });
      await append({ action: 'api_token.create', actorUserId: 1, actorLogin: 'admin', subjectType: 'api_token', subjectId: 10 });
      clock.advance(24 * 3600_000);
      await append({ action: 'charge.approve', actorUserId: 1, actorLogin: 'admin', subjectType: 'charge', subjectId: 10 });
      await append({ action: 'charge.waive', actorUserId: 1, actorLogin: 'admin', subjectType: 'charge', subjectId: 11 });
      await append({ action: 'server.add', subjectType: 'server', subjectId: 3 });
      clock.advance(24 * 3600_000);
      await append({ action: 'user.login', actorUserId: 2, actorLogin: 'resa', subjectType: 'user', subjectId: 2 });
    });
    const list = (filters: Parameters<typeof auditRepository.list>[1], limit = 50, cursor?: string) => auditRepository.list(t.db, filters, { limit, cursor });

    it('filters by action prefix (wildcards literal), actor, subject and time, newest first with a total', async () => {
      expect(seqs((await list({})).items)).toEqual([8, 7, 6, 5, 4, 3, 2, 1]);
      expect(await list({ action: 'user.' })).toMatchObject({ total: 3, nextCursor: null });
      expect(seqs((await list({ action: 'user.' })).items)).toEqual([8, 2, 1]);
      expect(seqs((await list({ action: 'user.login' })).items), 'a prefix: login and login_failed').toEqual([8, 2, 1]);
      expect(seqs((await list({ action: 'user_' })).items), '_ is not a wildcard').toEqual([3]);
      expect(seqs((await list({ action: 'charge.approve' })).items)).toEqual([5]);
      expect(seqs((await list({ actor: 'resa' })).items)).toEqual([8, 2]);
      expect(seqs((await list({ actor: 'system' })).items)).toEqual([7]);
      expect(seqs((await list({ subjectType: 'charge' })).items)).toEqual([6, 5]);
      expect(seqs((await list({ subjectType: 'api_token', subjectId: '10' })).items)).toEqual([4]);
      expect(seqs((await list({ subjectId: '10' })).items)).toEqual([5, 4]);
      const day = (d: number) => new Date(testEpoch.getTime() + d * 24 * 3600_000);
      expect(seqs((await list({ from: day(1) })).items)).toEqual([8, 7, 6, 5]);
      expect(seqs((await list({ from: day(1), to: day(2) })).items), 'to is exclusive').toEqual([7, 6, 5]);
      expect(seqs((await list({ to: testEpoch })).items)).toEqual([]);
      expect(seqs((await list({ actor: 'admin', from: day(1), action: 'charge.' })).items)).toEqual([6, 5]);
      expect(await list({ actor: 'nobody' })).toEqual({ items: [], nextCursor: null, total: 0 });
    });

    it('pages by seq with an opaque cursor that keeps the filters', async () => {
      const first = await list({ actor: 'admin' }, 2);
      expect(seqs(first.items)).toEqual([6, 5]);
      expect(first.total).toBe(5);
      const second = await list({ actor: 'admin' }, 2, first.nextCursor!);
      expect(seqs(second.items)).toEqual([4, 3]);
      const third = await list({ actor: 'admin' }, 2, second.nextCursor!);
      expect(seqs(third.items)).toEqual([1]);
      expect(third.nextCursor).toBeNull();
      // Entries appended while paging appear on the first page, never in the middle.
      await append({ action: 'user.login', actorLogin: 'admin' });
      expect(seqs((await list({ actor: 'admin' }, 2, first.nextCursor!)).items)).toEqual([4, 3]);
    });

    it('exports every matching entry in batches, newest first', async () => {
      const batches: number[][] = [];
      for await (const batch of auditRepository.batches(t.db, { action: 'user' }, 2)) batches.push(seqs(batch));
      expect(batches).toEqual([[8, 3], [2, 1]]);
      const all: number[] = [];
      for await (const batch of auditRepository.batches(t.db, {}, 3)) all.push(...seqs(batch));
      expect(all).toEqual([8, 7, 6, 5, 4, 3, 2, 1]);
    });

    it('lists the actions and subject types recorded, for the filter suggestions', async () => {
      expect(await auditRepository.vocabulary(t.db)).toEqual({
        actions: ['api_token.create', 'charge.approve', 'charge.waive', 'server.add', 'user.login', 'user.login_failed', 'user_x.odd'],
        subjectTypes: ['api_token', 'charge', 'server', 'user'],
      });
    });
  });

  it('has the indexes the filters use (who, when, action, subject)', async () => {
    const names =
      engine === 'sqlite'
        ? ((await t.db.raw("pragma index_list('audit_log')")) as Array<{ name: string }>).map((i) => i.name)
        : ((await t.db.raw("select distinct index_name as name from information_schema.statistics where table_schema = database() and table_name = 'audit_log'")) as [Array<{ name: string }>])[0].map((i) => i.name);
    expect(names).toEqual(expect.arrayContaining(['audit_log_actor_login_index', 'audit_log_at_index', 'audit_log_action_index', 'audit_log_subject_type_subject_id_index']));
  });

  it('lets only admins read the log through the service', async () => {
    await append({ action: 'test.one' });
    const audit = new AuditService(t.db);
    expect((await audit.verify(systemActor)).checked).toBe(1);
    for (const role of ['reseller', 'customer'] as const) {
      const actor = { userId: 5, login: 'someone', role, accountId: 3 };
      await expect(audit.list(actor, {}, { limit: 10 })).rejects.toBeInstanceOf(ForbiddenError);
      await expect(audit.verify(actor)).rejects.toBeInstanceOf(ForbiddenError);
      await expect(audit.entry(actor, 1)).rejects.toBeInstanceOf(ForbiddenError);
      expect(() => audit.batches(actor, {})).toThrow(ForbiddenError);
    }
  });
});
