import crypto from 'node:crypto';
import type { Knex } from 'knex';
import { insertedId, toDbBool, toDbTime } from '../db/dialect';

/**
 * Rows the enforcement pages read, written directly for tests of notices and standing pages:
 * a valid complaint (with its stored message), a strike, a panel action. No ladder runs.
 */
export async function insertValidComplaint(
  db: Knex,
  c: { accountId: number; domainId?: number | null; resellerAccountId?: number | null; recipient: string | null; at: Date },
): Promise<number> {
  const at = toDbTime(c.at);
  const raw = Buffer.from(`complaint ${crypto.randomUUID()}`);
  const messageId = insertedId(
    await db('complaint_messages').insert({ sha256: crypto.createHash('sha256').update(raw).digest('hex'), size_bytes: raw.length, raw, received_via: 'api', received_by: 'test', received_at: at, parse_status: 'parsed' }),
  );
  return insertedId(
    await db('complaints').insert({
      message_id: messageId,
      recipient_no: 0,
      recipient: c.recipient,
      recipient_redaction: c.recipient ? 'none' : 'redacted',
      is_complaint: toDbBool(true),
      arrival_at: at,
      received_at: at,
      domain_id: c.domainId ?? null,
      account_id: c.accountId,
      reseller_account_id: c.resellerAccountId ?? null,
      attribution: 'high',
      status: 'valid',
      decision_reason: 'No consent record for the recipient.',
      desk_status: 'new',
      created_at: at,
      updated_at: at,
    }),
  );
}

/** A strike (active unless lifted) and the account's active-strike count kept in step. */
export async function insertStrike(db: Knex, s: { accountId: number; complaintId: number | null; reason: string; at: Date; lifted?: { at: Date; reason: string } }): Promise<number> {
  const id = insertedId(
    await db('strikes').insert({
      account_id: s.accountId,
      source: s.complaintId ? 'complaint' : 'manual',
      complaint_id: s.complaintId,
      reason: s.reason,
      created_at: toDbTime(s.at),
      lifted_at: s.lifted ? toDbTime(s.lifted.at) : null,
      lifted_reason: s.lifted?.reason ?? null,
    }),
  );
  if (!s.lifted) await db('accounts').where('id', s.accountId).increment('strikes', 1);
  return id;
}

export async function insertPanelAction(db: Knex, a: { key: string; kind: string; serverId: number; accountId: number; username: string; reason: string; status: string; at: Date; doneAt?: Date }): Promise<number> {
  const at = toDbTime(a.at);
  return insertedId(
    await db('panel_actions').insert({
      idempotency_key: a.key,
      kind: a.kind,
      server_id: a.serverId,
      account_id: a.accountId,
      username: a.username,
      reason: a.reason,
      origin: 'ladder',
      requested_by: 'policy-ladder',
      status: a.status,
      created_at: at,
      updated_at: at,
      done_at: a.doneAt ? toDbTime(a.doneAt) : null,
    }),
  );
}
