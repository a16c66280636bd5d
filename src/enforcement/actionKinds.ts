import type { PanelAccount, PanelAdapter } from '../panel/panelAdapter';
import type { AccountStatus, OutgoingMailState } from '../tenancy/types';

/** Every action the outbox can carry out on one account through the panel. */
export const accountActionKinds = [
  'suspend_account',
  'unsuspend_account',
  'suspend_outgoing_email',
  'unsuspend_outgoing_email',
  'hold_outgoing_email',
  'release_outgoing_email',
  'terminate_account',
] as const;
export type AccountActionKind = (typeof accountActionKinds)[number];

/** Server-wide actions (server suspension): not a panel call on one account. */
export const serverActionKinds = ['suspend_server', 'provider_command', 'provider_webhook'] as const;
export type ServerActionKind = (typeof serverActionKinds)[number];

export type ActionKind = AccountActionKind | ServerActionKind;
export const actionKinds: readonly ActionKind[] = [...accountActionKinds, ...serverActionKinds];

export function isAccountAction(kind: string): kind is AccountActionKind {
  return (accountActionKinds as readonly string[]).includes(kind);
}

export const actionLabels: Record<ActionKind, string> = {
  suspend_account: 'Suspend account',
  unsuspend_account: 'Unsuspend account',
  suspend_outgoing_email: 'Suspend outgoing mail',
  unsuspend_outgoing_email: 'Allow outgoing mail again',
  hold_outgoing_email: 'Hold outgoing mail',
  release_outgoing_email: 'Release held mail',
  terminate_account: 'Terminate account',
  suspend_server: 'Suspend every account on the server',
  provider_command: "Run the provider's server-suspension command",
  provider_webhook: "Call the provider's server-suspension webhook",
};

/** Actions that cannot be undone: the UI asks for the username to be typed before they run. */
export const destructiveKinds: readonly ActionKind[] = ['terminate_account', 'suspend_server', 'provider_command', 'provider_webhook'];

export interface AccountActionParams {
  /** suspend_account: only root may unsuspend (WHM `disallowun`). */
  disallowResellerUnsuspend?: boolean;
  /** terminate_account: keep the DNS zone. */
  keepDns?: boolean;
}

/** Sends the action's one WHM call. */
export async function performAccountAction(adapter: PanelAdapter, kind: AccountActionKind, username: string, reason: string, params: AccountActionParams): Promise<void> {
  switch (kind) {
    case 'suspend_account':
      return adapter.suspendAccount(username, reason, { disallowResellerUnsuspend: params.disallowResellerUnsuspend });
    case 'unsuspend_account':
      return adapter.unsuspendAccount(username);
    case 'suspend_outgoing_email':
      return adapter.suspendOutgoingEmail(username);
    case 'unsuspend_outgoing_email':
      return adapter.unsuspendOutgoingEmail(username);
    case 'hold_outgoing_email':
      return adapter.holdOutgoingEmail(username);
    case 'release_outgoing_email':
      return adapter.releaseOutgoingEmail(username);
    case 'terminate_account':
      return adapter.terminateAccount(username, { keepDns: params.keepDns });
  }
}

/**
 * Whether the panel already shows the action's effect. Asked before re-sending a call whose first
 * attempt may have been applied (a timeout, a worker that died mid-call): the panel's state, not our
 * memory of what we sent, decides, so an action is never applied twice. `null` = the account is gone.
 */
export function alreadyApplied(kind: AccountActionKind, account: PanelAccount | null): boolean {
  if (!account) return kind === 'terminate_account';
  switch (kind) {
    case 'suspend_account':
      return account.suspended;
    case 'unsuspend_account':
      return !account.suspended;
    case 'suspend_outgoing_email':
      return account.outgoingMail === 'suspended';
    case 'unsuspend_outgoing_email':
      return account.outgoingMail !== 'suspended';
    case 'hold_outgoing_email':
      return account.outgoingMail === 'hold';
    case 'release_outgoing_email':
      return account.outgoingMail !== 'hold';
    case 'terminate_account':
      return false;
  }
}

/** What the app's own copy of the account looks like once the action is done. */
export function localEffect(kind: AccountActionKind): { status?: AccountStatus; outgoingMail?: OutgoingMailState } {
  switch (kind) {
    case 'suspend_account':
      return { status: 'suspended' };
    case 'unsuspend_account':
      return { status: 'active' };
    case 'suspend_outgoing_email':
      return { outgoingMail: 'suspended' };
    case 'unsuspend_outgoing_email':
    case 'release_outgoing_email':
      return { outgoingMail: 'active' };
    case 'hold_outgoing_email':
      return { outgoingMail: 'hold' };
    case 'terminate_account':
      return { status: 'terminated' };
  }
}
