import { z } from 'zod';
import type { Queryable } from '../db/dialect';
import { mergeStored } from '../settings/mergeStored';
import { settingsRepository } from '../settings/settingsRepository';

/** The postmaster-check policy an admin edits on /admin/postmaster/settings (stored under "postmaster"). */
export const postmasterScopes = ['all', 'dedicated'] as const;

const whole = (min: number, max: number, label: string) =>
  z.coerce.number({ message: `${label} expects a whole number` }).int(`${label} expects a whole number`).min(min, `${label} is at least ${min}`).max(max, `${label} is at most ${max}`);

export const postmasterSettingsSchema = z.object({
  /** Which domains are checked: every mail-hosting domain, or only those on dedicated servers (the policy's own wording). */
  scope: z.enum(postmasterScopes, { message: 'Scope expects all or dedicated' }),
  /** Days between verification mails to postmaster@ (proof that someone reads it). */
  readIntervalDays: whole(7, 365, 'Read confirmation interval'),
  /** Days the link in a verification mail may take to be opened before the domain counts as unread. */
  readGraceDays: whole(1, 60, 'Read confirmation grace'),
  /** Missing or undeliverable this many days after the notice → a strike for the enforcement ladder. */
  escalationGraceDays: whole(1, 90, 'Escalation grace'),
  escalationEnabled: z.boolean(),
  /** Probe results are reused for this long (Exim's callout cache: 24 h positive, 2 h negative). */
  positiveCacheHours: whole(1, 168, 'Positive cache'),
  negativeCacheHours: whole(1, 48, 'Negative cache'),
  /** SMTP sessions at once across all MX hosts (never more than one per host). */
  probeConcurrency: whole(1, 100, 'Probe concurrency'),
  /** A sweep starts each server up to this many seconds late, so a fleet's servers are not all probed at once. */
  jitterSeconds: whole(0, 3600, 'Jitter'),
});

export type PostmasterSettings = z.infer<typeof postmasterSettingsSchema>;

export const defaultPostmasterSettings: PostmasterSettings = {
  scope: 'all',
  readIntervalDays: 90,
  readGraceDays: 14,
  escalationGraceDays: 7,
  escalationEnabled: true,
  positiveCacheHours: 24,
  negativeCacheHours: 2,
  probeConcurrency: 10,
  jitterSeconds: 300,
};

export const postmasterSettingsKey = 'postmaster';

export async function readPostmasterSettings(db: Queryable): Promise<{ settings: PostmasterSettings; updatedBy: string | null; updatedAt: string | null }> {
  const stored = await settingsRepository.read<Record<string, unknown>>(db, postmasterSettingsKey);
  return { settings: mergeStored(postmasterSettingsSchema.shape, defaultPostmasterSettings, stored?.value), updatedBy: stored?.updatedBy ?? null, updatedAt: stored?.updatedAt ?? null };
}
