import { actionLabels, destructiveKinds, type ActionKind } from './actionKinds';
import { adminAccountKinds } from './enforcementService';
import type { ActionOrigin, ActionStatus, PanelAction } from './panelActionRepository';
import type { EnforcementSettings, FirstStrikeMode, ServerSuspensionMode } from './settings';

/** The queue's tabs: what needs an admin first, then what is moving, then what is finished. */
export const statusTabs: readonly ActionStatus[] = ['awaiting_approval', 'failed', 'pending', 'running', 'done', 'cancelled'];

export const statusWords: Record<ActionStatus, string> = {
  awaiting_approval: 'awaiting approval',
  pending: 'pending',
  running: 'running',
  done: 'done',
  failed: 'failed',
  cancelled: 'cancelled',
};

export const originWords: Record<ActionOrigin, string> = {
  ladder: 'policy ladder',
  admin: 'admin',
  server_suspension: 'server suspension rule',
  api: 'API',
};

/** What each server suspension mode does, for the settings form and the proposal page. */
export const serverModeWords: Record<ServerSuspensionMode, string> = {
  suspend_accounts: 'suspend every account on the server through the panel',
  command: "run the provider's command (SERVER_SUSPEND_COMMAND), e.g. to power the machine off or null-route it",
  webhook: "call the provider's webhook (SERVER_SUSPEND_WEBHOOK_URL), e.g. to open a ticket in its own system",
};

export const firstStrikeWords: Record<FirstStrikeMode, string> = {
  account_and_mail: 'suspend the account and its outgoing mail',
  mail_only: 'suspend outgoing mail only (sites stay up)',
};

/** What an action acts on, in words: the account, or the whole server. */
export function targetOf(a: Pick<PanelAction, 'username' | 'serverName'>): string {
  return a.username ?? `server ${a.serverName}`;
}

/** What the admin types to approve: the username, or the server name for server-wide actions. */
export function confirmWordOf(a: Pick<PanelAction, 'username' | 'serverName'>): string {
  return a.username ?? a.serverName;
}

export const canApprove = (a: PanelAction) => a.status === 'awaiting_approval';
export const canRetry = (a: PanelAction) => a.status === 'failed';
export const canCancel = (a: PanelAction) => a.status === 'awaiting_approval' || a.status === 'pending' || a.status === 'failed';

/** Exactly what approving will do, for the confirmation text beside the form. */
export function approvalConsequence(a: PanelAction): string {
  switch (a.kind) {
    case 'terminate_account':
      return `The panel removes the account ${a.username ?? ''} from ${a.serverName}: its sites, mailboxes, databases and files are deleted. This cannot be undone.`;
    case 'suspend_server':
      return `Every account on ${a.serverName} is suspended through the panel: all of its sites and mail stop.`;
    case 'provider_command':
      return `The provider's server-suspension command runs for ${a.serverName} (SERVER_SUSPEND_COMMAND).`;
    case 'provider_webhook':
      return `The provider's server-suspension webhook is called for ${a.serverName} (SERVER_SUSPEND_WEBHOOK_URL).`;
    default:
      return `${actionLabels[a.kind]} on ${targetOf(a)} through the panel.`;
  }
}

/** The flash after an action was queued: when the panel will see it. */
export function queuedMessage(a: PanelAction): string {
  const label = actionLabels[a.kind];
  if (a.status === 'awaiting_approval') return `${label} for ${targetOf(a)} is waiting for approval (action #${a.id}).`;
  return `${label} queued for ${targetOf(a)} (action #${a.id}) — the panel will be called within a minute.`;
}

/** The actions offered on an account's page, reversible ones first; terminate says it is final. */
export function accountActionOptions(): Array<{ value: string; label: string; destructive: boolean }> {
  return adminAccountKinds.map((k: ActionKind) => ({ value: k, label: destructiveKinds.includes(k) ? `${actionLabels[k]} (cannot be undone)` : actionLabels[k], destructive: destructiveKinds.includes(k) }));
}

/** The ladder in one sentence per rung, from the settings in force (for help text). */
export function ladderSummary(s: EnforcementSettings): string[] {
  if (!s.ladderEnabled) return ['The ladder is switched off: strikes are recorded, nothing is suspended automatically.'];
  return [
    `At ${s.suspendAt} strike${s.suspendAt === 1 ? '' : 's'} within ${s.strikeWindowDays} days: ${firstStrikeWords[s.firstStrikeMode]}, with a warning notice${s.firstStrikeMode === 'account_and_mail' && s.lockSuspensions ? '; only the provider can lift the suspension' : ''}.`,
    `At ${s.terminateAt} strikes: outgoing mail is suspended and the account is terminated${s.terminateNeedsApproval ? ' once an admin approves' : ' at once'}.`,
  ];
}
