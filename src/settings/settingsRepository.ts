import { fromDbJson, toDbJson, toDbTime, type Queryable } from '../db/dialect';

/**
 * Admin-editable settings, one JSON document per area ("enforcement", …). Defaults and validation live
 * with each area's code; this table only holds what an admin changed.
 */
export const settingsRepository = {
  async read<T>(db: Queryable, key: string): Promise<{ value: T; updatedBy: string; updatedAt: string } | null> {
    const row = (await db('settings').where('key', key).first()) as Record<string, unknown> | undefined;
    if (!row) return null;
    return { value: fromDbJson<T>(row.value) as T, updatedBy: String(row.updated_by), updatedAt: String(row.updated_at) };
  },

  async write(db: Queryable, key: string, value: object, updatedBy: string, now: Date): Promise<void> {
    const row = { value: toDbJson(value)!, updated_by: updatedBy.slice(0, 64), updated_at: toDbTime(now) };
    const updated = await db('settings').where('key', key).update(row);
    if (!updated) await db('settings').insert({ key, ...row });
  },
};
