/** Functions every view may call (set as app.locals): one badge colour and one date format everywhere. */
const badgeColours: Record<string, string> = {
  ok: 'success',
  active: 'success',
  confirmed: 'success',
  current: 'success',
  accepted: 'success',
  pending: 'warning',
  hold: 'warning',
  outdated: 'warning',
  unknown: 'secondary',
  never: 'danger',
  missing: 'danger',
  suspended: 'danger',
  overdue: 'danger',
  revoked: 'secondary',
  terminated: 'dark',
  sent: 'success',
  captured: 'info',
  queued: 'warning',
  failed: 'danger',
  expired: 'secondary',
  superseded: 'light',
  // CSV imports (src/consent/import/); queued and failed as above
  done: 'success',
  validating: 'info',
  importing: 'info',
  rejected: 'danger',
  cancelled: 'secondary',
  // Charges (src/charges/); sent, failed and unknown as above
  proposed: 'warning',
  approved: 'success',
  waived: 'secondary',
  disputed: 'danger',
  sending: 'info',
  // Panel actions (src/enforcement/); pending, done, failed and cancelled as above
  awaiting_approval: 'primary',
  running: 'info',
  // Postmaster verdicts (src/postmaster/); ok, missing and unknown as above
  undeliverable: 'danger',
  unread: 'warning',
  not_applicable: 'light',
  unchecked: 'secondary',
};

export const viewHelpers = {
  badgeClass(state: string): string {
    return `badge text-bg-${badgeColours[state] ?? 'secondary'}`;
  },
  formatTime(date: Date | null | undefined): string {
    return date ? date.toISOString().slice(0, 16).replace('T', ' ') + ' UTC' : '—';
  },
  plural(n: number, one: string, many = `${one}s`): string {
    return `${n} ${n === 1 ? one : many}`;
  },
};
