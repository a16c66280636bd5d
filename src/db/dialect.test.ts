import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { time } from '../../migrations/helpers';
import { accountRepository } from '../tenancy/accountRepository';
import { systemActor } from '../tenancy/actor';
import { domainRepository } from '../tenancy/domainRepository';
import { serverRepository } from '../tenancy/serverRepository';
import { createAccount, createServer, testClock } from '../testing/factories';
import { engines, migratedTestDb, type TestDb } from '../testing/testDb';
import {
  engineOf,
  fromDbBool,
  fromDbJson,
  fromDbTime,
  fromDbTimeOrNull,
  insertedId,
  isMissingTable,
  isUniqueViolation,
  LIKE_ESCAPE,
  likePattern,
  toDbBool,
  toDbJson,
  toDbTime,
  toNumber,
} from './dialect';

async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected the statement to fail');
}

describe('dialect value helpers', () => {
  it('writes times as UTC text with milliseconds and reads them back', () => {
    const d = new Date('2026-03-29T01:30:45.678Z');
    expect(toDbTime(d)).toBe('2026-03-29 01:30:45.678');
    expect(fromDbTime('2026-03-29 01:30:45.678').getTime()).toBe(d.getTime());
    expect(fromDbTime('2026-03-29T01:30:45.678Z').getTime()).toBe(d.getTime());
    expect(fromDbTime(d.getTime()).getTime()).toBe(d.getTime());
    expect(fromDbTimeOrNull(null)).toBeNull();
    expect(() => fromDbTime({})).toThrow(TypeError);
  });

  it('maps booleans and JSON', () => {
    expect([toDbBool(true), toDbBool(false)]).toEqual([1, 0]);
    expect([1, true, '1', 'true'].map(fromDbBool)).toEqual([true, true, true, true]);
    expect([0, false, '0', null, undefined].map(fromDbBool)).toEqual([false, false, false, false, false]);
    expect(toDbJson(null)).toBeNull();
    expect(fromDbJson('')).toBeNull();
    expect(fromDbJson(Buffer.from('{"a":1}'))).toEqual({ a: 1 });
  });

});

