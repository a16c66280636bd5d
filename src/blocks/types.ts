/** Why an address is blocked (ip_blocks.reason; strings, not a database enum). */
export const blockReasons = ['hacking', 'port_scan', 'login_failure', 'spam_source', 'manual'] as const;
export type BlockReason = (typeof blockReasons)[number];

export const blockReasonLabels: Record<BlockReason, string> = {
  hacking: 'hacking attempt',
  port_scan: 'port scan',
  login_failure: 'login failures',
  spam_source: 'spam source',
  manual: 'manual',
};

/**
 * - active: blocked until expires_at (null: permanent)
 * - expired: its time ran out (the expiry job lifted it from the firewall)
 * - lifted: an admin removed it early, with a reason
 */
export const blockStatuses = ['active', 'expired', 'lifted'] as const;
export type BlockStatus = (typeof blockStatuses)[number];

/**
 * Where the firewall stands, for the block's current status (being applied while active, being
 * removed once expired or lifted):
 * - pending: the change is committed and not yet confirmed by the firewall
 * - synced: the firewall did it (or lfd had already done it: BLOCK_REPORT)
 * - failed: the firewall refused or could not be run (sync_error); the job retries
 * - not_configured: FIREWALL=none, the block is recorded only
 */
export const syncStates = ['pending', 'synced', 'failed', 'not_configured'] as const;
export type SyncState = (typeof syncStates)[number];

/** What made the address suspicious, kept with the block (ip_blocks.evidence, JSON). */
export interface BlockEvidence {
  /** Log lines that triggered the block (lfd's 7th BLOCK_REPORT argument), oldest first, capped. */
  logLines: string[];
  /** How many events (failed logins, blocked packets) the trigger counted. */
  count: number;
  firstSeen: string | null;
  lastSeen: string | null;
  /** Ports the events concerned; empty = all ports. */
  ports: string[];
  /** Every time this address was blocked or re-blocked under this record (ISO times): the repeat-offender rule counts them. */
  blockedAt: string[];
  /** lfd's block direction (in, out, inout) when the block came from BLOCK_REPORT. */
  direction?: string;
  /** The server that reported it (BLOCK_REPORT's host name). */
  reportedBy?: string;
  /** Why the block is permanent although a temporary one was asked for (repeat offender). */
  permanentBecause?: string;
}

export interface IpBlock {
  id: number;
  address: string;
  family: 4 | 6;
  reason: BlockReason;
  reasonText: string | null;
  trigger: string | null;
  evidence: BlockEvidence;
  serverId: number | null;
  serverName: string | null;
  createdBy: string;
  createdAt: Date;
  /** null = permanent. */
  expiresAt: Date | null;
  status: BlockStatus;
  liftedAt: Date | null;
  liftedBy: string | null;
  liftReason: string | null;
  syncState: SyncState;
  syncError: string | null;
  syncedAt: Date | null;
}

/** How long a new block lasts: a TTL in seconds, or until lifted. */
export type BlockExpiry = { permanent: true } | { permanent: false; ttlSeconds: number };

/** Shortest and longest temporary block (a TTL under a minute would expire before the job even looks). */
export const minTtlSeconds = 60;
export const maxTtlSeconds = 365 * 86_400;

export function emptyEvidence(): BlockEvidence {
  return { logLines: [], count: 0, firstSeen: null, lastSeen: null, ports: [], blockedAt: [] };
}
