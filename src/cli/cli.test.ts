import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Knex } from 'knex';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrations } from '../../migrations/index';
import { UserService, hashToken } from '../auth/userService';
import { createDb } from '../db/knex';
import { toNumber } from '../db/dialect';
import { buildTestApp } from '../testing/appHarness';
import { createAccount, createServer } from '../testing/factories';
import { createTestDb, engines, type TestDb } from '../testing/testDb';
import { runCli, type CliResult } from '../testing/cliRunner';

/** The real CLI, spawned as an operator would run it, against SQLite in DATA_DIR or MySQL via DATABASE_URL. */

const migrationNames = Object.keys(migrations).sort();


// Every test spawns Node processes (about a second each), so allow more than the default 30 s.
describe.each(engines)('CLI on %s', { timeout: 120_000 }, (engine) => {
  let dataDir: string;
  let env: Record<string, string>;
  let mysqlDb: TestDb | undefined;
  let inProcess: Knex | undefined;

  const cli = (...args: string[]) => runCli(args, env);
  /** The same database the CLI writes, opened in this process (after migration). */
  const db = (): Knex => {
    if (mysqlDb) return mysqlDb.db;
    inProcess ??= createDb({ client: 'sqlite', filename: path.join(dataDir, 'antispam.sqlite') });
    return inProcess;
  };

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'antispam-cli-'));
    env = { DATA_DIR: dataDir };
    if (engine === 'mysql') {
      mysqlDb = await createTestDb('mysql');
      if (mysqlDb.config.client !== 'mysql') throw new Error('expected a MySQL test database');
      env.DATABASE_URL = mysqlDb.config.url;
    }
  });

  afterAll(async () => {
    await inProcess?.destroy();
    await mysqlDb?.cleanup();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('before migration, db status lists every migration as pending and user commands say to run db migrate', async () => {
    const commands = [['users', 'list'], ['users', 'add', 'alice', '--role', 'admin'], ['users', 'token', 'alice']];
    // One after the other: on an empty database each would race to create knex's bookkeeping table.
    const status = await cli('db', 'status');
    const results: CliResult[] = [];
    for (const args of commands) results.push(await cli(...args));
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toBe(migrationNames.map((m) => `pending\t${m}\n`).join(''));
    for (const [i, args] of commands.entries()) {
      const res = results[i]!;
      expect(res.code, args.join(' ')).toBe(1);
      expect(res.stdout).toBe('');
      expect(res.stderr).toMatch(/^Error: The database schema is not up to date \(\d+ pending migrations?\)\. Run: npm run cli -- db migrate\n$/);
    }
  });

  it('db migrate applies every migration; db status then lists them as applied', async () => {
    const migrate = await cli('db', 'migrate');
    expect(migrate.code, migrate.stderr).toBe(0);
    expect(migrate.stdout).toBe(`Applied ${migrationNames.length} migration(s):\n${migrationNames.map((m) => `  ${m}\n`).join('')}`);
    const status = await cli('db', 'status');
    expect(status.code).toBe(0);
    expect(status.stdout).toBe(migrationNames.map((m) => `applied\t${m}\n`).join(''));
    expect(status.stdout).not.toContain('pending');
    const again = await cli('db', 'migrate');
    expect(again.code).toBe(0);
    expect(again.stdout).toBe('Already up to date.\n');
    expect(toNumber((await db()('users').count({ n: '*' }).first())?.n)).toBe(0);
  });

  it('users add refuses bad input with exit code 1 and a message naming the field, creating nobody', async () => {
    const server = await createServer(db(), { name: 'srv1.example.net' });
    const reseller = await createAccount(db(), { serverId: server, username: 'resa', isReseller: true });
    await createAccount(db(), { serverId: server, username: 'custa1', ownerAccountId: reseller });

    const cases = [
      [['users', 'add', 'bob', '--role', 'wizard'], 'role', 'must be admin, reseller or customer'],
      [['users', 'add', 'x', '--role', 'admin'], 'login', 'use 2-64 letters'],
      [['users', 'add', 'carol', '--role', 'customer'], 'account', 'must be linked to a panel account'],
      [['users', 'add', 'dave', '--role', 'reseller', '--account', 'nosuch'], 'account', 'no panel account named "nosuch"'],
      [['users', 'add', 'erin', '--role', 'reseller', '--account', 'custa1'], 'account', '"custa1" is not a reseller account'],
    ] as const;
    // Independent invocations: run them side by side (each one starts a Node process).
    const [short, missingRole, ...results] = await Promise.all([
      runCli(['users', 'add', 'frank', '--role', 'admin', '--password-stdin'], env, 'short\n'),
      cli('users', 'add', 'gina'),
      ...cases.map(([args]) => cli(...args)),
    ]);
    for (const [i, [args, field, detail]] of cases.entries()) {
      const res = results[i]!;
      expect(res.code, args.join(' ')).toBe(1);
      expect(res.stdout).toBe('');
      expect(res.stderr).toMatch(new RegExp(`^Error: .*\\b${field}: `));
      expect(res.stderr).toContain(detail);
      expect(res.stderr.trim().split('\n')).toHaveLength(1);
    }
    expect(short!.code).toBe(1);
    expect(short!.stderr).toContain('password: must be at least 8 characters');
    expect(missingRole!.code).not.toBe(0);
    expect(missingRole!.stderr).toContain('--role');
    expect(toNumber((await db()('users').count({ n: '*' }).first())?.n)).toBe(0);
  });

  it('users add creates an admin and prints a generated password that signs in', async () => {
    const res = await cli('users', 'add', 'Alice', '--role', 'admin', '--email', 'Alice@Example.com');
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toBe('');
    const match = /^Created admin alice\.\nPassword: (\S{12,})\n$/.exec(res.stdout);
    expect(match, res.stdout).not.toBeNull();
    const password = match![1]!;
    const users = new UserService(db(), buildTestApp(db()).clock);
    const user = await users.authenticate('alice', password);
    expect(user).toMatchObject({ login: 'alice', role: 'admin', accountId: null, email: 'alice@example.com' });
    expect(await users.authenticate('alice', `${password}x`)).toBeNull();
    const stored = await db()('users').where({ login: 'alice' }).first();
    expect(String(stored.password_hash)).toMatch(/^scrypt\$/);
    expect(String(stored.password_hash)).not.toContain(password);
    expect(await db()('audit_log').where({ action: 'user.create', actor_login: 'system' })).toHaveLength(1);

    const again = await cli('users', 'add', 'alice', '--role', 'admin');
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('A user with login "alice" already exists.');
  });

  it('users add links resellers and customers to their accounts; --password-stdin prints no password', async () => {
    const reseller = await runCli(['users', 'add', 'res1', '--role', 'reseller', '--account', 'resa', '--password-stdin'], env, 'reseller-password\n');
    expect(reseller.code, reseller.stderr).toBe(0);
    expect(reseller.stdout).toBe('Created reseller res1 for account resa.\n');
    expect(await new UserService(db(), buildTestApp(db()).clock).authenticate('res1', 'reseller-password')).toMatchObject({ role: 'reseller', accountUsername: 'resa' });
    const customer = await cli('users', 'add', 'cust1', '--role', 'customer', '--account', 'CUSTA1');
    expect(customer.code, customer.stderr).toBe(0);
    expect(customer.stdout).toMatch(/^Created customer cust1 for account custa1\.\nPassword: \S+\n$/);
  });

  it('users list prints one tab-separated line per user: login, role, account', async () => {
    const res = await cli('users', 'list');
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toBe('');
    expect(res.stdout).toBe('alice\tadmin\t-\ncust1\tcustomer\tcusta1\nres1\treseller\tresa\n');
  });

  it('users token prints exactly one line: a token that works against the API with the user\'s tenancy', async () => {
    const res = await cli('users', 'token', 'alice', '--name', 'billing');
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toBe('');
    expect(res.stdout).toMatch(/^asp_[A-Za-z0-9_-]{43}\n$/);
    expect(res.stdout.split('\n')).toEqual([expect.any(String), '']);
    const token = res.stdout.trim();

    const stored = await db()('api_tokens').where({ name: 'billing' });
    expect(stored).toHaveLength(1);
    expect(stored[0].token_hash).toBe(hashToken(token));
    expect(JSON.stringify(stored)).not.toContain(token);

    const { app } = buildTestApp(db());
    const me = await request(app).get('/api/v1/me').set('Authorization', `Bearer ${token}`);
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ login: 'alice', role: 'admin', accountId: null, account: null });

    const customerToken = (await cli('users', 'token', 'CUST1')).stdout.trim();
    const accounts = await request(app).get('/api/v1/accounts').set('Authorization', `Bearer ${customerToken}`);
    expect(accounts.status).toBe(200);
    expect(accounts.body.data.map((a: { username: string }) => a.username)).toEqual(['custa1']);
  });

  it('users token for an unknown login exits 1 with a message and prints no token', async () => {
    const before = toNumber((await db()('api_tokens').count({ n: '*' }).first())?.n);
    const res = await cli('users', 'token', 'nosuchuser');
    expect(res.code).toBe(1);
    expect(res.stdout).toBe('');
    expect(res.stderr).toContain('No user with login "nosuchuser"');
    expect(toNumber((await db()('api_tokens').count({ n: '*' }).first())?.n)).toBe(before);
  });

  it('a bad configuration (PORT=abc) exits 2 with one message naming PORT', async () => {
    const commands = [['users', 'list'], ['db', 'status']];
    const results = await Promise.all(commands.map((args) => runCli(args, { ...env, PORT: 'abc' })));
    for (const [i, args] of commands.entries()) {
      const res = results[i]!;
      expect(res.code, args.join(' ')).toBe(2);
      expect(res.stdout).toBe('');
      const lines = res.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/\bPORT\b/);
      expect(lines[0]).toContain('abc');
      expect(lines[0]).not.toMatch(/\bat\s+\S+\.(ts|js):\d+/);
    }
  });
});
