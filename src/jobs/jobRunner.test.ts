import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fromDbTime } from '../db/dialect';
import type { FixedClock } from '../lib/clock';
import { setLogLevel } from '../lib/logger';
import { testClock } from '../testing/factories';
import { engines, migratedTestDb, type TestDb } from '../testing/testDb';
import { JobRunner, type JobOutcome } from './jobRunner';

/** A promise the test settles by hand, to keep a job "running" while another runner tries. */
function deferred<T>(): { promise: Promise<T>; resolve(value: T): void; reject(err: unknown): void } {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Resolves once `started` has been called (the job body is running). */
function startedSignal(): { started(): void; wait: Promise<void> } {
  const d = deferred<void>();
  return { started: () => d.resolve(), wait: d.promise };
}

const leaseMs = 60_000;

describe.each(engines)('JobRunner on %s', (engine) => {
  let t: TestDb;
  let clock: FixedClock;

  beforeEach(async () => {
    setLogLevel('silent'); // a failing job logs a warning; keep the test output clean
    t = await migratedTestDb(engine);
    clock = testClock();
  });
  afterEach(async () => {
    await t.cleanup();
  });

  const leases = async () => (await t.db('job_leases').select('job', 'holder', 'expires_at')) as Array<{ job: string; holder: string; expires_at: unknown }>;
  const runs = async () => (await t.db('job_runs').orderBy('id')) as Array<Record<string, unknown>>;

  it('records a successful run with its trigger, subject, counts and times, and releases the lease', async () => {
    const runner = new JobRunner(t.db, clock, leaseMs);
    const result = await runner.run('count-things', 'manual', async () => {
      expect(await leases()).toEqual([expect.objectContaining({ job: 'count-things:srv1', holder: runner.holder })]);
      clock.advance(1500);
      return { counts: { added: 3, removed: 0 } };
    }, 'srv1');
    expect(result.ran).toBe(true);
    if (!result.ran) return;
    expect(result.run).toMatchObject({ job: 'count-things', subject: 'srv1', trigger: 'manual', status: 'ok', counts: { added: 3, removed: 0 }, error: null });
    expect(result.run.finishedAt!.getTime() - result.run.startedAt.getTime()).toBe(1500);
    expect(await leases()).toEqual([]);
    expect(await runner.recent(10, 'count-things')).toEqual([result.run]);
  });

  it('records an outcome with an error as failed but keeps its counts', async () => {
    const runner = new JobRunner(t.db, clock, leaseMs);
    const result = await runner.run('partial', 'schedule', async () => ({ counts: { ok: 2, failed: 1 }, error: 'one server failed' }));
    expect(result.ran && result.run).toMatchObject({ status: 'failed', counts: { ok: 2, failed: 1 }, error: 'one server failed', subject: null });
  });

  it('a second runner (another holder) is told busy while the first runs, and runs once the lease is released', async () => {
    const first = new JobRunner(t.db, clock, leaseMs);
    const second = new JobRunner(t.db, clock, leaseMs);
    expect(second.holder).not.toBe(first.holder);
    const gate = deferred<JobOutcome>();
    const signal = startedSignal();
    const running = first.run('sync', 'schedule', () => {
      signal.started();
      return gate.promise;
    }, 'srv1');
    await signal.wait;

    let secondRan = false;
    expect(await second.run('sync', 'manual', async () => ((secondRan = true), { counts: {} }), 'srv1')).toEqual({ ran: false, reason: 'busy' });
    expect(secondRan).toBe(false);
    // The same holder is refused too: the lease is per job, not per process.
    expect(await first.run('sync', 'manual', async () => ({ counts: {} }), 'srv1')).toEqual({ ran: false, reason: 'busy' });
    // Another subject is another lease.
    const other = await second.run('sync', 'manual', async () => ({ counts: { n: 1 } }), 'srv2');
    expect(other.ran).toBe(true);

    gate.resolve({ counts: { n: 7 } });
    const done = await running;
    expect(done.ran && done.run).toMatchObject({ status: 'ok', counts: { n: 7 }, subject: 'srv1', trigger: 'schedule' });
    // A busy attempt leaves no job_runs row: only the two runs that happened are recorded.
    expect((await runs()).map((r) => r.subject)).toEqual(['srv1', 'srv2']);
    expect(await leases()).toEqual([]);
    const after = await second.run('sync', 'manual', async () => ({ counts: { n: 8 } }), 'srv1');
    expect(after.ran).toBe(true);
  });

  it('an expired lease is taken over by another holder, and the stale holder finishing does not free the new lease', async () => {
    const first = new JobRunner(t.db, clock, leaseMs);
    const second = new JobRunner(t.db, clock, leaseMs);
    const third = new JobRunner(t.db, clock, leaseMs);
    const firstGate = deferred<JobOutcome>();
    const firstStarted = startedSignal();
    const firstRun = first.run('sync', 'schedule', () => {
      firstStarted.started();
      return firstGate.promise;
    });
    await firstStarted.wait;

    // Just before expiry the lease still holds.
    clock.advance(leaseMs - 1);
    expect(await second.run('sync', 'manual', async () => ({ counts: {} }))).toEqual({ ran: false, reason: 'busy' });

    // Past expiry (a crashed instance never released it) another holder takes over.
    clock.advance(2);
    const secondGate = deferred<JobOutcome>();
    const secondStarted = startedSignal();
    const secondRun = second.run('sync', 'manual', () => {
      secondStarted.started();
      return secondGate.promise;
    });
    await secondStarted.wait;
    const lease = (await leases())[0]!;
    expect(lease.holder).toBe(second.holder);
    expect(fromDbTime(lease.expires_at).getTime()).toBe(clock.now().getTime() + leaseMs);

    // The first run ends late: it must release only its own lease, not the second holder's.
    firstGate.resolve({ counts: { late: 1 } });
    expect((await firstRun).ran).toBe(true);
    expect((await leases()).map((l) => l.holder)).toEqual([second.holder]);
    expect(await third.run('sync', 'manual', async () => ({ counts: {} }))).toEqual({ ran: false, reason: 'busy' });

    secondGate.resolve({ counts: { n: 1 } });
    expect((await secondRun).ran).toBe(true);
    expect(await leases()).toEqual([]);
    expect((await runs()).map((r) => [r.trigger, r.status])).toEqual([
      ['schedule', 'ok'],
      ['manual', 'ok'],
    ]);
  });

  it('a throwing job is recorded as failed with the error, rethrown, and frees the lease', async () => {
    const runner = new JobRunner(t.db, clock, leaseMs);
    const boom = new Error('WHM srv1: listaccts: HTTP 403: access denied');
    await expect(
      runner.run('sync', 'hook', async () => {
        clock.advance(250);
        throw boom;
      }, 'srv1'),
    ).rejects.toBe(boom);
    const [run] = await runner.recent(1);
    expect(run).toMatchObject({ job: 'sync', subject: 'srv1', trigger: 'hook', status: 'failed', counts: null, error: boom.message });
    expect(run!.finishedAt!.getTime() - run!.startedAt.getTime()).toBe(250);
    expect(await leases()).toEqual([]);
    // A non-Error throw is recorded by its string form.
    await expect(runner.run('sync', 'hook', () => Promise.reject('plain string'), 'srv1')).rejects.toBe('plain string');
    expect((await runner.recent(1))[0]).toMatchObject({ status: 'failed', error: 'plain string' });
    // And the next run is not blocked.
    expect((await runner.run('sync', 'hook', async () => ({ counts: {} }), 'srv1')).ran).toBe(true);
  });

  it('runs and leases jobs whose subject is long (server names may have up to 191 characters)', async () => {
    const longName = `${'cpanel-node-17.'.repeat(12)}example.net`; // 191 characters
    expect(longName).toHaveLength(191);
    const other = `${longName.slice(0, -3)}org`; // same long prefix, another server
    const runner = new JobRunner(t.db, clock, leaseMs);
    const gate = deferred<JobOutcome>();
    const started = startedSignal();
    const running = runner.run('account-sync', 'manual', () => {
      started.started();
      return gate.promise;
    }, longName);
    // Fail at once (not by timeout) when the run was refused instead of started.
    await Promise.race([started.wait, running.then((r) => Promise.reject(new Error(`the job did not start: ${JSON.stringify(r)}`)))]);
    expect(await leases()).toHaveLength(1);
    // Still one lease per subject: the same long subject is busy, a different one is not.
    expect(await new JobRunner(t.db, clock, leaseMs).run('account-sync', 'manual', async () => ({ counts: {} }), longName)).toEqual({ ran: false, reason: 'busy' });
    expect((await new JobRunner(t.db, clock, leaseMs).run('account-sync', 'manual', async () => ({ counts: {} }), other)).ran).toBe(true);
    gate.resolve({ counts: { n: 1 } });
    const done = await running;
    expect(done.ran && done.run).toMatchObject({ subject: longName, status: 'ok' });
    expect(await leases()).toEqual([]);
  });

  it('a run that cannot even be recorded frees its lease (the next attempt is not blocked until expiry)', async () => {
    const runner = new JobRunner(t.db, clock, leaseMs);
    // job_runs.job holds 64 characters: MySQL/MariaDB (strict mode) refuses a longer name, SQLite stores it.
    const job = `j${'x'.repeat(70)}`;
    let ran = 0;
    const attempt = () => runner.run(job, 'manual', async () => ((ran += 1), { counts: {} }));
    const first = await attempt().then(
      (r) => r,
      (err: unknown) => err as Error,
    );
    if (first instanceof Error) expect(engine).toBe('mysql');
    else expect(first.ran).toBe(true);
    expect(await leases()).toEqual([]);
    // Not "busy": whatever happened the first time happens again.
    const second = await attempt().then(
      (r) => r,
      (err: unknown) => err as Error,
    );
    expect(second instanceof Error ? 'error' : second.ran).toBe(first instanceof Error ? 'error' : true);
    expect(ran).toBe(first instanceof Error ? 0 : 2);
  });

  it('of several runners racing for a free lease exactly one runs', async () => {
    const runners = Array.from({ length: 4 }, () => new JobRunner(t.db, clock, leaseMs));
    const gate = deferred<void>();
    let settled = 0;
    // The job that won waits until every other runner has answered, so none can run after it.
    const results = await Promise.all(
      runners.map((r) =>
        r
          .run('race', 'schedule', async () => {
            await gate.promise;
            return { counts: {} };
          })
          .finally(() => {
            if (++settled === runners.length - 1) gate.resolve();
          }),
      ),
    );
    expect(results.filter((r) => r.ran)).toHaveLength(1);
    expect(results.filter((r) => !r.ran)).toHaveLength(3);
    expect(await runs()).toHaveLength(1);
  });
});
