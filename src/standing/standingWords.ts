import type { Account } from '../tenancy/types';

/**
 * Enforcement states in plain words for customers and resellers (admins read the raw states).
 * `you`: the customer reading about its own account; otherwise a reseller reading about a customer.
 */
export function accountStatusWords(account: Pick<Account, 'status' | 'username'>, you: boolean): string {
  const subject = you ? 'Your account' : `The account ${account.username}`;
  switch (account.status) {
    case 'active':
      return `${subject} is active.`;
    case 'suspended':
      return `${subject} is suspended: its websites, mail and logins are switched off until the suspension is lifted.`;
    case 'terminated':
      return `${subject} has been terminated and removed from the server.`;
    default:
      return `${subject} is ${String(account.status)}.`;
  }
}

export function outgoingMailWords(account: Pick<Account, 'outgoingMail'>, you: boolean): string {
  const whose = you ? 'your' : 'its';
  switch (account.outgoingMail) {
    case 'active':
      return 'Outgoing mail is allowed.';
    case 'hold':
      return `Outgoing mail is on hold: ${whose} messages to outside addresses wait in the server's queue and are not delivered until the hold is released.`;
    case 'suspended':
      return `Outgoing mail is suspended: ${whose} messages to outside addresses are refused.`;
    default:
      return `Outgoing mail is ${String(account.outgoingMail)}.`;
  }
}

// Kinds of src/enforcement/actionKinds.ts, worded for the customer (the admin labels speak of the mechanism).
const actionWords: Record<string, string> = {
  suspend_account: 'Suspend the account',
  unsuspend_account: 'Lift the account suspension',
  terminate_account: 'Terminate the account',
  suspend_outgoing_email: 'Suspend outgoing mail',
  unsuspend_outgoing_email: 'Allow outgoing mail again',
  hold_outgoing_email: 'Hold outgoing mail',
  release_outgoing_email: 'Release held outgoing mail',
  suspend_server: 'Suspend the server',
  provider_command: 'Suspend the server',
  provider_webhook: 'Suspend the server',
};

/** What a panel action does, e.g. "Suspend outgoing mail"; an unknown kind reads as its name. */
export function actionKindWords(kind: string): string {
  const known = actionWords[kind];
  if (known) return known;
  const text = kind.replace(/_/g, ' ');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Where a panel action stands; awaiting approval of a termination is the provider's review. */
export function actionStatusWords(kind: string, status: string): string {
  switch (status) {
    case 'awaiting_approval':
      return kind === 'terminate_account' ? 'termination awaiting provider review' : 'awaiting provider review';
    case 'pending':
      return 'scheduled: the server carries it out shortly';
    case 'running':
      return 'being carried out';
    case 'done':
      return 'carried out';
    case 'failed':
      return 'could not be carried out; the provider is looking into it';
    default:
      return status.replace(/_/g, ' ');
  }
}
