import type { Knex } from 'knex';
import { auditRepository } from '../audit/auditRepository';
import { toDbTime, toNumber } from '../db/dialect';
import { applyLadder } from '../enforcement/ladderActions';
import type { Clock } from '../lib/clock';
import { enqueueNotice } from '../notices/noticeQueue';
import { strikeRepository } from '../strikes/strikeRepository';
import { readPostmasterSettings } from './settings';

const dayMs = 86_400_000;
const actor = 'postmaster-check';

/**
 * Persistent failure escalates, carrot before stick: a failing domain (missing or undeliverable)
 * first gets a notice to the customer (copy to the reseller); if it still fails `escalationGraceDays`
 * after that notice, a strike is recorded and the enforcement ladder runs, in one transaction.
 * A domain that passes again starts over.
 */
export async function notifyAndEscalate(deps: { db: Knex; clock: Clock }): Promise<{ notified: number; escalated: number }> {
  const { db, clock } = deps;
  const { settings } = await readPostmasterSettings(db);
  const now = clock.now();
  const failing = () => db('postmaster_status as p').join('domains as d', 'd.id', 'p.domain_id').join('accounts as a', 'a.id', 'p.account_id').whereIn('p.verdict', ['missing', 'undeliverable']).whereNot('a.status', 'terminated');

  const toNotify = (await failing().whereNull('p.notified_at').select('p.domain_id', 'p.account_id', 'p.verdict', 'p.reason', 'p.failing_since', 'd.name')) as Array<Record<string, unknown>>;
  for (const row of toNotify) {
    const domainId = toNumber(row.domain_id);
    await db.transaction(async (trx) => {
      await enqueueNotice(
        trx,
        {
          key: `postmaster:${domainId}:${String(row.failing_since)}`,
          kind: 'postmaster_failing',
          accountId: toNumber(row.account_id),
          reason: `${String(row.name)}: ${String(row.reason)}`,
          nextStep: settings.escalationEnabled
            ? `Fix postmaster@${String(row.name)} within ${settings.escalationGraceDays} days. If it still does not work then, a strike is recorded against the account under the anti-spam policy, which can lead to suspension.`
            : `Fix postmaster@${String(row.name)} as soon as possible.`,
          createdBy: actor,
        },
        now,
      );
      await trx('postmaster_status').where('domain_id', domainId).update({ notified_at: toDbTime(now) });
    });
  }

  let escalated = 0;
  if (settings.escalationEnabled) {
    const cutoff = toDbTime(new Date(now.getTime() - settings.escalationGraceDays * dayMs));
    const due = (await failing().whereNotNull('p.notified_at').where('p.notified_at', '<=', cutoff).whereNull('p.escalated_at').select('p.domain_id', 'p.account_id', 'p.verdict', 'p.reason', 'p.notified_at', 'd.name')) as Array<Record<string, unknown>>;
    for (const row of due) {
      const domainId = toNumber(row.domain_id);
      const accountId = toNumber(row.account_id);
      const reason = `postmaster@${String(row.name)} is ${String(row.verdict)} ${settings.escalationGraceDays} days after the notice: ${String(row.reason)}`;
      await db.transaction(async (trx) => {
        // Marked first (and only if still due): a second instance running the same step does nothing.
        const taken = await trx('postmaster_status').where('domain_id', domainId).whereNull('escalated_at').update({ escalated_at: toDbTime(now) });
        if (!taken) return;
        const strikeId = await strikeRepository.add(trx, { accountId, source: 'postmaster', complaintId: null, reason }, now);
        await auditRepository.append(trx, { actorUserId: null, actorLogin: actor, action: 'postmaster.escalate', subjectType: 'account', subjectId: accountId, data: { domain: row.name, verdict: row.verdict, strikeId } }, now);
        if (strikeId !== null) await applyLadder(trx, { strikeId, accountId, reason }, now);
        escalated += 1;
      });
    }
  }
  return { notified: toNotify.length, escalated };
}
