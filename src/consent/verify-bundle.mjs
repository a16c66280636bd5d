#!/usr/bin/env node
// Standalone verifier for consent evidence bundles (format "antispam-consent-evidence").
// Plain Node (>= 18), no dependencies: copy this one file anywhere and run
//
//   node verify-bundle.mjs bundle.json        (or the printable .html page, which embeds the same JSON)
//
// It recomputes every event hash from the genesis hash with the same canonical serialisation as the
// plugin (src/lib/hashChain.ts, the chain of src/consent/chain.ts; repeated here so this file stays
// self-contained):  hash = sha256(prev_hash + canonicalJson(fields)), where fields are
// account_id, seq, record_id, list_id, type, at, actor, data (as stored) and canonicalJson sorts object
// keys at every level. It checks seq continuity and prev links, that every exported record's events are
// in the segment and agree with the record (email, list, current status), and that each consent text
// matches the text recorded in the chain. Prints "OK ..." and exits 0, or the first problem and exits 1.
import crypto from 'node:crypto';
import fs from 'node:fs';

const GENESIS = '0'.repeat(64);

function canonicalJson(value) {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

function eventHash(prev, e) {
  const fields = { account_id: e.account_id, seq: e.seq, record_id: e.record_id, list_id: e.list_id, type: e.type, at: e.at, actor: e.actor, data: e.data };
  return crypto.createHash('sha256').update(prev).update(canonicalJson(fields)).digest('hex');
}

/** The JSON bundle, from a .json file or from the <pre id="evidence-json"> of the printable page. */
function readBundle(file) {
  const text = fs.readFileSync(file, 'utf8');
  if (text.trimStart().startsWith('{')) return JSON.parse(text);
  const match = /<pre id="evidence-json">([\s\S]*?)<\/pre>/.exec(text);
  if (!match) throw new Error('no JSON bundle found (expected a .json bundle or the printable page with <pre id="evidence-json">)');
  const unescaped = match[1].replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&#34;/g, '"').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
  return JSON.parse(unescaped);
}

const parseData = (e) => {
  if (e.data === null) return {};
  try {
    return JSON.parse(e.data);
  } catch {
    return null;
  }
};

/** A `records_imported` event (CSV import) covers a batch of records: the entry of one address, or null. */
function importedEntry(e, email) {
  const data = parseData(e);
  const entry = Array.isArray(data?.records) ? data.records.find((x) => x && x.email === email) : undefined;
  return entry ?? null;
}

/** The data of an event as it concerns the record with `email`. */
const dataFor = (e, email) => (e.type === 'records_imported' ? importedEntry(e, email) : parseData(e));

/** The status an event leaves its record in, or null when the event does not change the status. */
function statusAfter(e, data) {
  if (data && typeof data.status === 'string') return data.status;
  if ((data && typeof data.revokedAt === 'string') || /(revoked|suppressed|unsubscribed)$/.test(e.type)) return 'revoked';
  return null;
}

/** Returns the first problem as a string, or null with `stats` filled in. */
function verifyBundle(bundle, stats = {}) {
  if (!bundle || bundle.format !== 'antispam-consent-evidence') return 'not a consent evidence bundle (format is not "antispam-consent-evidence")';
  const events = bundle.chain?.events;
  if (!Array.isArray(events) || !events.length) return 'the bundle has no chain events';
  const accountId = bundle.account?.id;

  let prev = GENESIS;
  const bySeq = new Map();
  for (let i = 0; i < events.length; i++) {
    const e = events[i];
    const where = `event seq ${e.seq} (id ${e.id})`;
    if (e.seq !== i + 1) return `sequence gap: expected seq ${i + 1} at position ${i + 1}, found seq ${e.seq} (id ${e.id}): an event is missing or out of order`;
    if (e.account_id !== accountId) return `${where}: account_id ${e.account_id} is not the bundle's account ${accountId}`;
    if (e.prev_hash !== prev) return `${where}: prev_hash does not match the previous event's hash`;
    const computed = eventHash(prev, e);
    if (computed !== e.hash) return `${where}: hash does not match the event's contents (recomputed ${computed}, bundle says ${e.hash})`;
    if (e.data !== null && parseData(e) === null) return `${where}: data is not valid JSON`;
    bySeq.set(e.seq, e);
    prev = e.hash;
  }
  const last = events[events.length - 1];
  if (bundle.chain.lastSeq !== last.seq || bundle.chain.lastHash !== last.hash) return `chain.lastSeq/lastHash (${bundle.chain.lastSeq}, ${bundle.chain.lastHash}) do not match the last event (seq ${last.seq}, ${last.hash})`;

  const listId = bundle.list?.id;
  for (const t of bundle.consentTexts ?? []) {
    const backing = events.find((e) => e.list_id === listId && e.record_id === null && parseData(e)?.textVersion === t.version);
    if (!backing) return `consent text version ${t.version}: no list event in the chain segment records this version`;
    if (parseData(backing).text !== t.text) return `consent text version ${t.version}: differs from the text recorded in the chain (event seq ${backing.seq})`;
  }

  const records = bundle.records ?? [];
  if (!records.length && bundle.scope?.kind === 'record') return 'the bundle exports a record but holds none';
  for (const r of records) {
    const label = `record ${r.id} (${r.email})`;
    // Its own events, and the records_imported event of its list that names its address (CSV import).
    const own = events.filter((e) => e.record_id === r.id || (e.type === 'records_imported' && e.list_id === r.listId && importedEntry(e, r.email)));
    if (!own.length) return `${label}: none of its events is in the chain segment`;
    const seqs = own.map((e) => e.seq);
    if (Array.isArray(r.eventSeqs) && r.eventSeqs.join(',') !== seqs.join(',')) return `${label}: its event list (seq ${r.eventSeqs.join(', ')}) does not match the chain (seq ${seqs.join(', ')})`;
    for (const e of own) if (e.list_id !== r.listId || r.listId !== listId) return `${label}: event seq ${e.seq} belongs to list ${e.list_id}, the record to list ${r.listId}`;
    const added = own[0];
    const addedData = dataFor(added, r.email);
    // The creating event (record_added, record_suppressed for an unsubscribe without a record, or records_imported) names the address.
    if (typeof addedData?.email !== 'string') return `${label}: its first event (seq ${added.seq}, ${added.type}) is not the event that created it`;
    if (addedData.email !== r.email) return `${label}: the email does not match the chain, which added ${addedData.email} (event seq ${added.seq})`;
    let status = null;
    let statusSeq = null;
    for (const e of own) {
      const s = statusAfter(e, dataFor(e, r.email));
      if (s) [status, statusSeq] = [s, e.seq];
    }
    if (status !== r.status) return `${label}: status ${r.status} does not match its last event in the chain (seq ${statusSeq}: ${status ?? 'no status'})`;
  }

  Object.assign(stats, { events: events.length, records: records.length, texts: (bundle.consentTexts ?? []).length, lastHash: last.hash });
  return null;
}

function main(argv) {
  const file = argv[2];
  if (!file || argv.length > 3) {
    process.stderr.write('usage: node verify-bundle.mjs <bundle.json | evidence.html>\n');
    return 2;
  }
  let bundle;
  try {
    bundle = readBundle(file);
  } catch (err) {
    process.stdout.write(`FAIL ${file}: cannot read the bundle: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
  const stats = {};
  const problem = verifyBundle(bundle, stats);
  if (problem) {
    process.stdout.write(`FAIL ${file}: ${problem}\n`);
    return 1;
  }
  process.stdout.write(
    `OK ${file}: account ${bundle.account.username} (id ${bundle.account.id}), list ${bundle.list.name} (${bundle.sendingDomain}): ` +
      `${stats.events} chain events recomputed from genesis (seq 1-${bundle.chain.lastSeq}), ${stats.records} record${stats.records === 1 ? '' : 's'}, ` +
      `${stats.texts} consent text${stats.texts === 1 ? '' : 's'} consistent; last hash ${stats.lastHash}\n`,
  );
  return 0;
}

process.exitCode = main(process.argv);
