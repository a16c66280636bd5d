import { describe, expect, it } from 'vitest';
import { decideLadder } from './ladder';
import { defaultEnforcementSettings as defaults } from './settings';

describe('the policy ladder', () => {
  it('does nothing below the first rung', () => {
    const d = decideLadder({ strikes: 1, settings: { ...defaults, suspendAt: 2, terminateAt: 3 } });
    expect(d.rung).toBe('none');
    expect(d.steps).toEqual([]);
    expect(d.notice).toBeNull();
  });

  it('suspends outgoing mail and the account with a warning at the first strike (default)', () => {
    const d = decideLadder({ strikes: 1, settings: defaults });
    expect(d.rung).toBe('suspend');
    expect(d.steps).toEqual([
      { kind: 'suspend_outgoing_email', needsApproval: false },
      { kind: 'suspend_account', needsApproval: false },
    ]);
    expect(d.notice).toBe('warning');
  });

  it('suspends outgoing mail only when configured so', () => {
    const d = decideLadder({ strikes: 1, settings: { ...defaults, firstStrikeMode: 'mail_only' } });
    expect(d.steps.map((s) => s.kind)).toEqual(['suspend_outgoing_email']);
  });

  it('proposes termination for approval at the second strike, with mail stopped at once', () => {
    const d = decideLadder({ strikes: 2, settings: defaults });
    expect(d.rung).toBe('terminate');
    expect(d.steps).toEqual([
      { kind: 'suspend_outgoing_email', needsApproval: false },
      { kind: 'terminate_account', needsApproval: true },
    ]);
    expect(d.notice).toBe('termination_pending');
    expect(d.explanation).toContain('awaits an admin');
  });

  it('terminates without approval when the settings allow it, announcing it once done', () => {
    const d = decideLadder({ strikes: 5, settings: { ...defaults, terminateNeedsApproval: false } });
    expect(d.steps.find((s) => s.kind === 'terminate_account')?.needsApproval).toBe(false);
    expect(d.notice).toBeNull();
  });

  it('records strikes but acts on none when the ladder is off', () => {
    const d = decideLadder({ strikes: 9, settings: { ...defaults, ladderEnabled: false } });
    expect(d.rung).toBe('none');
    expect(d.explanation).toContain('switched off');
  });
});
