import type { Queryable } from '../db/dialect';
import { settingsRepository } from '../settings/settingsRepository';
import { mergeSettings, type EnforcementSettings } from './settings';

export const enforcementSettingsKey = 'enforcement';

/** The enforcement settings in force (stored over defaults), read inside the caller's transaction. */
export async function readEnforcementSettings(db: Queryable): Promise<{ settings: EnforcementSettings; updatedBy: string | null; updatedAt: string | null }> {
  const stored = await settingsRepository.read<Record<string, unknown>>(db, enforcementSettingsKey);
  return { settings: mergeSettings(stored?.value ?? null), updatedBy: stored?.updatedBy ?? null, updatedAt: stored?.updatedAt ?? null };
}
