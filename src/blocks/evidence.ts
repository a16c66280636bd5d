import { emptyEvidence, type BlockEvidence, type IpBlock } from './types';

/** Evidence a caller brings with a block (the blocking times and the repeat-offender note are the service's). */
export type EvidenceInput = Partial<Pick<BlockEvidence, 'logLines' | 'count' | 'firstSeen' | 'lastSeen' | 'ports' | 'direction' | 'reportedBy'>>;

const earliest = (a: string | null, b: string | null | undefined) => (!a ? (b ?? null) : !b ? a : a < b ? a : b);
const latest = (a: string | null, b: string | null | undefined) => (!a ? (b ?? null) : !b ? a : a > b ? a : b);

/** A block's evidence after one more blocking at `now`: log lines appended, counts added, the seen-window widened. */
export function mergeEvidence(old: BlockEvidence | null, input: EvidenceInput | undefined, now: Date, permanentBecause: string | null): BlockEvidence {
  const base = old ?? emptyEvidence();
  const add = input ?? {};
  const merged: BlockEvidence = {
    logLines: [...base.logLines, ...(add.logLines ?? [])],
    count: base.count + (add.count ?? 0),
    firstSeen: earliest(base.firstSeen, add.firstSeen),
    lastSeen: latest(base.lastSeen, add.lastSeen),
    ports: [...new Set([...base.ports, ...(add.ports ?? [])])],
    blockedAt: [...base.blockedAt, now.toISOString()],
  };
  const direction = add.direction ?? base.direction;
  const reportedBy = add.reportedBy ?? base.reportedBy;
  const because = permanentBecause ?? base.permanentBecause;
  if (direction) merged.direction = direction;
  if (reportedBy) merged.reportedBy = reportedBy;
  if (because) merged.permanentBecause = because;
  return merged;
}

/** How often an address was blocked since `since`, over the blocks of it alive in that window (a block re-blocked while active counts each time). */
export function blockingsSince(blocks: IpBlock[], since: Date): number {
  const from = since.toISOString();
  let n = 0;
  for (const b of blocks) {
    const times = b.evidence.blockedAt.length ? b.evidence.blockedAt : [b.createdAt.toISOString()];
    n += times.filter((t) => t >= from).length;
  }
  return n;
}
