import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Knex } from 'knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb } from '../db/knex';
import { pmServer, pmToken, postmasterSeed } from '../postmaster/pageTestRig';
import { startSimulatedWhm, type SimulatedWhm } from '../panel/simulated/server';
import { runCli } from '../testing/cliRunner';
import { createTestDb, engines, type TestDb } from '../testing/testDb';

/**
 * `postmaster check <domain>` and `postmaster sweep` of the real CLI, spawned as an operator runs them,
 * against a simulated WHM server started in this process (added and synced through the CLI itself).
 * SMTP probing is off (POSTMASTER_PROBE=off): the simulated domains have no real mail servers.
 */
describe.each(engines)('postmaster CLI on %s', { timeout: 120_000 }, (engine) => {
  let dataDir: string;
  let env: Record<string, string>;
  let mysqlDb: TestDb | undefined;
  let inProcess: Knex | undefined;
  let sim: SimulatedWhm;

  const cli = (...args: string[]) => runCli(args, env);
  const db = (): Knex => {
    if (mysqlDb) return mysqlDb.db;
    inProcess ??= createDb({ client: 'sqlite', filename: path.join(dataDir, 'antispam.sqlite') });
    return inProcess;
  };

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'antispam-cli-postmaster-'));
    env = { DATA_DIR: dataDir, POSTMASTER_PROBE: 'off' };
    if (engine === 'mysql') {
      mysqlDb = await createTestDb('mysql');
      if (mysqlDb.config.client !== 'mysql') throw new Error('expected a MySQL test database');
      env.DATABASE_URL = mysqlDb.config.url;
    }
    sim = await startSimulatedWhm({ seed: postmasterSeed(), token: pmToken });
    const tokenFile = path.join(dataDir, 'sim.token');
    fs.writeFileSync(tokenFile, `${pmToken}\n`);
    for (const args of [['db', 'migrate'], ['servers', 'add', pmServer, sim.url, '--token-file', tokenFile], ['servers', 'sync', pmServer]]) {
      const res = await cli(...args);
      if (res.code !== 0) throw new Error(`${args.join(' ')} failed: ${res.stderr}`);
    }
  });

  afterAll(async () => {
    await sim?.close();
    await inProcess?.destroy();
    await mysqlDb?.cleanup();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('check prints verdict, reason, route and SMTP result; exit 1 for missing and undeliverable, 0 for ok', async () => {
    const missing = await cli('postmaster', 'check', 'PMCUST.test');
    expect(missing.code, missing.stderr).toBe(1);
    expect(missing.stdout).toBe(
      [
        'pmcust.test\tmissing',
        'reason\tpostmaster@pmcust.test does not exist: the default address rejects it (:fail: No Such User Here)',
        'route\tdefault_fail (default address (:fail:)) → :fail: No Such User Here',
        'smtp\tnot probed (SMTP probing is off: POSTMASTER_PROBE)',
        '',
      ].join('\n'),
    );
    const hole = await cli('postmaster', 'check', 'hole-pmcust.test');
    expect(hole.code).toBe(1);
    expect(hole.stdout).toMatch(/^hole-pmcust\.test\tundeliverable\n/);
    const ok = await cli('postmaster', 'check', 'pmroot.test');
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('pmroot.test\tok\n');
    expect(ok.stdout).toContain('route\tforwarder (forwarder) → owner@pmroot.test\n');
    // Stored as history like any check, with the CLI as the trigger.
    const rows = (await db()('postmaster_checks').orderBy('id').select('domain', 'trigger', 'verdict')) as Array<Record<string, unknown>>;
    expect(rows).toEqual([
      { domain: 'pmcust.test', trigger: 'cli', verdict: 'missing' },
      { domain: 'hole-pmcust.test', trigger: 'cli', verdict: 'undeliverable' },
      { domain: 'pmroot.test', trigger: 'cli', verdict: 'ok' },
    ]);
  });

  it('check exits 2 when the panel cannot be read (unknown), and 1 with a clear error for a domain it does not know', async () => {
    sim.knobs.failFunctions.add('Email::list_pops');
    try {
      const unknown = await cli('postmaster', 'check', 'pmroot.test');
      expect(unknown.code, unknown.stderr).toBe(2);
      expect(unknown.stdout).toMatch(/^pmroot\.test\tunknown\n/);
      expect(unknown.stdout).toContain('route\tunknown (the panel could not be read)');
    } finally {
      sim.knobs.failFunctions.delete('Email::list_pops');
    }
    const nowhere = await cli('postmaster', 'check', 'nowhere.test');
    expect(nowhere.code).toBe(1);
    expect(nowhere.stderr).toContain('A mail-hosting domain nowhere.test of a live account was not found.');
  });

  it('sweep checks every domain once as a recorded job run and prints the counts', async () => {
    const res = await cli('postmaster', 'sweep');
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toBe('domains=6 servers=1 ok=3 missing=2 undeliverable=1 unread=0 unknown=0 not_applicable=0\n');
    const runs = (await db()('job_runs').where('job', 'postmaster-sweep').select('status', 'trigger')) as Array<Record<string, unknown>>;
    expect(runs).toEqual([{ status: 'ok', trigger: 'manual' }]);
  });
});
