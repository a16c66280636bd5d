import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toDbTime, toNumber } from '../db/dialect';
import type { PageRequest } from '../lib/keyset';
import type { Actor } from '../tenancy/actor';
import { buildHarness, type Harness } from '../testing/appHarness';
import { engines } from '../testing/testDb';
import type { ComplaintFilters, ComplaintSort } from './complaintService';
import type { ComplaintStatus, DeskStatus } from './types';

const statuses: ComplaintStatus[] = ['valid', 'review', 'invalid', 'awaiting_evidence'];
const desks: DeskStatus[] = ['new', 'investigating', 'resolved'];

/**
 * The pages of the inbox (only the columns it shows, a total that may be kept briefly) and of `list`,
 * walked with the cursor, against the complaints of each reader's reach read directly.
 */
describe.each(engines)('complaint listing pages (inbox and list) on %s', { timeout: 120_000 }, (engine) => {
  let h: Harness;
  const rows: Array<{ id: number; accountId: number | null; status: ComplaintStatus; desk: DeskStatus }> = [];

  beforeAll(async () => {
    h = await buildHarness(engine);
    const at = toDbTime(h.clock.now());
    const [messageId] = await h.db('complaint_messages').insert({ sha256: 'f'.repeat(64), size_bytes: 1, raw: Buffer.from('x'), received_via: 'api', received_by: 'test', received_at: at, parse_status: 'parsed' });
    const message = engine === 'sqlite' ? toNumber(messageId) : toNumber((await h.db('complaint_messages').max({ id: 'id' }).first())?.id);
    // resa's reach (resa, custa1, custa2, resa2, custa3 under resa2), resb's custb1, custc, and none.
    const owners = [h.f.accounts.a1, h.f.accounts.a3, h.f.accounts.b1, h.f.accounts.a1, h.f.accounts.A2, null, h.f.accounts.a2, h.f.accounts.c, h.f.accounts.a3, h.f.accounts.A];
    for (let i = 0; i < 60; i++) {
      const accountId = owners[(i * 7) % owners.length]!;
      const status = statuses[i % statuses.length]!;
      const desk = desks[(i * 5) % desks.length]!;
      const [id] = await h.db('complaints').insert({ message_id: message, recipient_no: i, received_at: at, account_id: accountId, status, desk_status: desk, created_at: at, updated_at: at });
      rows.push({ id: engine === 'sqlite' ? toNumber(id) : toNumber((await h.db('complaints').max({ id: 'id' }).first())?.id), accountId, status, desk });
    }
  });
  afterAll(async () => {
    await h?.cleanup();
  });

  const walk = async (read: (page: PageRequest) => Promise<{ items: Array<{ id: number }>; nextCursor: string | null; total: number }>) => {
    const ids: number[] = [];
    let cursor: string | undefined;
    let total = -1;
    for (let guard = 0; guard < 100; guard++) {
      const page = await read({ limit: 4, cursor });
      ids.push(...page.items.map((c) => c.id));
      total = page.total;
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
    }
    return { ids, total };
  };

  it('pages through exactly the complaints of the reach that match, in order, for every reader', async () => {
    const reachOf: Record<string, Array<number | null>> = {
      resellerA: [h.f.accounts.A, h.f.accounts.a1, h.f.accounts.a2, h.f.accounts.A2, h.f.accounts.a3],
      resellerA2: [h.f.accounts.A2, h.f.accounts.a3],
      resellerB: [h.f.accounts.B, h.f.accounts.b1],
      customerA3: [h.f.accounts.a3],
    };
    const cases: Array<[ComplaintFilters, ComplaintSort]> = [
      [{}, 'newest'],
      [{}, 'oldest'],
      [{ status: 'valid' }, 'newest'],
      [{ status: 'review', deskStatus: 'resolved' }, 'oldest'],
      [{ open: true }, 'newest'],
      [{ accountId: h.f.accounts.a3 }, 'newest'],
      [{ customer: 'custa1' }, 'newest'],
    ];
    for (const [who, reach] of Object.entries(reachOf)) {
      const actor = h.f.actors[who as keyof typeof h.f.actors] as Actor;
      for (const [filters, sort] of cases) {
        const expected = rows
          .filter((r) => reach.includes(r.accountId))
          .filter((r) => !filters.status || r.status === filters.status)
          .filter((r) => !filters.deskStatus || r.desk === filters.deskStatus)
          .filter((r) => !filters.open || ['valid', 'awaiting_evidence', 'review'].includes(r.status))
          .filter((r) => !filters.accountId || r.accountId === filters.accountId)
          .filter((r) => !filters.customer || r.accountId === h.f.accounts.a1)
          .map((r) => r.id)
          .sort((a, b) => (sort === 'oldest' ? a - b : b - a));
        const label = `${who} ${JSON.stringify(filters)} ${sort}`;
        expect(await walk((page) => h.container.complaints.inbox(actor, filters, page, sort)), label).toEqual({ ids: expected, total: expected.length });
        expect(await walk((page) => h.container.complaints.list(actor, filters, page, sort)), label).toEqual({ ids: expected, total: expected.length });
      }
    }
  });
});