describe.each(engines)('dialect on %s', (engine) => {
  let t: TestDb;
  beforeAll(async () => {
    t = await migratedTestDb(engine);
    await t.db.schema.createTable('dialect_probe', (tb) => {
      tb.increments('id');
      time(tb, 'at').notNullable();
      time(tb, 'maybe_at').nullable();
      tb.boolean('flag').notNullable();
      tb.text('doc').nullable();
    });
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  it('knows its engine', () => {
    expect(engineOf(t.db)).toBe(engine);
  });

  it('round-trips times through a real table with millisecond precision, in UTC', async () => {
    const instants = [
      new Date('2026-03-29T01:30:45.678Z'), // a European DST change night
      new Date('2026-12-31T23:59:59.999Z'),
      new Date('2027-01-01T00:00:00.001Z'),
    ];
    const ids: number[] = [];
    for (const at of instants) ids.push(insertedId(await t.db('dialect_probe').insert({ at: toDbTime(at), maybe_at: null, flag: 0 })));
    for (const [i, id] of ids.entries()) {
      const row = await t.db('dialect_probe').where({ id }).first();
      expect(row.at, 'the driver hands back the stored UTC text unchanged').toBe(toDbTime(instants[i]!));
      expect(fromDbTime(row.at).toISOString()).toBe(instants[i]!.toISOString());
      expect(fromDbTimeOrNull(row.maybe_at)).toBeNull();
    }
    // Comparisons happen in SQL at millisecond resolution on both engines.
    const later = await t.db('dialect_probe').where('at', '>', toDbTime(new Date('2026-12-31T23:59:59.998Z'))).orderBy('at').pluck('id');
    expect(later.map(toNumber)).toEqual([ids[1], ids[2]]);
    const exact = await t.db('dialect_probe').where('at', toDbTime(new Date('2027-01-01T00:00:00.001Z'))).pluck('id');
    expect(exact.map(toNumber)).toEqual([ids[2]]);
  });

  it('does not depend on the database session time zone', async () => {
    const at = new Date('2026-07-01T12:00:00.250Z');
    const id = insertedId(await t.db('dialect_probe').insert({ at: toDbTime(at), flag: 0 }));
    if (engine === 'mysql') {
      // A DATETIME is not shifted by the session zone; the app never relies on it anyway.
      await t.db.transaction(async (trx) => {
        await trx.raw("SET time_zone = '+05:00'");
        try {
          const row = await trx('dialect_probe').where({ id }).first();
          expect(fromDbTime(row.at).toISOString()).toBe(at.toISOString());
        } finally {
          await trx.raw("SET time_zone = '+00:00'");
        }
      });
    } else {
      const row = await t.db('dialect_probe').where({ id }).first();
      expect(fromDbTime(row.at).toISOString()).toBe(at.toISOString());
    }
  });

  it('stores booleans as 0/1 and filters by them', async () => {
    const yes = insertedId(await t.db('dialect_probe').insert({ at: toDbTime(new Date(0)), flag: toDbBool(true) }));
    const no = insertedId(await t.db('dialect_probe').insert({ at: toDbTime(new Date(0)), flag: toDbBool(false) }));
    const rows = await t.db('dialect_probe').whereIn('id', [yes, no]).orderBy('id');
    expect(rows.map((r) => fromDbBool(r.flag))).toEqual([true, false]);
    const trues = await t.db('dialect_probe').whereIn('id', [yes, no]).where('flag', toDbBool(true)).pluck('id');
    expect(trues.map(toNumber)).toEqual([yes]);
  });

  it('stores JSON as text, including 4-byte UTF-8, and parses it back', async () => {
    const doc = { name: 'Zoë ✉️ 😀', nested: [1, null, { ok: true }], quote: 'it\'s "quoted"' };
    const id = insertedId(await t.db('dialect_probe').insert({ at: toDbTime(new Date(0)), flag: 0, doc: toDbJson(doc) }));
    const empty = insertedId(await t.db('dialect_probe').insert({ at: toDbTime(new Date(0)), flag: 0, doc: toDbJson(null) }));
    const row = await t.db('dialect_probe').where({ id }).first();
    expect(typeof row.doc).toBe('string');
    expect(fromDbJson(row.doc)).toEqual(doc);
    expect(fromDbJson((await t.db('dialect_probe').where({ id: empty }).first()).doc)).toBeNull();
  });

  it('matches LIKE patterns literally: % _ and the escape character itself', async () => {
    const texts = ['a_b', 'axb', '50%', '500', 'hey!', 'x!_y', 'back\\slash', 'Mixed'];
    await t.db('dialect_probe').delete();
    await t.db('dialect_probe').insert(texts.map((doc) => ({ at: toDbTime(new Date(0)), flag: 0, doc })));
    const find = async (text: string) =>
      ((await t.db('dialect_probe').whereRaw(`doc like ? ${LIKE_ESCAPE}`, [likePattern(text)]).orderBy('id').pluck('doc')) as string[]);
    expect(await find('a_b')).toEqual(['a_b']);
    expect(await find('50%')).toEqual(['50%']);
    expect(await find('!')).toEqual(['hey!', 'x!_y']);
    expect(await find('!_')).toEqual(['x!_y']);
    expect(await find('\\')).toEqual(['back\\slash']);
    expect(await find('b')).toEqual(['a_b', 'axb', 'back\\slash']);
  });

  it('recognises a real duplicate-key error, and only that', async () => {
    await t.db('servers').insert({ name: 'dup.example.net', whm_url: 'https://x', created_at: toDbTime(new Date()), updated_at: toDbTime(new Date()) });
    const dup = await caught(
      t.db('servers').insert({ name: 'dup.example.net', whm_url: 'https://y', created_at: toDbTime(new Date()), updated_at: toDbTime(new Date()) }),
    );
    expect(isUniqueViolation(dup)).toBe(true);
    expect(isMissingTable(dup)).toBe(false);

    const pkDup = await caught(t.db('sessions').insert([{ sid: 'same', data: '{}', expires_at: toDbTime(new Date()) }, { sid: 'same', data: '{}', expires_at: toDbTime(new Date()) }]));
    expect(isUniqueViolation(pkDup)).toBe(true);

    const notNull = await caught(t.db('servers').insert({ name: null, whm_url: 'https://z', created_at: toDbTime(new Date()), updated_at: toDbTime(new Date()) }));
    expect(isUniqueViolation(notNull)).toBe(false);

    const badForeignKey = await caught(
      t.db('accounts').insert({ server_id: 999_999, username: 'orphan', created_at: toDbTime(new Date()), updated_at: toDbTime(new Date()) }),
    );
    expect(isUniqueViolation(badForeignKey)).toBe(false);
  });

  it('recognises a real missing-table error, and only that', async () => {
    const missing = await caught(t.db('no_such_table').select('*'));
    expect(isMissingTable(missing)).toBe(true);
    expect(isUniqueViolation(missing)).toBe(false);
    const badColumn = await caught(t.db('servers').select('no_such_column'));
    expect(isMissingTable(badColumn)).toBe(false);
  });

  it('normalises names so mixed-case duplicates collide on every engine', async () => {
    const clock = testClock();
    const serverId = await createServer(t.db, { name: 'Case.Example.NET', clock });
    expect((await serverRepository.findById(t.db, serverId))?.name).toBe('case.example.net');
    expect(isUniqueViolation(await caught(createServer(t.db, { name: 'CASE.example.net', clock })))).toBe(true);

    const accountId = await createAccount(t.db, { serverId, username: 'MixedCase', contactEmail: 'Owner@Example.COM', clock });
    const account = await accountRepository.findById(t.db, systemActor, accountId);
    expect(account?.username).toBe('mixedcase');
    expect(account?.contactEmail).toBe('owner@example.com');
    expect((await accountRepository.findByUsername(t.db, systemActor, 'MIXEDCASE'))?.id).toBe(accountId);
    expect(isUniqueViolation(await caught(createAccount(t.db, { serverId, username: 'mixedCASE', clock })))).toBe(true);

    const domainId = await domainRepository.insert(t.db, { accountId, name: 'Shop.Example.COM', type: 'main', mailHosted: true }, clock.now());
    expect((await domainRepository.findById(t.db, systemActor, domainId))?.name).toBe('shop.example.com');
    const again = await caught(domainRepository.insert(t.db, { accountId, name: 'SHOP.example.com', type: 'addon', mailHosted: true }, clock.now()));
    expect(isUniqueViolation(again)).toBe(true);
    const found = await domainRepository.list(t.db, systemActor, { q: 'SHOP.EXAMPLE' }, { limit: 10 });
    expect(found.items.map((d) => d.id)).toEqual([domainId]);
  });
});
