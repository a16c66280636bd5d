import type { Knex } from 'knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrations } from '../../migrations/index';
import { engines, createTestDb, type Engine, type TestDb } from '../testing/testDb';
import { engineOf } from './dialect';
import { migrateLatest, migrateRollbackAll, migrationStatus } from './migrator';

/** What the migrations must produce, on every engine. Update it together with a new migration. */
const expectedSchema: Record<string, string[]> = {
  servers: [
    'id',
    'name',
    'whm_url',
    'whm_user',
    'token_ref',
    'kind',
    'owner_account_id',
    'status',
    'created_at',
    'updated_at',
    'source',
    'tls_ca',
    'tls_fingerprint',
    'last_sync_at',
    'last_sync_status',
    'last_sync_error',
  ],
  accounts: [
    'id',
    'server_id',
    'username',
    'owner_account_id',
    'is_reseller',
    'contact_email',
    'plan',
    'status',
    'outgoing_mail',
    'strikes',
    'created_at',
    'updated_at',
  ],
  account_tree: ['ancestor_id', 'account_id', 'depth'],
  domains: ['id', 'account_id', 'name', 'type', 'mail_hosted', 'created_at', 'updated_at'],
  users: ['id', 'login', 'role', 'account_id', 'password_hash', 'display_name', 'email', 'disabled', 'last_login_at', 'created_at', 'updated_at'],
  api_tokens: ['id', 'user_id', 'name', 'token_hash', 'prefix', 'created_at', 'last_used_at', 'revoked_at'],
  sessions: ['sid', 'data', 'expires_at'],
  login_failures: ['id', 'key', 'at'],
  policy_versions: ['id', 'version', 'title', 'body', 'change_summary', 'published_by', 'published_at'],
  policy_acceptances: ['id', 'account_id', 'policy_version_id', 'user_id', 'accepted_at', 'ip', 'user_agent'],
  audit_log: ['seq', 'at', 'actor_user_id', 'actor_login', 'action', 'subject_type', 'subject_id', 'data', 'ip', 'prev_hash', 'hash'],
  sso_nonces: ['nonce', 'expires_at'],
  job_runs: ['id', 'job', 'subject', 'trigger', 'started_at', 'finished_at', 'status', 'counts', 'error'],
  job_leases: ['job', 'holder', 'expires_at'],
  panel_events: ['id', 'received_at', 'category', 'event', 'username', 'payload', 'status', 'result'],
  consent_lists: ['id', 'account_id', 'domain_id', 'name', 'double_opt_in', 'created_at', 'updated_at'],
  consent_texts: ['id', 'list_id', 'version', 'text', 'created_at'],
  consent_records: [
    'id',
    'list_id',
    'email',
    'status',
    'method',
    'source',
    'consent_text_version',
    'ip',
    'user_agent',
    'consented_at',
    'confirmed_at',
    'confirmed_ip',
    'revoked_at',
    'revoked_how',
    'created_at',
    'updated_at',
    'import_event_id',
  ],
  consent_events: ['id', 'account_id', 'seq', 'record_id', 'list_id', 'type', 'at', 'actor', 'data', 'prev_hash', 'hash'],
  mail_outbox: ['id', 'account_id', 'kind', 'to_address', 'from_address', 'subject', 'text_body', 'headers', 'transport', 'status', 'response', 'error', 'created_at', 'sent_at'],
  consent_confirmations: ['id', 'record_id', 'list_id', 'status', 'text_version', 'source', 'requested_ip', 'requested_user_agent', 'requested_at', 'expires_at', 'mail_id', 'confirmed_at', 'confirmed_ip'],
  rate_limit_hits: ['id', 'key', 'at'],
  consent_imports: [
    'id',
    'account_id',
    'list_id',
    'created_by',
    'filename',
    'file_path',
    'file_bytes',
    'file_sha256',
    'mode',
    'mapping',
    'options',
    'status',
    'phase',
    'lines_done',
    'bytes_done',
    'rows_imported',
    'rows_confirmed',
    'rows_pending',
    'rows_rejected',
    'error',
    'lease_holder',
    'heartbeat_at',
    'started_at',
    'finished_at',
    'created_at',
    'updated_at',
  ],
  consent_import_rejects: ['id', 'import_id', 'line', 'email', 'reason', 'raw'],
  complaint_messages: ['id', 'sha256', 'size_bytes', 'raw', 'received_via', 'received_by', 'received_at', 'parse_status', 'parse_error', 'format', 'feedback_type', 'report_message_id', 'reporter', 'parsed'],
  complaints: [
    'id',
    'message_id',
    'recipient_no',
    'recipient',
    'recipient_redaction',
    'format',
    'feedback_type',
    'is_complaint',
    'spamtrap',
    'arrival_at',
    'received_at',
    'source_ip',
    'original_message_id',
    'original_mail_from',
    'subject',
    'server_id',
    'domain_id',
    'account_id',
    'reseller_account_id',
    'attribution',
    'attribution_reason',
    'dedup_key',
    'duplicate_of',
    'status',
    'decision_reason',
    'decided_by',
    'decided_at',
    'evidence_due_at',
    'desk_status',
    'due_at',
    'escalated_at',
    'resolution',
    'created_at',
    'updated_at',
  ],
  complaint_notes: ['id', 'complaint_id', 'author', 'author_role', 'kind', 'body', 'consent_record_id', 'created_at'],
  strikes: ['id', 'account_id', 'source', 'complaint_id', 'reason', 'created_at', 'lifted_at', 'lifted_reason'],
  server_ips: ['id', 'server_id', 'ip', 'created_at'],
  charges: [
    'id',
    'complaint_id',
    'account_id',
    'reseller_account_id',
    'amount_cents',
    'currency',
    'status',
    'reason',
    'decided_by',
    'decided_at',
    'billing_status',
    'billing_ref',
    'billing_error',
    'billed_at',
    'created_at',
    'updated_at',
  ],
  settings: ['key', 'value', 'updated_by', 'updated_at'],
  panel_actions: [
    'id',
    'idempotency_key',
    'kind',
    'server_id',
    'account_id',
    'username',
    'params',
    'reason',
    'origin',
    'strike_id',
    'requested_by',
    'status',
    'attempts',
    'max_attempts',
    'next_attempt_at',
    'lease_holder',
    'lease_until',
    'outcome_unknown',
    'last_error',
    'result',
    'approved_by',
    'approved_at',
    'cancelled_by',
    'cancel_reason',
    'created_at',
    'updated_at',
    'done_at',
  ],
  notice_templates: ['kind', 'subject', 'body', 'updated_by', 'updated_at'],
  notices: [
    'id',
    'idempotency_key',
    'kind',
    'account_id',
    'to_address',
    'cc_address',
    'subject',
    'body',
    'reason',
    'data',
    'status',
    'attempts',
    'next_attempt_at',
    'lease_holder',
    'lease_until',
    'mail_id',
    'last_error',
    'created_by',
    'created_at',
    'sent_at',
  ],
  ip_blocks: [
    'id',
    'address',
    'family',
    'reason',
    'reason_text',
    'trigger',
    'evidence',
    'server_id',
    'created_by',
    'created_at',
    'expires_at',
    'status',
    'lifted_at',
    'lifted_by',
    'lift_reason',
    'sync_state',
    'sync_error',
    'synced_at',
  ],
  postmaster_checks: ['id', 'domain_id', 'account_id', 'domain', 'checked_at', 'trigger', 'route', 'route_target', 'smtp_result', 'smtp_code', 'mx_host', 'catch_all', 'verdict', 'reason', 'evidence'],
  postmaster_status: [
    'domain_id',
    'account_id',
    'verdict',
    'reason',
    'verdict_since',
    'last_checked_at',
    'failing_since',
    'notified_at',
    'escalated_at',
    'retry_at',
    'retry_count',
    'read_token_hash',
    'read_sent_at',
    'read_confirmed_at',
    'read_confirmed_ip',
  ],
  postmaster_probe_cache: ['address', 'result', 'code', 'mx_host', 'dialogue', 'checked_at', 'expires_at'],
};
const knexTables = ['knex_migrations', 'knex_migrations_lock'];

