import { fromDbTime, toDbTime, type Queryable } from '../db/dialect';
import { defaultTemplates, type NoticeTemplate } from './defaultTemplates';
import type { NoticeKind } from './kinds';

export interface EffectiveTemplate extends NoticeTemplate {
  kind: NoticeKind;
  /** False: the default text in code applies (no row in notice_templates). */
  customised: boolean;
  updatedBy: string | null;
  updatedAt: Date | null;
}

/** notice_templates: one row per kind an admin edited; no row = the default in defaultTemplates.ts. */
export const noticeTemplateRepository = {
  async effective(db: Queryable, kind: NoticeKind): Promise<EffectiveTemplate> {
    const row = (await db('notice_templates').where('kind', kind).first()) as Record<string, unknown> | undefined;
    if (!row) return { kind, ...defaultTemplates[kind], customised: false, updatedBy: null, updatedAt: null };
    return { kind, subject: String(row.subject), body: String(row.body), customised: true, updatedBy: String(row.updated_by), updatedAt: fromDbTime(row.updated_at) };
  },

  async save(db: Queryable, kind: NoticeKind, template: NoticeTemplate, by: string, now: Date): Promise<void> {
    await db('notice_templates')
      .insert({ kind, subject: template.subject, body: template.body, updated_by: by, updated_at: toDbTime(now) })
      .onConflict('kind')
      .merge(['subject', 'body', 'updated_by', 'updated_at']);
  },

  /** Back to the default; returns false when the kind was not edited. */
  async remove(db: Queryable, kind: NoticeKind): Promise<boolean> {
    return (await db('notice_templates').where('kind', kind).delete()) > 0;
  },
};
