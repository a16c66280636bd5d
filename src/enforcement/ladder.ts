import type { AccountActionKind } from './actionKinds';
import type { EnforcementSettings } from './settings';

export interface LadderInput {
  /** Active strikes of the account within the strike window, including the one just recorded. */
  strikes: number;
  settings: EnforcementSettings;
}

export interface LadderStep {
  kind: AccountActionKind;
  needsApproval: boolean;
}

export interface LadderDecision {
  rung: 'none' | 'suspend' | 'terminate';
  steps: LadderStep[];
  /** The notice that goes with the decision; a termination without approval is announced once it is done. */
  notice: 'warning' | 'termination_pending' | null;
  /** One sentence for the audit log and the notice: why this rung. */
  explanation: string;
}

/**
 * The policy ladder, as a pure function of the strike count and the settings: "spamming domains are
 * suspended at once with a warning; if it happens again they are terminated". Termination waits for an
 * admin's approval unless the settings say otherwise; its notice then says so.
 */
export function decideLadder({ strikes, settings }: LadderInput): LadderDecision {
  const window = `${strikes} active strike${strikes === 1 ? '' : 's'} within ${settings.strikeWindowDays} days`;
  if (!settings.ladderEnabled) return { rung: 'none', steps: [], notice: null, explanation: `${window}; the ladder is switched off` };
  if (strikes >= settings.terminateAt) {
    const needsApproval = settings.terminateNeedsApproval;
    return {
      rung: 'terminate',
      // Mail stops at once while the termination waits for approval.
      steps: [
        { kind: 'suspend_outgoing_email', needsApproval: false },
        { kind: 'terminate_account', needsApproval },
      ],
      notice: needsApproval ? 'termination_pending' : null,
      explanation: `${window} (terminate at ${settings.terminateAt})${needsApproval ? '; termination awaits an admin' : ''}`,
    };
  }
  if (strikes >= settings.suspendAt) {
    const steps: LadderStep[] = [{ kind: 'suspend_outgoing_email', needsApproval: false }];
    if (settings.firstStrikeMode === 'account_and_mail') steps.push({ kind: 'suspend_account', needsApproval: false });
    return { rung: 'suspend', steps, notice: 'warning', explanation: `${window} (suspend at ${settings.suspendAt})` };
  }
  return { rung: 'none', steps: [], notice: null, explanation: `${window}; below the first rung (${settings.suspendAt})` };
}
