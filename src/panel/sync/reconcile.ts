import { chunksOf } from '../../lib/chunks';
import type { Knex } from 'knex';
import { numberOrNull, toDbBool, toDbTime, toNumber } from '../../db/dialect';
import type { AccountStatus, OutgoingMailState } from '../../tenancy/types';
import type { PanelAccount, PanelDomain } from '../panelAdapter';

/** What one server's panel reported, read in a fixed number of calls. */
export interface PanelSnapshot {
  accounts: PanelAccount[];
  domains: PanelDomain[];
  resellers: string[];
}

export interface SyncCounts {
  accountsAdded: number;
  accountsUpdated: number;
  accountsTerminated: number;
  domainsAdded: number;
  domainsUpdated: number;
  domainsRemoved: number;
}

interface AccountRow {
  id: number;
  username: string;
  owner_account_id: number | null;
  is_reseller: boolean;
  contact_email: string | null;
  plan: string | null;
  status: AccountStatus;
  outgoing_mail: OutgoingMailState;
}

const chunkSize = 400;

const chunks = <T>(items: T[], size = chunkSize): T[][] => chunksOf(items, size);

async function loadAccounts(trx: Knex.Transaction, serverId: number): Promise<Map<string, AccountRow>> {
  const rows = (await trx('accounts')
    .select('id', 'username', 'owner_account_id', 'is_reseller', 'contact_email', 'plan', 'status', 'outgoing_mail')
    .where('server_id', serverId)) as Record<string, unknown>[];
  return new Map(
    rows.map((r) => [
      String(r.username),
      {
        id: toNumber(r.id),
        username: String(r.username),
        owner_account_id: numberOrNull(r.owner_account_id),
        is_reseller: r.is_reseller === 1 || r.is_reseller === true || r.is_reseller === '1',
        contact_email: (r.contact_email as string | null) ?? null,
        plan: (r.plan as string | null) ?? null,
        status: r.status as AccountStatus,
        outgoing_mail: r.outgoing_mail as OutgoingMailState,
      },
    ]),
  );
}

/**
 * Brings the closure rows of one server's accounts in line with their owner links (owners live on the
 * same server). Only the rows that differ are written, each addressed by its primary key. (A range
 * delete of the whole server's rows would lock index gaps and other servers' rows on MySQL/MariaDB,
 * and servers syncing in parallel would deadlock.)
 */
async function rebuildTree(trx: Knex.Transaction, accounts: Map<string, AccountRow>): Promise<void> {
  const ownerOf = new Map<number, number | null>([...accounts.values()].map((a) => [a.id, a.owner_account_id]));
  const key = (ancestor: number, account: number) => `${ancestor}:${account}`;
  const wanted = new Map<string, { ancestor_id: number; account_id: number; depth: number }>();
  for (const id of ownerOf.keys()) {
    wanted.set(key(id, id), { ancestor_id: id, account_id: id, depth: 0 });
    const seen = new Set([id]);
    let owner = ownerOf.get(id) ?? null;
    for (let depth = 1; owner !== null && ownerOf.has(owner) && !seen.has(owner); depth++) {
      wanted.set(key(owner, id), { ancestor_id: owner, account_id: id, depth });
      seen.add(owner); // a panel cannot have ownership cycles, but a bad snapshot must not loop forever
      owner = ownerOf.get(owner) ?? null;
    }
  }
  const current = new Map<string, { ancestor_id: number; account_id: number; depth: number }>();
  for (const part of chunks([...ownerOf.keys()])) {
    for (const r of (await trx('account_tree').select('ancestor_id', 'account_id', 'depth').whereIn('account_id', part)) as Record<string, unknown>[]) {
      const row = { ancestor_id: toNumber(r.ancestor_id), account_id: toNumber(r.account_id), depth: toNumber(r.depth) };
      current.set(key(row.ancestor_id, row.account_id), row);
    }
  }
  const goneByAncestor = new Map<number, number[]>();
  for (const [k, row] of current) {
    if (wanted.has(k)) continue;
    const ids = goneByAncestor.get(row.ancestor_id) ?? [];
    ids.push(row.account_id);
    goneByAncestor.set(row.ancestor_id, ids);
  }
  for (const [ancestor, ids] of goneByAncestor) {
    for (const part of chunks(ids)) await trx('account_tree').where('ancestor_id', ancestor).whereIn('account_id', part).delete();
  }
  for (const [k, row] of wanted) {
    const had = current.get(k);
    if (had && had.depth !== row.depth) await trx('account_tree').where({ ancestor_id: row.ancestor_id, account_id: row.account_id }).update({ depth: row.depth });
  }
  const fresh = [...wanted.entries()].filter(([k]) => !current.has(k)).map(([, row]) => row);
  for (const part of chunks(fresh, 300)) await trx('account_tree').insert(part);
}

/**
 * Makes the database match one server's panel snapshot, in the caller's transaction: new accounts
 * added, changed ones updated, vanished ones marked terminated (their rows and history stay), and the
 * domains of live accounts added, moved or removed.
 */
