import { insertedId, toDbTime, type Queryable } from '../../db/dialect';

export type PanelEventStatus = 'received' | 'applied' | 'sync_started' | 'recorded' | 'unmatched' | 'failed';

/** Panel hook events, stored (secrets stripped) before they are acted on. */
export const panelEventRepository = {
  async insert(db: Queryable, input: { category: string; event: string; username: string | null; payload: string }, now: Date): Promise<number> {
    return insertedId(await db('panel_events').insert({ ...input, received_at: toDbTime(now), status: 'received' }));
  },

  async finish(db: Queryable, id: number, status: PanelEventStatus, result: string): Promise<void> {
    await db('panel_events').where({ id }).update({ status, result: result.slice(0, 500) });
  },
};
