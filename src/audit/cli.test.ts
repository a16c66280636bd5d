import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FixedClock } from '../lib/clock';
import { testEpoch } from '../testing/factories';
import { runCli } from '../testing/cliRunner';
import { engines, migratedTestDb, type TestDb } from '../testing/testDb';
import { auditRepository } from './auditRepository';

/** `npm run cli -- audit verify`, spawned as an operator runs it, against a log tampered with raw SQL. */
describe.each(engines)('audit verify (CLI) on %s', { timeout: 60_000 }, (engine) => {
  let t: TestDb;
  const verify = () => runCli(['audit', 'verify'], { DATABASE_URL: t.config.client === 'sqlite' ? `sqlite:${t.config.filename}` : t.config.url });

  beforeAll(async () => {
    t = await migratedTestDb(engine);
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  it('says so on an empty log, and on an intact one prints the count and the newest entry', async () => {
    const empty = await verify();
    expect(empty.code, empty.stderr).toBe(0);
    expect(empty.stdout).toBe('checked 0 entries\naudit chain intact\n');

    const clock = new FixedClock(testEpoch);
    for (let n = 1; n <= 6; n++) {
      await t.db.transaction((trx) => auditRepository.append(trx, { actorUserId: 1, actorLogin: 'admin', action: 'charge.approve', subjectType: 'charge', subjectId: n, data: { amountCents: 300000 } }, clock.now()));
    }
    const newest = (await t.db('audit_log').where('seq', 6).first()) as { hash: string };
    const intact = await verify();
    expect(intact.code, intact.stderr).toBe(0);
    expect(intact.stdout).toBe(`checked 6 entries\naudit chain intact\nnewest entry: seq 6, hash ${newest.hash}\n`);
  });

  it('names the entry whose data was changed with a raw UPDATE, and exits 1', async () => {
    const original = (await t.db('audit_log').where('seq', 4).first()) as { data: string };
    await t.db('audit_log').where('seq', 4).update({ data: '{"amountCents":100}' });
    try {
      const res = await verify();
      expect(res.code, res.stderr).toBe(1);
      expect(res.stdout).toContain('checked 4 entries\n');
      expect(res.stdout).toContain("BROKEN\tfirst altered entry: seq 4: hash does not match the entry's contents\n");
      expect(res.stdout).toMatch(/^last intact entry: seq 3, hash [0-9a-f]{64}$/m);
      expect(res.stdout).not.toContain('intact\n');
    } finally {
      await t.db('audit_log').where('seq', 4).update({ data: original.data });
    }
    expect((await verify()).code).toBe(0);
  });

  it('names the entry after a deleted row, and exits 1', async () => {
    const row = (await t.db('audit_log').where('seq', 2).first()) as Record<string, unknown>;
    await t.db('audit_log').where('seq', 2).delete();
    try {
      const res = await verify();
      expect(res.code, res.stderr).toBe(1);
      expect(res.stdout).toContain('checked 2 entries\n');
      expect(res.stdout).toContain('BROKEN\tfirst altered entry: seq 3: sequence gap: expected seq 2, found seq 3: entry 2 was deleted or renumbered\n');
    } finally {
      await t.db('audit_log').insert(row);
    }
    expect((await verify()).code).toBe(0);
  });
});
