import { describe, expect, it } from 'vitest';
import { guessMapping, looksLikeHeader, mappingProblem, parseImportDate, validateRow, type RowRules } from './rowValidation';

const now = new Date('2026-11-28T10:00:00Z');
const mapping = ['email', 'status', 'method', 'source', 'consented_at', 'ip', 'user_agent'] as RowRules['mapping'];
const rules: RowRules = { mapping, defaultMethod: 'import', now, columns: 7 };
const row = (r: Partial<Record<'email' | 'status' | 'method' | 'source' | 'at' | 'ip' | 'ua', string>>) => [r.email ?? '', r.status ?? '', r.method ?? '', r.source ?? '', r.at ?? '', r.ip ?? '', r.ua ?? ''];

describe('import row validation', () => {
  it('parses ISO 8601 and "YYYY-MM-DD HH:MM[:SS]" dates as UTC, with zones, and refuses impossible ones', () => {
    expect(parseImportDate('2026-03-01T14:22:05Z')?.toISOString()).toBe('2026-03-01T14:22:05.000Z');
    expect(parseImportDate('2026-03-01 14:22')?.toISOString()).toBe('2026-03-01T14:22:00.000Z');
    expect(parseImportDate('2026-03-01 14:22:05')?.toISOString()).toBe('2026-03-01T14:22:05.000Z');
    expect(parseImportDate('2026-03-01T14:22:05+02:00')?.toISOString()).toBe('2026-03-01T12:22:05.000Z');
    expect(parseImportDate('2026-03-01T14:22:05.250-0130')?.toISOString()).toBe('2026-03-01T15:52:05.250Z');
    expect(parseImportDate('2026-03-01')?.toISOString()).toBe('2026-03-01T00:00:00.000Z');
    for (const bad of ['01/03/2026', '2026-02-30', '2026-13-01 10:00', '2026-03-01 25:00', 'yesterday', '2026-03-01T10:00+15:00', '']) expect(parseImportDate(bad), bad).toBeNull();
  });

  it('confirmed only with evidence from the file: date plus a non-manual method of the row, or a source', () => {
    const ok = (r: string[]) => {
      const out = validateRow(r, rules);
      if (!out.ok) throw new Error(out.reason);
      return out.row;
    };
    expect(ok(row({ email: 'A@Example.com', method: 'web_form', at: '2026-01-01 10:00' }))).toMatchObject({ email: 'a@example.com', status: 'confirmed', method: 'web_form' });
    expect(ok(row({ email: 'a@example.com', source: 'https://shop.example/signup', at: '2026-01-01' }))).toMatchObject({ status: 'confirmed', method: 'import' });
    // The default method alone is not evidence, and neither is a date alone or a method without a date.
    expect(ok(row({ email: 'a@example.com', at: '2026-01-01' })).status).toBe('pending');
    expect(ok(row({ email: 'a@example.com', method: 'paper' })).status).toBe('pending');
    // manual is never evidence, even with a source.
    expect(ok(row({ email: 'a@example.com', method: 'manual', source: 'x', at: '2026-01-01' })).status).toBe('pending');
    // An explicit pending stays pending; unsubscribed imports a revoked record.
    expect(ok(row({ email: 'a@example.com', status: 'Pending', method: 'web_form', at: '2026-01-01' })).status).toBe('pending');
    expect(ok(row({ email: 'a@example.com', status: 'unsubscribed' }))).toMatchObject({ status: 'revoked', revokedHow: 'unsubscribe' });
    expect(ok(row({ email: 'a@example.com', method: 'Double opt-in', at: '2026-01-01' })).method).toBe('double_opt_in');
  });

  it('rejects with every reason: bad address, status, method, date, future date, ip, and confirmed without evidence', () => {
    const reason = (r: string[]) => {
      const out = validateRow(r, rules);
      if (out.ok) throw new Error('expected a reject');
      return out.reason;
    };
    expect(reason(row({}))).toBe('email is empty');
    expect(reason(row({ email: 'not-an-address', status: 'maybe' }))).toBe('email "not-an-address" is not a valid address; status "maybe" is not one of confirmed, pending, revoked (or subscribed, unconfirmed, unsubscribed)');
    expect(reason(row({ email: 'a@example.com', method: 'fax' }))).toMatch(/^method "fax" is not one of double_opt_in, web_form/);
    expect(reason(row({ email: 'a@example.com', at: '31/12/2025' }))).toMatch(/^consented_at "31\/12\/2025" is not a date \(expected ISO 8601/);
    expect(reason(row({ email: 'a@example.com', at: '2027-01-01 00:00' }))).toBe('consented_at "2027-01-01 00:00" is in the future');
    expect(reason(row({ email: 'a@example.com', ip: '999.1.1.1' }))).toBe('ip "999.1.1.1" is not an IP address');
    expect(reason(row({ email: 'a@example.com', status: 'confirmed', at: '2026-01-01' }))).toMatch(/^status confirmed needs evidence in the file/);
    expect(reason(row({ email: 'a@example.com', status: 'confirmed', method: 'manual', source: 's', at: '2026-01-01' }))).toMatch(/needs evidence/);
    expect(reason(row({ email: 'a@example.com', source: 'x'.repeat(501) }))).toBe('source is longer than 500 characters');
    expect(reason([...row({ email: 'a@example.com' }), 'extra'])).toMatch(/^has 8 fields but the header has 7/);
    // Trailing empty fields (Excel) are fine.
    expect(validateRow([...row({ email: 'a@example.com' }), '', ' '], rules).ok).toBe(true);
  });

  it('guesses the header and the mapping from header names or from the cells', () => {
    expect(looksLikeHeader(['E-Mail', 'Opt-in date'])).toBe(true);
    expect(looksLikeHeader(['jane@example.com', '2026-01-01'])).toBe(false);
    expect(guessMapping(['E-Mail Address', 'Status', 'Signup Source', 'Opt-in date', 'IP', 'User-Agent', 'Name'], true)).toEqual(['email', 'status', 'source', 'consented_at', 'ip', 'user_agent', 'ignore']);
    expect(guessMapping(['Name', 'Contact mail'], true)).toEqual(['ignore', 'email']);
    expect(guessMapping(['Jane', 'jane@example.com', '2026-01-01 10:00', '192.0.2.1'], false)).toEqual(['ignore', 'email', 'consented_at', 'ip']);
    expect(mappingProblem(['ignore', 'status'])).toMatch(/email/);
    expect(mappingProblem(['email', 'email'])).toMatch(/email is chosen more than once/);
    expect(mappingProblem(['email', 'ignore', 'ignore'])).toBeNull();
  });
});
