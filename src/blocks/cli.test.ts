import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Knex } from 'knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb } from '../db/knex';
import { runCli } from '../testing/cliRunner';
import { createTestDb, engines, type TestDb } from '../testing/testDb';
import { CsfStandIn } from './testing/csfStandIn';

/** `npm run cli -- blocks add|lift|list`, spawned as an operator runs it, applying blocks through a stand-in csf. */
describe.each(engines)('blocks CLI on %s', { timeout: 120_000 }, (engine) => {
  let dataDir: string;
  let env: Record<string, string>;
  let mysqlDb: TestDb | undefined;
  let sqlite: Knex | undefined;
  let csf: CsfStandIn;
  const cli = (...args: string[]) => runCli(args, env);
  const db = (): Knex => mysqlDb?.db ?? (sqlite ??= createDb({ client: 'sqlite', filename: path.join(dataDir, 'antispam.sqlite') }));

  beforeAll(async () => {
    csf = CsfStandIn.create();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'antispam-blocks-cli-'));
    env = { DATA_DIR: dataDir, FIREWALL: 'csf', CSF_PATH: csf.path, CSF_CONF: csf.confPath };
    if (engine === 'mysql') {
      mysqlDb = await createTestDb('mysql');
      if (mysqlDb.config.client !== 'mysql') throw new Error('expected a MySQL test database');
      env.DATABASE_URL = mysqlDb.config.url;
    }
    const migrated = await cli('db', 'migrate');
    expect(migrated.code, migrated.stderr).toBe(0);
  });
  afterAll(async () => {
    await sqlite?.destroy();
    await mysqlDb?.cleanup();
    csf?.cleanup();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('adds, lists and lifts blocks through csf, audited as "cli"', async () => {
    const added = await cli('blocks', 'add', '203.0.113.7/24', '--reason', 'hacking', '--text', 'wp-login brute force', '--ttl', '12h');
    expect(added.stderr).toBe('');
    expect(added.code).toBe(0);
    expect(added.stdout).toMatch(/^blocked: #(\d+) 203\.0\.113\.0\/24 until \d{4}-\d\d-\d\dT[\d:.]+Z; firewall: applied\n$/);
    const id = /#(\d+)/.exec(added.stdout)![1]!;
    expect(csf.calls()).toEqual([['-td', '203.0.113.0/24', '43200', `antispam #${id} hacking attempt: wp login brute force`]]);

    const perm = await cli('blocks', 'add', '2001:db8::9', '--permanent');
    expect(perm.stdout).toMatch(/^blocked: #\d+ 2001:db8::9 permanently; firewall: applied\n$/);

    const list = await cli('blocks', 'list', '--search', '203.0.113.99');
    expect(list.code).toBe(0);
    expect(list.stdout.split('\n').filter(Boolean).map((l) => l.split('\t').slice(0, 4))).toEqual([[id, '203.0.113.0/24', 'active', 'hacking']]);

    const lifted = await cli('blocks', 'lift', '203.0.113.0/24', '--reason', 'Hosting customer range');
    expect(lifted.code, lifted.stderr).toBe(0);
    expect(lifted.stdout).toBe(`lifted: #${id} 203.0.113.0/24; firewall: applied\n`);
    expect(csf.calls().at(-1)).toEqual(['-tr', '203.0.113.0/24']);
    const active = await cli('blocks', 'list', '--status', 'active');
    expect(active.stdout).not.toContain('203.0.113.0/24');
    expect(active.stdout).toContain('2001:db8::9');

    const audit = (await db()('audit_log').where({ subject_type: 'ip_block', subject_id: id }).orderBy('seq')) as Array<{ action: string; actor_login: string }>;
    expect(audit.map((a) => [a.action, a.actor_login])).toEqual([['ip_block.add', 'cli'], ['ip_block.lift', 'cli']]);
  });

  it('refuses unsafe or wrong input with one line naming the problem, running nothing', async () => {
    csf.clearCalls();
    const unsafe = await cli('blocks', 'add', '192.0.2.1;reboot');
    expect(unsafe.code).toBe(1);
    expect(unsafe.stderr).toMatch(/^Error: address: contains characters that cannot be part of an address/);
    expect((await cli('blocks', 'add', '192.0.2.1', '--ttl', 'forever')).stderr).toMatch(/^Error: --ttl expects 60s to 365d/);
    expect((await cli('blocks', 'add', '192.0.2.1', '--reason', 'grudge')).stderr).toMatch(/^Error: --reason expects one of hacking, port_scan/);
    expect((await cli('blocks', 'lift', '192.0.2.77', '--reason', 'nothing there')).stderr).toBe('Error: 192.0.2.77 has no active block\n');
    expect(csf.calls()).toEqual([]);
  });
});
