import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../chain';
import { entryJson, eventDataJson } from './importEvent';
import type { ValidRow } from './rowValidation';

describe('records_imported event data', () => {
  it('is exactly canonicalJson of the same object, with absent values left out', () => {
    const rows: ValidRow[] = [
      { email: 'a@example.com', status: 'confirmed', method: 'web_form', source: 'https://x/"form"\n', consentedAt: new Date('2026-01-02T03:04:05.678Z'), ip: '2001:db8::1', userAgent: 'Mozilla/5.0 (é) \u2028', revokedHow: null },
      { email: 'b@example.com', status: 'pending', method: 'import', source: null, consentedAt: null, ip: null, userAgent: null, revokedHow: null },
      { email: 'c@example.com', status: 'revoked', method: 'paper', source: null, consentedAt: null, ip: null, userAgent: null, revokedHow: 'unsubscribe' },
    ];
    const entries = rows.map((r, i) => entryJson(i + 2, r, 3));
    const object = {
      importId: 7,
      fromLine: 2,
      toLine: 4,
      records: rows.map((r, i) => ({
        line: i + 2,
        email: r.email,
        status: r.status,
        method: r.method,
        consentTextVersion: 3,
        source: r.source ?? undefined,
        consentedAt: r.consentedAt ? '2026-01-02 03:04:05.678' : undefined,
        ip: r.ip ?? undefined,
        userAgent: r.userAgent ?? undefined,
        revokedHow: r.revokedHow ?? undefined,
      })),
    };
    expect(eventDataJson(7, 2, 4, entries)).toBe(canonicalJson(object));
  });
});