/** Unique keys (other than primary keys) the application relies on, as sorted column lists. */
const expectedUniqueKeys: Record<string, string[][]> = {
  servers: [['name']],
  accounts: [['server_id', 'username']],
  domains: [['name']],
  users: [['login']],
  api_tokens: [['token_hash']],
  policy_versions: [['version']],
  policy_acceptances: [['account_id', 'policy_version_id']],
  consent_texts: [['list_id', 'version']],
  consent_records: [['email', 'list_id']],
  consent_events: [['account_id', 'seq']],
  complaint_messages: [['sha256']],
  complaints: [['message_id', 'recipient_no']],
  strikes: [['complaint_id']],
  server_ips: [['ip']],
  charges: [['complaint_id']],
  panel_actions: [['idempotency_key']],
  notices: [['idempotency_key']],
};

async function tableNames(db: Knex): Promise<string[]> {
  if (engineOf(db) === 'sqlite') {
    const rows = (await db.raw("select name from sqlite_master where type = 'table' and name not like 'sqlite_%'")) as Array<{ name: string }>;
    return rows.map((r) => r.name).sort();
  }
  const [rows] = (await db.raw('select table_name as name from information_schema.tables where table_schema = database()')) as [Array<{ name: string }>];
  return rows.map((r) => r.name).sort();
}

