import { z } from 'zod';
import { mergeStored } from '../settings/mergeStored';

/**
 * The enforcement policy an admin edits on /admin/enforcement/settings. Stored in `settings` under
 * "enforcement"; a missing or partial document falls back to these defaults field by field.
 */
export const firstStrikeModes = ['account_and_mail', 'mail_only'] as const;
export type FirstStrikeMode = (typeof firstStrikeModes)[number];
export const serverSuspensionModes = ['suspend_accounts', 'command', 'webhook'] as const;
export type ServerSuspensionMode = (typeof serverSuspensionModes)[number];

const whole = (min: number, max: number, label: string) =>
  z.coerce.number({ message: `${label} expects a whole number` }).int(`${label} expects a whole number`).min(min, `${label} is at least ${min}`).max(max, `${label} is at most ${max}`);

export const enforcementSettingsSchema = z.object({
  /** Off: strikes are recorded but nothing is suspended automatically. */
  ladderEnabled: z.boolean(),
  /** Only strikes recorded within this many days count toward the ladder. */
  strikeWindowDays: whole(1, 3650, 'Strike window'),
  /** Strike count that suspends (the policy: "suspended at once with a warning"). */
  suspendAt: whole(1, 100, 'Suspend at'),
  /** What the first step suspends: the account and its outgoing mail, or outgoing mail only. */
  firstStrikeMode: z.enum(firstStrikeModes, { message: 'First-strike action expects account_and_mail or mail_only' }),
  /** Ladder suspensions can be lifted by the provider only (WHM `disallowun`), not by the customer's reseller. */
  lockSuspensions: z.boolean(),
  /** Strike count that terminates (the policy: "if it happens again"). */
  terminateAt: whole(2, 100, 'Terminate at'),
  /** Termination cannot be undone: by default it waits for an admin's approval. */
  terminateNeedsApproval: z.boolean(),
  /** Warn a reseller when its customers collect this many strikes within the reseller window (0 = never). */
  resellerWarnAt: whole(0, 1000, 'Reseller warning threshold'),
  resellerWindowDays: whole(1, 365, 'Reseller window'),
  /** Propose suspending a dedicated server when its owner's account reaches this many strikes (0 = never). */
  serverSuspendAt: whole(0, 100, 'Server suspension threshold'),
  serverSuspensionMode: z.enum(serverSuspensionModes, { message: 'Server suspension expects suspend_accounts, command or webhook' }),
  /** Attempts before a panel action is marked failed for an admin to look at. */
  maxAttempts: whole(1, 50, 'Attempts'),
});

export type EnforcementSettings = z.infer<typeof enforcementSettingsSchema>;

export const defaultEnforcementSettings: EnforcementSettings = {
  ladderEnabled: true,
  strikeWindowDays: 365,
  suspendAt: 1,
  firstStrikeMode: 'account_and_mail',
  lockSuspensions: true,
  terminateAt: 2,
  terminateNeedsApproval: true,
  resellerWarnAt: 3,
  resellerWindowDays: 30,
  serverSuspendAt: 3,
  serverSuspensionMode: 'suspend_accounts',
  maxAttempts: 8,
};

/** Stored values over the defaults (see mergeStored). */
export function mergeSettings(stored: Record<string, unknown> | null): EnforcementSettings {
  return mergeStored(enforcementSettingsSchema.shape, defaultEnforcementSettings, stored);
}

/** Rules across fields, checked when an admin saves. */
export function settingsProblems(s: EnforcementSettings): Record<string, string> {
  const problems: Record<string, string> = {};
  if (s.terminateAt <= s.suspendAt) problems.terminateAt = 'Terminate at must be more strikes than Suspend at';
  return problems;
}
