import type { Knex } from 'knex';
import type { Actor } from '../tenancy/actor';

/**
 * How old the inbox's total and weekly trend can be, at most: complaints written by another process
 * (`complaints ingest` piped from the abuse@ mailbox, a second app instance) are counted within this
 * time. Writes made by this process (intake over the API or an upload, decisions, desk changes,
 * account moves) are seen at once: they invalidate the cache. views/complaints/inbox.ejs says so.
 */
export const inboxNumbersMaxAgeSeconds = 15;

/** Tables whose rows change a total or a trend: the complaints, and who reaches them (tree, usernames, domain names). */
const countedTables = /\b(complaints|account_tree|accounts|domains)\b/i;
const writeStatement = /^\s*(insert|update|delete|replace|truncate|alter|drop|create)\b/i;
/** The end of a transaction (not of a savepoint: nested transactions release or roll back to one). */
const endOfTransaction = /^\s*(commit|rollback)\s*;?\s*$/i;

/**
 * A number computed after a write is not kept when it started this soon after one: on MariaDB another
 * connection may not see a write (or its commit) yet while the query event has already fired.
 */
const settleMs = 250;
const maxEntries = 1000;

interface Entry {
  value: unknown;
  generation: number;
  storedAt: number;
}

interface QueryEvent {
  sql?: string;
  /** The connection. */
  __knexUid?: string;
  /** Set while the connection runs a transaction (a nested one leaves its own id there). */
  __knexTxId?: string;
}

/**
 * The inbox's total and weekly trend per tenant and filter, kept for `inboxNumbersMaxAgeSeconds`:
 * every inbox page (the listing, 50 at a time) would otherwise count all of a reseller's complaints
 * and group the last 12 weeks by day again, which costs more than the page itself (bench/complaints-inbox.ts).
 *
 * Keys start with the actor's role and account (`scopeKey`), and each number is computed with that
 * actor's scope: a reseller only ever gets numbers computed for their own reach. Any write statement
 * on the counted tables made through this knex instance (and the end of a transaction that made one)
 * drops every entry; concurrent requests for the same key share one computation.
 */
export class InboxNumbers {
  private generation = 0;
  private lastWriteAt = -Infinity;
  private readonly entries = new Map<string, Entry>();
  private readonly pending = new Map<string, { generation: number; promise: Promise<unknown> }>();
  /** Connections in a transaction that wrote a counted table: its commit (or rollback) drops every entry again. */
  private readonly inDirtyTransaction = new Set<string>();

  constructor(
    db: Knex,
    private readonly maxAgeMs = inboxNumbersMaxAgeSeconds * 1000,
    private readonly now: () => number = () => performance.now(),
  ) {
    const onStatement = (q: QueryEvent) => {
      // The statement's start names its table (a multi-row insert of raw messages can be long).
      const sql = (q.sql ?? '').slice(0, 1000);
      if (writeStatement.test(sql) && countedTables.test(sql)) {
        if (q.__knexTxId && q.__knexUid) this.inDirtyTransaction.add(q.__knexUid);
        this.invalidate();
      } else if (q.__knexUid && endOfTransaction.test(sql) && this.inDirtyTransaction.delete(q.__knexUid)) {
        this.invalidate();
      }
    };
    db.on('query', onStatement);
    // Again when the statement has run: a computation that started in between read the rows before it.
    db.on('query-response', (_response: unknown, q: QueryEvent) => onStatement(q));
    db.on('query-error', (_err: unknown, q: QueryEvent) => onStatement(q));
  }

  /** The part of a key that names whose numbers they are. */
  static scopeKey(actor: Actor): string {
    return actor.role === 'admin' ? 'admin' : `${actor.role}:${actor.accountId ?? 'none'}`;
  }

  /** The kept value of `key`, or `compute()`'s (shared with concurrent callers, then kept if nothing was written meanwhile). */
  async get<T>(key: string, compute: () => Promise<T>): Promise<T> {
    const entry = this.entries.get(key);
    if (entry && entry.generation === this.generation && this.now() - entry.storedAt < this.maxAgeMs) return entry.value as T;
    const running = this.pending.get(key);
    if (running && running.generation === this.generation) return running.promise as Promise<T>;

    const generation = this.generation;
    const startedAt = this.now();
    const promise = compute().then((value) => {
      if (this.generation === generation && startedAt - this.lastWriteAt > settleMs) this.keep(key, { value, generation, storedAt: startedAt });
      return value;
    });
    this.pending.set(key, { generation, promise });
    const forget = () => {
      if (this.pending.get(key)?.promise === promise) this.pending.delete(key);
    };
    promise.then(forget, forget);
    return promise;
  }

  private keep(key: string, entry: Entry): void {
    this.entries.delete(key);
    if (this.entries.size >= maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, entry);
  }

  private invalidate(): void {
    this.generation += 1;
    this.lastWriteAt = this.now();
    this.entries.clear();
  }
}

const perDatabase = new WeakMap<Knex, InboxNumbers>();

/** The cache of one database (one knex instance): tests and benches run several apps in one process. */
export function inboxNumbersOf(db: Knex): InboxNumbers {
  let numbers = perDatabase.get(db);
  if (!numbers) {
    numbers = new InboxNumbers(db);
    perDatabase.set(db, numbers);
  }
  return numbers;
}
