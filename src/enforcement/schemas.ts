import { z } from 'zod';
import { actionKinds, type AccountActionKind } from './actionKinds';
import { adminAccountKinds } from './enforcementService';
import { actionStatuses, type ActionFilters } from './panelActionRepository';
import { enforcementSettingsSchema } from './settings';
import { settingsInputFromForm as formInput } from '../settings/settingsForm';

/** Empty form fields and query parameters mean "not given". */
const optional = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (v === '' || v === null ? undefined : v), schema.optional());
const positiveId = (what: string) => z.coerce.number({ message: `expects ${what}` }).int(`expects ${what}`).positive(`expects ${what}`);

export const actionListQuery = z.object({
  status: optional(z.enum(actionStatuses, { message: `expects one of ${actionStatuses.join(', ')}` })).describe('Only actions in this status'),
  kind: optional(z.enum(actionKinds, { message: `expects one of ${actionKinds.join(', ')}` })).describe('Only actions of this kind'),
  q: optional(z.string().trim().max(100)).describe("Search in the account's username and the reason"),
  account: optional(positiveId('an account id')).describe('Only actions on this account (id)'),
  cursor: optional(z.string().max(500)).describe("Opaque cursor from the previous page's nextCursor"),
});
export type ActionListQuery = z.infer<typeof actionListQuery>;

export const filtersOf = (q: ActionListQuery): ActionFilters => ({ status: q.status, kind: q.kind, search: q.q, accountId: q.account });

/** The API's list adds a page size; the pages always show 50. */
export const actionListApiQuery = actionListQuery.extend({
  limit: optional(z.coerce.number().int().min(1, 'expects 1 to 200').max(200, 'expects 1 to 200')).describe('Page size (default 50, at most 200)'),
});

export const actionIdParam = z.object({ id: positiveId('an action number') });
export const accountIdParam = z.object({ id: positiveId('an account id') });

/** Reasons are checked by the service (length, trimming) so pages and API say the same thing. */
const reasonField = z.string({ message: 'is required: say why' }).max(2000, 'is longer than 2000 characters');

export const approveForm = z.object({
  confirm: z.string({ message: 'is required: type the username (or the server name) to approve' }).max(200),
});

export const cancelForm = z.object({ reason: reasonField });

export const strikeForm = z.object({ reason: reasonField });

export const serverSuspensionForm = z.object({
  server: positiveId('a server from the list'),
  reason: reasonField,
});

/** The account card's form; a checkbox is present ("1") when ticked and absent otherwise. */
export const accountActionForm = z.object({
  kind: z.enum(adminAccountKinds as [AccountActionKind, ...AccountActionKind[]], { message: `expects one of ${adminAccountKinds.join(', ')}` }),
  reason: reasonField,
  confirmUsername: optional(z.string().max(64)),
  lockSuspension: optional(z.string()).transform((v) => v !== undefined),
});

/** The same request through the JSON API. */
export const accountActionBody = z.object({
  kind: z.enum(adminAccountKinds as [AccountActionKind, ...AccountActionKind[]], { message: `expects one of ${adminAccountKinds.join(', ')}` }).describe('The action to queue'),
  reason: reasonField.describe('Why (at least 3 characters); recorded, audited and shown to the customer'),
  confirmUsername: z.string().max(64).optional().describe("terminate_account only: the account's username, as a confirmation"),
  lockSuspension: z.boolean().optional().describe('suspend_account only: only root may unsuspend'),
});

export const approveBody = z.object({
  confirm: z.string({ message: 'is required' }).max(200).describe("The account's username, or the server's name for a server suspension"),
});

export const cancelBody = z.object({ reason: reasonField.describe('Why the action is cancelled (at least 3 characters)') });

const settingsKeys = Object.keys(enforcementSettingsSchema.shape);
const checkboxKeys = new Set<string>(['ladderEnabled', 'lockSuspensions', 'terminateNeedsApproval']);

/** The settings form as the service's input (see settingsInputFromForm in src/settings). */
export function settingsInputFromForm(raw: Record<string, unknown>): Record<string, unknown> {
  return formInput(settingsKeys, checkboxKeys, raw);
}
