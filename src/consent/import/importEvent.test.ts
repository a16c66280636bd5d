import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../chain';
import { toDbTime } from '../../db/dialect';
import { entryFields, eventDataJson, storedTime, toEntryRow } from './importEvent';
import type { ValidRow } from './rowValidation';

describe('records_imported event data', () => {
  it('is exactly canonicalJson of the same object, with absent values left out', () => {
    const rows: ValidRow[] = [
      { email: 'a@example.com', status: 'confirmed', method: 'web_form', source: 'https://x/"form"\n', consentedAt: new Date('2026-01-02T03:04:05.678Z'), ip: '2001:db8::1', userAgent: 'Mozilla/5.0 (é) \u2028', revokedHow: null },
      { email: 'b@example.com', status: 'pending', method: 'import', source: null, consentedAt: null, ip: null, userAgent: null, revokedHow: null },
      { email: 'c@example.com', status: 'revoked', method: 'paper', source: null, consentedAt: null, ip: null, userAgent: null, revokedHow: 'unsubscribe' },
    ];
    const fields = rows.map((r, i) => entryFields(toEntryRow(i + 2, r)));
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
    expect(eventDataJson(7, 2, 4, 3, fields)).toBe(canonicalJson(object));
  });

  it('stores times as exactly the text toDbTime gives', () => {
    const dates = ['0001-01-01T00:00:00.000Z', '0999-12-31T23:59:59.999Z', '1000-01-01T00:00:00.000Z', '1970-01-01T00:00:00.000Z', '2024-02-29T09:08:07.006Z', '2026-11-28T23:59:59.050Z', '9999-12-31T23:59:59.999Z'].map((s) => new Date(s));
    for (let t = Date.UTC(1999, 11, 31, 23, 59, 58); t < Date.UTC(2000, 0, 1, 0, 0, 2); t += 7) dates.push(new Date(t));
    for (const d of dates) expect(storedTime(d)).toBe(toDbTime(d));
  });
});
