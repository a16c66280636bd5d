import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotFoundError } from '../lib/errors';
import { buildHarness, loginAs, type Harness, type LoggedIn } from '../testing/appHarness';
import { engines } from '../testing/testDb';
import { genesisHash } from './chain';
import type { EvidenceBundle } from './evidence';
import { runCommand } from '../testing/cliRunner';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const run = runCommand;

// The verifier is copied alone into an empty directory: it must run without our code or node_modules.
const verifierDir = fs.mkdtempSync(path.join(os.tmpdir(), 'verify-bundle-'));
fs.copyFileSync(path.join(root, 'src/consent/verify-bundle.mjs'), path.join(verifierDir, 'verify-bundle.mjs'));
let fileCounter = 0;
async function verify(content: unknown, ext = 'json') {
  const file = path.join(verifierDir, `bundle-${++fileCounter}.${ext}`);
  fs.writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return run(process.execPath, ['verify-bundle.mjs', file], { cwd: verifierDir });
}
const clone = (b: EvidenceBundle): EvidenceBundle => JSON.parse(JSON.stringify(b)) as EvidenceBundle;

describe.each(engines)('consent evidence export on %s', { timeout: 120_000 }, (engine) => {
  let h: Harness;
  let a1: LoggedIn;
  let listA: number;
  let otherListA: number;
  let listB: number;
  let rec1: number;
  let rec2: number;
  let recB: number;
  const svc = () => h.container.consent;

  beforeAll(async () => {
    h = await buildHarness(engine);
    a1 = await loginAs(h.app, h.f.logins.customerA1, h.f.password);
    const a = h.f.actors.customerA1;
    listA = await svc().createList(a, { name: 'Newsletter', domainId: h.f.domains.a1.main!, doubleOptIn: false, text: 'Yes, send me the <newsletter> & offers (v1)' });
    rec1 = await svc().addRecord(a, listA, { email: 'jane@example.com', status: 'confirmed', method: 'web_form', consentedAt: new Date('2026-01-02T03:04:05Z'), source: 'https://shop/form', ip: '192.0.2.10' });
    await svc().updateText(a, listA, 'Send me news v2');
    rec2 = await svc().addRecord(a, listA, { email: 'joe@example.com', status: 'pending', method: 'manual' });
    await svc().revokeRecord(a, rec1, 'complaint');
    // A second list of the same account: its events share the chain; events after the last one about listA are not exported.
    otherListA = await svc().createList(a, { name: 'Shop', domainId: h.f.domains.a1.addon!, doubleOptIn: false, text: 'Shop text' });
    await svc().addRecord(a, otherListA, { email: 'later@example.com', status: 'pending', method: 'manual' });
    listB = await svc().createList(h.f.actors.customerB1, { name: 'B news', domainId: h.f.domains.b1.main!, doubleOptIn: false, text: 'B text' });
    recB = await svc().addRecord(h.f.actors.customerB1, listB, { email: 'b@example.com', status: 'pending', method: 'manual' });
  });
  afterAll(async () => {
    await h?.cleanup();
  });

  const storedEvents = async (accountId: number) =>
    (await h.db('consent_events').where('account_id', accountId).orderBy('seq')) as Array<{ seq: number; record_id: number | null; list_id: number; hash: string; data: string | null }>;

  it('a record bundle holds account, list, domain, the referenced text, the record and the chain from seq 1 to its last event', async () => {
    const b = await svc().evidence(h.f.actors.customerA1, { kind: 'record', id: rec1 });
    expect(b).toMatchObject({ format: 'antispam-consent-evidence', formatVersion: 1, scope: { kind: 'record', id: rec1 }, account: { id: h.f.accounts.a1, username: h.f.usernames.a1 }, list: { id: listA, name: 'Newsletter', currentTextVersion: 2 }, sendingDomain: h.f.domainNames.a1.main });
    expect(b.consentTexts.map((t) => [t.version, t.text])).toEqual([[1, 'Yes, send me the <newsletter> & offers (v1)']]);
    expect(b.records).toHaveLength(1);
    expect(b.records[0]).toMatchObject({ id: rec1, email: 'jane@example.com', status: 'revoked', revokedHow: 'complaint', method: 'web_form', ip: '192.0.2.10', consentedAt: '2026-01-02T03:04:05.000Z', consentTextVersion: 1 });
    const rows = await storedEvents(h.f.accounts.a1);
    const lastOfRecord = Math.max(...rows.filter((r) => Number(r.record_id) === rec1).map((r) => Number(r.seq)));
    expect(b.chain.events.map((e) => e.seq)).toEqual(Array.from({ length: lastOfRecord }, (_, i) => i + 1));
    expect(b.chain.events.length).toBeLessThan(rows.length);
    expect(b.chain.events[0]!.prev_hash).toBe(genesisHash);
    expect(b.chain.lastHash).toBe(rows[lastOfRecord - 1]!.hash);
    expect(b.records[0]!.eventSeqs).toHaveLength(2);
    // Fields exactly as stored (and hashed): `at` and `data` as the database text.
    const e1 = b.chain.events[0]!;
    expect(Object.keys(e1).sort()).toEqual(['account_id', 'actor', 'at', 'data', 'hash', 'id', 'list_id', 'prev_hash', 'record_id', 'seq', 'type']);
    expect(e1.at).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$/);
    expect(e1.data).toBe(rows[0]!.data);
  });

  it('a list bundle holds every record, every text version, and the chain up to the list\'s last event', async () => {
    const b = await svc().evidence(h.f.actors.customerA1, { kind: 'list', id: listA });
    expect(b.records.map((r) => [r.email, r.status])).toEqual([['jane@example.com', 'revoked'], ['joe@example.com', 'pending']]);
    expect(b.consentTexts.map((t) => t.version)).toEqual([1, 2]);
    const rows = await storedEvents(h.f.accounts.a1);
    const lastOfList = Math.max(...rows.filter((r) => Number(r.list_id) === listA).map((r) => Number(r.seq)));
    expect(b.chain.lastSeq).toBe(lastOfList);
    expect(b.chain.events.every((e) => e.list_id === listA)).toBe(true);
    expect(rows.length).toBeGreaterThan(lastOfList);
    // An admin reaches any account (the CLI uses systemActor); a customer does not reach another account's list.
    expect((await svc().evidence(h.f.actors.admin, { kind: 'list', id: listB })).records.map((r) => r.email)).toEqual(['b@example.com']);
    await expect(svc().evidence(h.f.actors.customerA1, { kind: 'list', id: listB })).rejects.toBeInstanceOf(NotFoundError);
  });

  it('the standalone verifier says OK on fresh bundles (JSON and the printable page) and names the problem in tampered ones', async () => {
    const record = await svc().evidence(h.f.actors.customerA1, { kind: 'record', id: rec1 });
    const list = await svc().evidence(h.f.actors.customerA1, { kind: 'list', id: listA });
    const ok = await verify(record);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(new RegExp(`^OK .*: account ${h.f.usernames.a1} .*${record.chain.events.length} chain events recomputed from genesis.*1 record, 1 consent text.*last hash ${record.chain.lastHash}`));
    const okList = await verify(list);
    expect(okList.code, okList.stdout).toBe(0);
    expect(okList.stdout).toContain('2 records, 2 consent texts');
    const page = await a1.agent.get(`/customer/consent/lists/${listA}/evidence.html`);
    const okPage = await verify(page.text, 'html');
    expect(okPage.code, okPage.stdout).toBe(0);

    const email = clone(record);
    email.records[0]!.email = 'someone-else@example.com';
    const badEmail = await verify(email);
    expect(badEmail.code).toBe(1);
    expect(badEmail.stdout).toMatch(/FAIL .*record \d+ \(someone-else@example.com\): the email does not match the chain, which added jane@example.com/);

    const data = clone(record);
    const target = data.chain.events.find((e) => e.record_id === rec1)!;
    target.data = target.data!.replace('192.0.2.10', '192.0.2.99');
    const badData = await verify(data);
    expect(badData.code).toBe(1);
    expect(badData.stdout).toContain(`event seq ${target.seq} (id ${target.id}): hash does not match the event's contents`);

    const gap = clone(list);
    gap.chain.events.splice(2, 1);
    const badGap = await verify(gap);
    expect(badGap.code).toBe(1);
    expect(badGap.stdout).toContain('sequence gap: expected seq 3');

    const status = clone(record);
    status.records[0]!.status = 'confirmed';
    expect((await verify(status)).stdout).toMatch(/status confirmed does not match its last event in the chain \(seq \d+: revoked\)/);

    const text = clone(list);
    text.consentTexts[0]!.text = 'Something nobody agreed to';
    expect((await verify(text)).stdout).toContain('consent text version 1: differs from the text recorded in the chain');
  });

  it('`consent export` (CLI, admin reach) prints or writes the bundle, which the verifier accepts', async () => {
    const url = h.t.config.client === 'sqlite' ? `sqlite:${h.t.config.filename}` : h.t.config.url;
    const tsx = path.join(root, 'node_modules/.bin/tsx');
    const printed = await run(tsx, ['src/cli/main.ts', 'consent', 'export', '--record', String(recB)], { cwd: root, env: { DATABASE_URL: url } });
    expect(printed.code, printed.stderr).toBe(0);
    const bundle = JSON.parse(printed.stdout) as EvidenceBundle;
    expect(bundle.records.map((r) => r.email)).toEqual(['b@example.com']);
    expect(bundle.generatedBy).toBe('system');
    const out = path.join(verifierDir, 'cli-list.json');
    const written = await run(tsx, ['src/cli/main.ts', 'consent', 'export', '--list', String(listA), '--out', out], { cwd: root, env: { DATABASE_URL: url } });
    expect(written.code, written.stderr).toBe(0);
    expect(written.stdout).toContain(`Wrote ${out}: 2 record(s)`);
    const checked = await run(process.execPath, ['verify-bundle.mjs', out], { cwd: verifierDir });
    expect(checked.code, checked.stdout).toBe(0);
    const both = await run(tsx, ['src/cli/main.ts', 'consent', 'export', '--record', '1', '--list', '1'], { cwd: root, env: { DATABASE_URL: url } });
    expect(both.code).toBe(1);
    expect(both.stderr).toContain('exactly one of --record');
    const missing = await run(tsx, ['src/cli/main.ts', 'consent', 'export', '--record', '999999'], { cwd: root, env: { DATABASE_URL: url } });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/not found/i);
  });

  it('another customer\'s record or list evidence is 404 through the real app', async () => {
    for (const p of [`/customer/consent/records/${recB}/evidence.json`, `/customer/consent/records/${recB}/evidence.html`, `/customer/consent/lists/${listB}/evidence.json`, `/customer/consent/lists/${listB}/evidence.html`]) {
      const res = await a1.agent.get(p);
      expect(res.status, p).toBe(404);
      expect(res.text, p).not.toContain('b@example.com');
    }
  });

  it('the record and list pages link to the evidence; the JSON downloads; the printable page shows the address and consent text', async () => {
    const recordPage = await a1.agent.get(`/customer/consent/records/${rec1}`);
    expect(recordPage.text).toContain(`href="/customer/consent/records/${rec1}/evidence.json">Download evidence (JSON)</a>`);
    expect(recordPage.text).toContain(`href="/customer/consent/records/${rec1}/evidence.html">Printable evidence</a>`);
    const listPage = await a1.agent.get(`/customer/consent/lists/${listA}`);
    expect(listPage.text).toContain(`href="/customer/consent/lists/${listA}/evidence.json">Download evidence (JSON)</a>`);

    const json = await a1.agent.get(`/customer/consent/records/${rec1}/evidence.json`);
    expect(json.status).toBe(200);
    expect(json.headers['content-type']).toMatch(/^application\/json/);
    expect(json.headers['content-disposition']).toMatch(new RegExp(`^attachment; filename="?consent-evidence-${h.f.usernames.a1}-record-${rec1}\\.json"?$`));
    expect((JSON.parse(json.text) as EvidenceBundle).records[0]!.email).toBe('jane@example.com');

    const html = await a1.agent.get(`/customer/consent/records/${rec1}/evidence.html`);
    expect(html.status).toBe(200);
    expect(html.headers['content-type']).toMatch(/^text\/html/);
    expect(html.text).toMatch(/^<!doctype html>/);
    expect(html.text).toContain('<h3 data-testid="evidence-record">jane@example.com</h3>');
    expect(html.text).toContain('<blockquote data-testid="consent-text">Yes, send me the &lt;newsletter&gt; &amp; offers (v1)</blockquote>');
    expect(html.text).toContain('<pre id="evidence-json">');
    expect(html.text).not.toContain('<script');
    expect(html.text).not.toContain('name="_csrf"');
  });
});