export async function reconcileServer(trx: Knex.Transaction, serverId: number, snapshot: PanelSnapshot, now: Date): Promise<SyncCounts> {
  const at = toDbTime(now);
  const counts: SyncCounts = { accountsAdded: 0, accountsUpdated: 0, accountsTerminated: 0, domainsAdded: 0, domainsUpdated: 0, domainsRemoved: 0 };
  const resellers = new Set(snapshot.resellers.map((r) => r.toLowerCase()));
  const panelAccounts = new Map(snapshot.accounts.map((a) => [a.username.toLowerCase(), a]));
  const existing = await loadAccounts(trx, serverId);

  const fresh = [...panelAccounts.values()].filter((a) => !existing.has(a.username));
  for (const part of chunks(fresh)) {
    await trx('accounts').insert(
      part.map((a) => ({
        server_id: serverId,
        username: a.username,
        owner_account_id: null,
        is_reseller: toDbBool(resellers.has(a.username)),
        contact_email: a.contactEmail?.toLowerCase() ?? null,
        plan: a.plan,
        status: a.suspended ? 'suspended' : 'active',
        outgoing_mail: a.outgoingMail,
        strikes: 0,
        created_at: at,
        updated_at: at,
      })),
    );
  }
  counts.accountsAdded = fresh.length;
  const accounts = fresh.length ? await loadAccounts(trx, serverId) : existing;
  const idOf = (username: string) => accounts.get(username)?.id ?? null;

  let ownersChanged = fresh.length > 0;
  for (const row of accounts.values()) {
    const panel = panelAccounts.get(row.username);
    if (!panel) {
      if (row.status !== 'terminated') {
        await trx('accounts').where('id', row.id).update({ status: 'terminated', updated_at: at });
        row.status = 'terminated';
        counts.accountsTerminated++;
      }
      continue;
    }
    const owner = panel.owner.toLowerCase();
    const desired = {
      owner_account_id: owner === 'root' || owner === row.username ? null : idOf(owner),
      is_reseller: resellers.has(row.username),
      contact_email: panel.contactEmail?.toLowerCase() ?? null,
      plan: panel.plan,
      status: (panel.suspended ? 'suspended' : 'active') as AccountStatus,
      outgoing_mail: panel.outgoingMail,
    };
    const changed =
      desired.owner_account_id !== row.owner_account_id ||
      desired.is_reseller !== row.is_reseller ||
      desired.contact_email !== row.contact_email ||
      desired.plan !== row.plan ||
      desired.status !== row.status ||
      desired.outgoing_mail !== row.outgoing_mail;
    if (!changed) continue;
    if (desired.owner_account_id !== row.owner_account_id) ownersChanged = true;
    await trx('accounts')
      .where('id', row.id)
      .update({ ...desired, is_reseller: toDbBool(desired.is_reseller), updated_at: at });
    Object.assign(row, desired);
    if (existing.has(row.username)) counts.accountsUpdated++;
  }
  if (ownersChanged) await rebuildTree(trx, accounts);

  // Domains: names are unique across servers, so look them up by name (an account may have moved here).
  const wanted = new Map<string, { accountId: number; type: PanelDomain['type'] }>();
  for (const d of snapshot.domains) {
    const accountId = idOf(d.username.toLowerCase());
    if (accountId !== null) wanted.set(d.domain.toLowerCase(), { accountId, type: d.type });
  }
  const known = new Map<string, { id: number; account_id: number; type: string }>();
  for (const names of chunks([...wanted.keys()])) {
    for (const r of (await trx('domains').select('id', 'name', 'account_id', 'type').whereIn('name', names)) as Record<string, unknown>[]) {
      known.set(String(r.name), { id: toNumber(r.id), account_id: toNumber(r.account_id), type: String(r.type) });
    }
  }
  const toInsert = [...wanted.entries()].filter(([name]) => !known.has(name));
  for (const part of chunks(toInsert)) {
    await trx('domains').insert(part.map(([name, d]) => ({ account_id: d.accountId, name, type: d.type, mail_hosted: toDbBool(true), created_at: at, updated_at: at })));
  }
  counts.domainsAdded = toInsert.length;
  for (const [name, row] of known) {
    const d = wanted.get(name)!;
    if (row.account_id === d.accountId && row.type === d.type) continue;
    await trx('domains').where('id', row.id).update({ account_id: d.accountId, type: d.type, updated_at: at });
    counts.domainsUpdated++;
  }
  // Domains the panel no longer lists for a live account of this server are gone; terminated accounts keep theirs.
  const liveAccounts = trx('accounts').select('id').where('server_id', serverId).whereNot('status', 'terminated');
  const stale = ((await trx('domains').select('id', 'name').whereIn('account_id', liveAccounts)) as Array<{ id: unknown; name: string }>).filter((r) => !wanted.has(String(r.name)));
  for (const part of chunks(stale.map((r) => toNumber(r.id)))) await trx('domains').whereIn('id', part).delete();
  counts.domainsRemoved = stale.length;
  return counts;
}
