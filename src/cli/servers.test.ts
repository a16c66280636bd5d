import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Knex } from 'knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb } from '../db/knex';
import { toNumber } from '../db/dialect';
import { startSimulatedWhm, type SimulatedWhm } from '../panel/simulated/server';
import { smallSeed } from '../panel/simulated/testSeed';
import { createTestDb, engines, type TestDb } from '../testing/testDb';
import { runCli } from '../testing/cliRunner';

/**
 * `servers add|list|sync|remove` of the real CLI, spawned as an operator runs it, against a simulated
 * WHM server started in this process (reached over HTTP by the CLI's own process).
 */

const token = 'CLISIMTOKEN0123456789ABCDEFGHIJKL';


/** smallSeed's first server: one reseller and five accounts with 19 domains in all. */
const seedAccounts = 5;
const seedDomains = 19;

// Every test spawns Node processes (about a second each), so allow more than the default 30 s.
describe.each(engines)('servers CLI on %s', { timeout: 120_000 }, (engine) => {
  let dataDir: string;
  let inputDir: string;
  let env: Record<string, string>;
  let mysqlDb: TestDb | undefined;
  let inProcess: Knex | undefined;
  let sim: SimulatedWhm;
  let tokenFile: string;

  const cli = (...args: string[]) => runCli(args, env);
  const tokenPath = (name: string) => path.join(dataDir, 'whm-tokens', `${name}.token`);
  /** The same database the CLI writes, opened in this process (after migration). */
  const db = (): Knex => {
    if (mysqlDb) return mysqlDb.db;
    inProcess ??= createDb({ client: 'sqlite', filename: path.join(dataDir, 'antispam.sqlite') });
    return inProcess;
  };

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'antispam-cli-servers-'));
    inputDir = fs.mkdtempSync(path.join(os.tmpdir(), 'antispam-cli-input-'));
    tokenFile = path.join(inputDir, 'whm.token');
    fs.writeFileSync(tokenFile, `${token}\n`);
    env = { DATA_DIR: dataDir };
    if (engine === 'mysql') {
      mysqlDb = await createTestDb('mysql');
      if (mysqlDb.config.client !== 'mysql') throw new Error('expected a MySQL test database');
      env.DATABASE_URL = mysqlDb.config.url;
    }
    sim = await startSimulatedWhm({ seed: smallSeed(), token });
  });

  afterAll(async () => {
    await sim?.close();
    await inProcess?.destroy();
    await mysqlDb?.cleanup();
    fs.rmSync(dataDir, { recursive: true, force: true });
    fs.rmSync(inputDir, { recursive: true, force: true });
  });

  it('db migrate prepares the database', async () => {
    const res = await cli('db', 'migrate');
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/^Applied \d+ migration\(s\):/);
  });

  it('servers add stores the token in DATA_DIR/whm-tokens (0600), never in the database, and checks the connection', async () => {
    const res = await cli('servers', 'add', 'sim1', sim.url, '--user', 'root', '--token-file', tokenFile);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toBe('');
    expect(res.stdout).toBe(`Added server sim1 (${sim.url} as root).\nConnection checked: WHM answered (1 reseller). Run: npm run cli -- servers sync sim1\n`);
    expect(sim.callCount('listresellers')).toBe(1);

    const file = tokenPath('sim1');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.dirname(file)).mode & 0o077).toBe(0);
    expect(fs.readFileSync(file, 'utf8').trim()).toBe(token);

    const rows = (await db()('servers').select('*')) as Array<Record<string, unknown>>;
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ name: 'sim1', whm_url: sim.url, whm_user: 'root', source: 'cli', status: 'active', token_ref: `file:${file}` });
    expect(JSON.stringify(rows)).not.toContain(token);
    expect(await db()('audit_log').where({ action: 'server.add', actor_login: 'system' })).toHaveLength(1);
  });

  it('servers list prints one tab-separated line per server', async () => {
    const res = await cli('servers', 'list');
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toBe(`sim1\t${sim.url}\troot\tshared\tactive\t0\tnever synced\n`);
  });

  it('servers sync reads the panel in three calls and prints the counts; a second sync prints zeros', async () => {
    sim.resetCounters();
    const res = await cli('servers', 'sync');
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toBe('');
    expect(res.stdout).toBe(`sim1\tok\taccountsAdded=${seedAccounts} accountsUpdated=0 accountsTerminated=0 domainsAdded=${seedDomains} domainsUpdated=0 domainsRemoved=0\n`);
    expect(sim.totalCalls()).toBe(3);
    expect(toNumber(((await db()('accounts').count({ n: '*' }).first()) as { n: unknown }).n)).toBe(seedAccounts);
    expect(toNumber(((await db()('domains').count({ n: '*' }).first()) as { n: unknown }).n)).toBe(seedDomains);
    expect(await db()('job_runs').where({ job: 'account-sync', subject: 'sim1', trigger: 'manual', status: 'ok' })).toHaveLength(1);

    const [again, list] = [await cli('servers', 'sync', 'SIM1'), await cli('servers', 'list')];
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toBe('sim1\tok\taccountsAdded=0 accountsUpdated=0 accountsTerminated=0 domainsAdded=0 domainsUpdated=0 domainsRemoved=0\n');
    expect(list.stdout).toMatch(new RegExp(`^sim1\\t${sim.url.replace(/\./g, '\\.')}\\troot\\tshared\\tactive\\t${seedAccounts}\\tok \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\\n$`));
  });

  it('servers add refuses a wrong token, a non-https URL, a CA file with a fingerprint, and an unreadable token file (exit 1)', async () => {
    const wrongToken = path.join(inputDir, 'wrong.token');
    fs.writeFileSync(wrongToken, 'NOT-THE-TOKEN-0000000000\n');
    const caFile = path.join(inputDir, 'ca.pem');
    fs.writeFileSync(caFile, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    const fingerprint = 'AB'.repeat(32);
    const [badToken, ftp, both, missing] = await Promise.all([
      cli('servers', 'add', 'badtoken', sim.url, '--token-file', wrongToken),
      cli('servers', 'add', 'ftpserver', 'ftp://x', '--token-file', tokenFile),
      cli('servers', 'add', 'pinned', 'https://cp9.example.net:2087', '--token-file', tokenFile, '--ca-file', caFile, '--fingerprint', fingerprint),
      cli('servers', 'add', 'nofile', sim.url, '--token-file', path.join(inputDir, 'nosuch.token')),
    ]);

    expect(badToken.code).toBe(1);
    expect(badToken.stderr).toMatch(/^Error: WHM badtoken: listresellers: HTTP 403: access denied \(check the API token/i);
    expect(badToken.stderr).not.toContain('NOT-THE-TOKEN');
    // The connection is checked before anything is saved: a wrong token never lands.
    expect(badToken.stdout).toBe('');
    expect(fs.existsSync(tokenPath('badtoken'))).toBe(false);

    expect(ftp.code).toBe(1);
    expect(ftp.stdout).toBe('');
    expect(ftp.stderr).toBe('Error: url: must use https:// (plain http is accepted only on this machine, e.g. the simulator)\n');

    expect(both.code).toBe(1);
    expect(both.stdout).toBe('');
    expect(both.stderr).toBe('Error: fingerprint: give either a CA file or a fingerprint, not both\n');

    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`Cannot read the token file ${path.join(inputDir, 'nosuch.token')}`);

    const names = ((await db()('servers').select('name')) as Array<{ name: string }>).map((r) => r.name).sort();
    expect(names).not.toContain('badtoken');
    expect(names).not.toContain('ftpserver');
    expect(names).not.toContain('pinned');
    expect(names).not.toContain('nofile');
    for (const name of ['ftpserver', 'pinned', 'nofile']) expect(fs.existsSync(tokenPath(name))).toBe(false);
  });

  it('servers sync prints a failing server as failed (exit 1) while syncing the others; an unknown name is exit 1', async () => {
    // Saved without the check (--no-check), a server with a wrong token fails its sync; sim1 still syncs.
    const wrongToken = path.join(inputDir, 'wrong.token');
    const unchecked = await cli('servers', 'add', 'badtoken', sim.url, '--token-file', wrongToken, '--no-check');
    expect(unchecked.code, unchecked.stderr).toBe(0);
    expect(unchecked.stdout).toBe(`Added server badtoken (${sim.url} as root).\n`);
    const res = await cli('servers', 'sync');
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(/^badtoken\tfailed\tWHM badtoken: \w+: HTTP 403: access denied/im);
    expect(res.stdout).toMatch(/^sim1\tok\taccountsAdded=0 accountsUpdated=0 /m);
    expect(res.stdout.trim().split('\n')).toHaveLength(2);
    expect(await db()('servers').where({ name: 'badtoken', last_sync_status: 'failed' })).toHaveLength(1);
    const removed = await cli('servers', 'remove', 'badtoken', '--yes');
    expect(removed.code, removed.stderr).toBe(0);
    expect(fs.existsSync(tokenPath('badtoken'))).toBe(false);

    const nosuch = await cli('servers', 'sync', 'nosuch');
    expect(nosuch.code).toBe(1);
    expect(nosuch.stdout).toBe('');
    expect(nosuch.stderr).toBe('Error: Active server "nosuch" was not found.\n');
  });

  it('servers remove needs --yes; then it deletes the token, stops syncing the server and keeps its accounts', async () => {
    const unconfirmed = await cli('servers', 'remove', 'sim1');
    expect(unconfirmed.code).toBe(1);
    expect(unconfirmed.stderr).toContain('--yes');
    expect(fs.existsSync(tokenPath('sim1'))).toBe(true);
    expect(((await db()('servers').where({ name: 'sim1' }).first()) as { status: string }).status).toBe('active');

    const res = await cli('servers', 'remove', 'sim1', '--yes');
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toBe('Removed server sim1; its accounts are kept.\n');
    expect(fs.existsSync(tokenPath('sim1'))).toBe(false);

    const list = await cli('servers', 'list');
    expect(list.stdout.split('\n').find((l) => l.startsWith('sim1\t'))).toMatch(new RegExp(`^sim1\\t\\S+\\troot\\tshared\\tremoved\\t${seedAccounts}\\tok `));
    const server = (await db()('servers').where({ name: 'sim1' }).first()) as { id: unknown };
    expect(toNumber(((await db()('accounts').where('server_id', toNumber(server.id)).whereNot('status', 'terminated').count({ n: '*' }).first()) as { n: unknown }).n)).toBe(seedAccounts);
    expect(await db()('audit_log').where({ action: 'server.remove' }).whereRaw('data like ?', ['%sim1%'])).toHaveLength(1);

    sim.resetCounters();
    const [sync, syncAll, again] = await Promise.all([cli('servers', 'sync', 'sim1'), cli('servers', 'sync'), cli('servers', 'remove', 'sim1', '--yes')]);
    expect(sync.code).toBe(1);
    expect(sync.stderr).toBe('Error: Active server "sim1" was not found.\n');
    expect(syncAll.code, syncAll.stderr).toBe(0);
    expect(syncAll.stdout).toMatch(/^No active servers\./);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe('Error: Server "sim1" was not found.\n');
    expect(sim.totalCalls()).toBe(0);
  });
});
