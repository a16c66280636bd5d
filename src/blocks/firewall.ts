import { AppError } from '../lib/errors';

/** What the block list asks of a server firewall. Only CSF exists (FIREWALL=csf); FIREWALL=none has no adapter at all. */
export interface FirewallAdapter {
  /** Shown in the UI and the audit trail, e.g. "csf". */
  readonly name: string;
  /** Applies a block (a temporary one for `ttlSeconds`, or a permanent one); returns the firewall's own output. Throws FirewallError. */
  block(request: { address: string; expiry: { permanent: true } | { permanent: false; ttlSeconds: number }; comment: string }): Promise<string>;
  /** Removes a block that was applied as temporary or permanent; an address the firewall no longer has is not an error. Throws FirewallError. */
  unblock(request: { address: string; permanent: boolean }): Promise<string>;
  /** true when the firewall is in a test mode that drops blocks on its own (CSF TESTING = "1"); null when that cannot be read. */
  testingMode(): Promise<boolean | null>;
}

/**
 * The firewall refused or could not be run; `output` holds what it printed (kept in
 * ip_blocks.sync_error). `unavailable`: it could not be run at all (missing, timed out, crashed),
 * as opposed to refusing this one address; the job stops trying for the run when that repeats.
 */
export class FirewallError extends AppError {
  constructor(
    message: string,
    readonly output: string,
    readonly unavailable = false,
  ) {
    super(502, 'firewall_failed', message);
  }
}