async function uniqueKeys(db: Knex, table: string): Promise<string[][]> {
  const keys: string[][] = [];
  if (engineOf(db) === 'sqlite') {
    const indexes = (await db.raw(`pragma index_list(${JSON.stringify(table)})`)) as Array<{ name: string; unique: number; origin: string }>;
    for (const index of indexes.filter((i) => i.unique === 1 && i.origin !== 'pk')) {
      const cols = (await db.raw(`pragma index_info(${JSON.stringify(index.name)})`)) as Array<{ name: string }>;
      keys.push(cols.map((c) => c.name).sort());
    }
  } else {
    const [rows] = (await db.raw(
      "select index_name as idx, column_name as col from information_schema.statistics where table_schema = database() and table_name = ? and non_unique = 0 and index_name <> 'PRIMARY'",
      [table],
    )) as [Array<{ idx: string; col: string }>];
    const byIndex = new Map<string, string[]>();
    for (const r of rows) byIndex.set(r.idx, [...(byIndex.get(r.idx) ?? []), r.col]);
    keys.push(...[...byIndex.values()].map((cols) => cols.sort()));
  }
  return keys.sort((x, y) => x.join().localeCompare(y.join()));
}

/** Tables, columns with nullability, and unique keys: the parts of a schema both engines must agree on. */
interface SchemaSnapshot {
  tables: string[];
  columns: Record<string, Record<string, { nullable: boolean }>>;
  uniqueKeys: Record<string, string[][]>;
}

async function snapshot(db: Knex): Promise<SchemaSnapshot> {
  const tables = (await tableNames(db)).filter((t) => !knexTables.includes(t));
  const columns: SchemaSnapshot['columns'] = {};
  const keys: SchemaSnapshot['uniqueKeys'] = {};
  for (const table of tables) {
    const info = await db(table).columnInfo();
    columns[table] = Object.fromEntries(
      Object.entries(info)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([name, c]) => [name, { nullable: c.nullable }]),
    );
    keys[table] = await uniqueKeys(db, table);
  }
  return { tables, columns, uniqueKeys: keys };
}

const snapshots = new Map<Engine, SchemaSnapshot>();
const allMigrations = Object.keys(migrations).sort();

