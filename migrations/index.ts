import type { Knex } from 'knex';
import * as m01 from './20261128_01_tenancy';
import * as m02 from './20261128_02_users_auth';
import * as m03 from './20261128_03_policy';
import * as m04 from './20261128_04_audit';
import * as m05 from './20261128_05_sso_nonces';
import * as m06 from './20261128_06_panel_sync';
import * as m07 from './20261128_07_consent';
import * as m08 from './20261128_08_mail_optin';
import * as m09 from './20261128_09_consent_imports';
import * as m10 from './20261128_10_complaints';
import * as m11 from './20261128_11_enforcement';
import * as m12 from './20261128_12_audit_indexes';
import * as m13 from './20261128_13_postmaster';
import * as m14 from './20261128_14_complaint_inbox_indexes';

export interface Migration {
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

/** Every migration in order. A static list so the same code runs under tsx, Vitest and a bundle. */
export const migrations: Record<string, Migration> = {
  '20261128_01_tenancy': m01,
  '20261128_02_users_auth': m02,
  '20261128_03_policy': m03,
  '20261128_04_audit': m04,
  '20261128_05_sso_nonces': m05,
  '20261128_06_panel_sync': m06,
  '20261128_07_consent': m07,
  '20261128_08_mail_optin': m08,
  '20261128_09_consent_imports': m09,
  '20261128_10_complaints': m10,
  '20261128_11_enforcement': m11,
  '20261128_12_audit_indexes': m12,
  '20261128_13_postmaster': m13,
  '20261128_14_complaint_inbox_indexes': m14,
};
