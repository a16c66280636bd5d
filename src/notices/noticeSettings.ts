import { fromDbTime, type Queryable } from '../db/dialect';
import { settingsRepository } from '../settings/settingsRepository';

/** Who the notices come from and where customers appeal: admin-editable, kept in `settings` under "notices". */
export interface NoticeSettings {
  /** Used mid-sentence ("The abuse desk of {{provider}}"), so the default is lower case. */
  providerName: string;
  /** The abuse desk: notices carry it as Reply-To and tell customers to write to it. */
  abuseAddress: string | null;
  /** An appeal form or page, when the provider has one. */
  appealUrl: string | null;
}

export interface StoredNoticeSettings extends NoticeSettings {
  updatedBy: string | null;
  updatedAt: Date | null;
}

export const defaultNoticeSettings: NoticeSettings = { providerName: 'your hosting provider', abuseAddress: null, appealUrl: null };

const settingsKey = 'notices';

export const noticeSettingsRepository = {
  async get(db: Queryable): Promise<StoredNoticeSettings> {
    const row = await settingsRepository.read<Partial<NoticeSettings>>(db, settingsKey);
    // Read field by field: a document written by an older version keeps working, missing fields take their defaults.
    const stored = row?.value ?? {};
    return {
      providerName: typeof stored.providerName === 'string' && stored.providerName.trim() ? stored.providerName : defaultNoticeSettings.providerName,
      abuseAddress: typeof stored.abuseAddress === 'string' && stored.abuseAddress ? stored.abuseAddress : null,
      appealUrl: typeof stored.appealUrl === 'string' && stored.appealUrl ? stored.appealUrl : null,
      updatedBy: row ? row.updatedBy : null,
      updatedAt: row ? fromDbTime(row.updatedAt) : null,
    };
  },

  async save(db: Queryable, settings: NoticeSettings, by: string, now: Date): Promise<void> {
    await settingsRepository.write(db, settingsKey, { providerName: settings.providerName, abuseAddress: settings.abuseAddress, appealUrl: settings.appealUrl }, by, now);
  },
};

/** The {{appeal}} text: how a customer contests a notice with the settings in force. */
export function appealText(settings: NoticeSettings, account: string): string {
  const desk = settings.abuseAddress ? `our abuse desk at ${settings.abuseAddress}` : 'our abuse desk';
  const lines = [
    `Reply to this message: it reaches ${desk}. Name your account (${account}), say what caused the mail and what you have changed, and attach the consent records of the recipients (who asked, when and how) if you have them.`,
  ];
  if (settings.appealUrl) lines.push(`You can also appeal at ${settings.appealUrl}.`);
  lines.push('The standing of your account, with every strike and notice, is under "Account standing" in the anti-spam section of your control panel.');
  return lines.join('\n');
}