describe.each(engines)('migrations on %s', (engine) => {
  let t: TestDb;
  beforeAll(async () => {
    t = await createTestDb(engine);
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  it('starts with every migration pending', async () => {
    const status = await migrationStatus(t.db);
    expect(status.applied).toEqual([]);
    expect(status.pending).toEqual(allMigrations);
  });

  it('applies every migration and then reports none pending', async () => {
    expect(await migrateLatest(t.db)).toEqual(allMigrations);
    const status = await migrationStatus(t.db);
    expect(status.pending).toEqual([]);
    expect(status.applied).toEqual(allMigrations);
    expect(await migrateLatest(t.db)).toEqual([]);
  });

  it('creates exactly the expected tables and columns', async () => {
    const snap = await snapshot(t.db);
    expect(snap.tables).toEqual(Object.keys(expectedSchema).sort());
    for (const [table, columns] of Object.entries(expectedSchema)) {
      expect(Object.keys(snap.columns[table] ?? {}), `columns of ${table}`).toEqual([...columns].sort());
    }
    expect(await tableNames(t.db)).toEqual(expect.arrayContaining(knexTables));
  });

  it('creates the unique keys the application relies on', async () => {
    const snap = await snapshot(t.db);
    for (const table of snap.tables) {
      expect(snap.uniqueKeys[table], `unique keys of ${table}`).toEqual(expectedUniqueKeys[table] ?? []);
    }
    snapshots.set(engine, snap);
  });

  it('rolls every migration back, leaving only the knex bookkeeping tables', async () => {
    expect(await migrateRollbackAll(t.db)).toEqual([...allMigrations].reverse());
    expect(await tableNames(t.db)).toEqual(knexTables);
    const status = await migrationStatus(t.db);
    expect(status.applied).toEqual([]);
    expect(status.pending).toEqual(allMigrations);
  });

  it('migrates up again after a full rollback, to the same schema', async () => {
    const before = snapshots.get(engine);
    expect(before).toBeDefined();
    expect(await migrateLatest(t.db)).toEqual(allMigrations);
    expect(await snapshot(t.db)).toEqual(before);
    expect((await migrationStatus(t.db)).pending).toEqual([]);
  });

  it('accepts a row in every table after the round trip', async () => {
    const at = '2026-11-28 10:00:00.000';
    const db = t.db;
    await db('servers').insert({ id: 1, name: 's', whm_url: 'https://s:2087', created_at: at, updated_at: at });
    await db('accounts').insert({ id: 1, server_id: 1, username: 'u', created_at: at, updated_at: at });
    await db('account_tree').insert({ ancestor_id: 1, account_id: 1, depth: 0 });
    await db('domains').insert({ id: 1, account_id: 1, name: 'u.example', type: 'main', created_at: at, updated_at: at });
    await db('users').insert({ id: 1, login: 'u', role: 'customer', account_id: 1, password_hash: 'x', created_at: at, updated_at: at });
    await db('api_tokens').insert({ user_id: 1, name: 't', token_hash: 'h', prefix: 'asp_', created_at: at });
    await db('sessions').insert({ sid: 's', data: '{}', expires_at: at });
    await db('login_failures').insert({ key: 'ip:1', at });
    await db('policy_versions').insert({ id: 1, version: 1, title: 'v1', body: 'b', published_by: 1, published_at: at });
    await db('policy_acceptances').insert({ account_id: 1, policy_version_id: 1, user_id: 1, accepted_at: at });
    await db('audit_log').insert({ at, actor_login: 'system', action: 'x', prev_hash: '0', hash: '1' });
    await db('sso_nonces').insert({ nonce: '0123456789abcdef0123456789abcdef', expires_at: at });
    await db('job_runs').insert({ job: 'account-sync', trigger: 'manual', started_at: at, status: 'ok' });
    await db('job_leases').insert({ job: 'account-sync', holder: 'h', expires_at: at });
    await db('panel_events').insert({ received_at: at, category: 'Whostmgr', event: 'Accounts::Create', payload: '{}', status: 'applied' });
    await db('consent_lists').insert({ id: 1, account_id: 1, domain_id: 1, name: 'News', double_opt_in: 0, created_at: at, updated_at: at });
    await db('consent_texts').insert({ list_id: 1, version: 1, text: 'Yes, send me news.', created_at: at });
    await db('consent_records').insert({ id: 1, list_id: 1, email: 'a@b.example', status: 'pending', method: 'manual', created_at: at, updated_at: at });
    await db('consent_events').insert({ account_id: 1, seq: 1, record_id: 1, list_id: 1, type: 'record_added', at, actor: 'u', data: '{}', prev_hash: '0', hash: '1' });
    await db('mail_outbox').insert({ id: 1, account_id: 1, kind: 'optin_confirmation', to_address: 'a@b.example', from_address: 'no-reply@b.example', subject: 'Confirm', text_body: 'Click', transport: 'capture', status: 'captured', created_at: at });
    await db('consent_confirmations').insert({ record_id: 1, list_id: 1, status: 'sent', text_version: 1, requested_at: at, expires_at: at, mail_id: 1 });
    await db('rate_limit_hits').insert({ key: 'subscribe:ip:127.0.0.1', at });
    await db('consent_imports').insert({ id: 1, account_id: 1, list_id: 1, created_by: 'u', filename: 'a.csv', file_path: 'imports/1.csv', file_bytes: 10, file_sha256: '0'.repeat(64), mode: 'skip_bad', mapping: '{}', status: 'queued', created_at: at, updated_at: at });
    await db('consent_import_rejects').insert({ import_id: 1, line: 2, email: null, reason: 'bad address', raw: 'x' });
    await db('complaint_messages').insert({ id: 1, sha256: 'a'.repeat(64), size_bytes: 3, raw: Buffer.from('abc'), received_via: 'cli', received_by: 'root', received_at: at, parse_status: 'unparsed' });
    await db('complaints').insert({ id: 1, message_id: 1, received_at: at, status: 'unparsed', created_at: at, updated_at: at });
    await db('complaint_notes').insert({ complaint_id: 1, author: 'u', author_role: 'admin', kind: 'note', body: 'b', created_at: at });
    await db('strikes').insert({ account_id: 1, source: 'complaint', complaint_id: 1, reason: 'r', created_at: at });
    await db('server_ips').insert({ server_id: 1, ip: '192.0.2.10', created_at: at });
    await db('charges').insert({ complaint_id: 1, account_id: 1, amount_cents: 300000, currency: 'USD', status: 'proposed', created_at: at, updated_at: at });
    await db('settings').insert({ key: 'enforcement', value: '{}', updated_by: 'admin', updated_at: at });
    await db('panel_actions').insert({ idempotency_key: 'k', kind: 'suspend_account', server_id: 1, account_id: 1, username: 'u', reason: 'r', origin: 'admin', requested_by: 'admin', status: 'pending', created_at: at, updated_at: at });
    await db('notice_templates').insert({ kind: 'warning', subject: 's', body: 'b', updated_by: 'admin', updated_at: at });
    await db('notices').insert({ idempotency_key: 'k', kind: 'warning', account_id: 1, subject: 's', body: 'b', reason: 'r', status: 'pending', created_by: 'system', created_at: at });
    await db('postmaster_checks').insert({ domain_id: 1, account_id: 1, domain: 'u.example', checked_at: at, trigger: 'manual', route: 'mailbox', smtp_result: 'accepted', verdict: 'ok', reason: 'r' });
    await db('postmaster_status').insert({ domain_id: 1, account_id: 1, verdict: 'ok', reason: 'r', verdict_since: at, last_checked_at: at });
    await db('postmaster_probe_cache').insert({ address: 'postmaster@u.example', result: 'accepted', checked_at: at, expires_at: at });
    await db('ip_blocks').insert({ address: '192.0.2.7', family: 4, reason: 'manual', created_by: 'admin', created_at: at, status: 'active', sync_state: 'pending' });
    for (const table of Object.keys(expectedSchema)) {
      const row = await db(table).count({ n: '*' }).first();
      expect(Number(row?.n), table).toBe(1);
    }
  });
});

describe.runIf(engines.length > 1)('schema parity across engines', () => {
  it('gives every engine the same tables, columns, nullability and unique keys', () => {
    const [first, ...rest] = engines;
    const base = snapshots.get(first!);
    expect(base).toBeDefined();
    for (const engine of rest) expect(snapshots.get(engine), `${engine} vs ${first}`).toEqual(base);
  });
});
