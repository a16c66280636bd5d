import { describe, expect, it } from 'vitest';
import { verdictSentence } from './presentation';

describe('postmaster verdict in words', () => {
  const sent = new Date('2026-11-01T09:00:00Z');
  it('says "is read" only after the link of the latest verification mail was used', () => {
    expect(verdictSentence('ok', 'ex.test', null, { readSentAt: null, readConfirmedAt: null })).toBe('postmaster@ex.test works (not yet confirmed as read)');
    expect(verdictSentence('ok', 'ex.test', null, { readSentAt: sent, readConfirmedAt: null })).toBe('postmaster@ex.test works; waiting for the link in the verification mail of 2026-11-01 to be used');
    expect(verdictSentence('ok', 'ex.test', null, { readSentAt: sent, readConfirmedAt: new Date('2026-10-01T00:00:00Z') })).toContain('waiting for the link');
    expect(verdictSentence('ok', 'ex.test', null, { readSentAt: sent, readConfirmedAt: new Date('2026-11-02T00:00:00Z') })).toBe('postmaster@ex.test works and is read');
    // A fresh check result carries no read state.
    expect(verdictSentence('ok', 'ex.test')).toBe('postmaster@ex.test works');
  });
});
