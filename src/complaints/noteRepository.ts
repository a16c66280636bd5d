import { fromDbTime, insertedId, numberOrNull, toDbTime, toNumber, type Queryable } from '../db/dialect';
import type { ComplaintNote, NoteKind } from './types';

function mapNote(r: Record<string, unknown>): ComplaintNote {
  return {
    id: toNumber(r.id),
    complaintId: toNumber(r.complaint_id),
    author: String(r.author),
    authorRole: String(r.author_role),
    kind: r.kind as NoteKind,
    body: String(r.body),
    consentRecordId: numberOrNull(r.consent_record_id),
    createdAt: fromDbTime(r.created_at),
  };
}

/** complaint_notes: the conversation and evidence of one case. Callers check the complaint's tenancy first. */
export const noteRepository = {
  async add(db: Queryable, n: Omit<ComplaintNote, 'id' | 'createdAt'>, now: Date): Promise<number> {
    return insertedId(
      await db('complaint_notes').insert({ complaint_id: n.complaintId, author: n.author.slice(0, 64), author_role: n.authorRole, kind: n.kind, body: n.body, consent_record_id: n.consentRecordId, created_at: toDbTime(now) }),
    );
  },

  async ofComplaint(db: Queryable, complaintId: number, kinds: readonly NoteKind[]): Promise<ComplaintNote[]> {
    const rows = (await db('complaint_notes').where('complaint_id', complaintId).whereIn('kind', kinds as NoteKind[]).orderBy('id', 'asc')) as Record<string, unknown>[];
    return rows.map(mapNote);
  },
};
