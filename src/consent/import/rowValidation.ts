import { isIP } from 'node:net';
import { hasEvidence } from '../consentService';
import { normaliseEmail } from '../schemas';
import { consentMethods, type ConsentMethod, type ConsentStatus, type RevokeHow } from '../types';
import type { ColumnMapping, ImportField } from './types';

/**
 * Pure checks of one CSV row (no database): address, status, method, dates, evidence.
 *
 * The evidence rule (the same as hasEvidence in consentService): a row is `confirmed` only when the
 * file itself carries evidence: a consented_at date, plus a method other than manual, or a source.
 * The default method chosen on the mapping page is never evidence by itself, and a row's method
 * must not be manual for it to be confirmed. A row without evidence is `pending`; a row whose
 * status cell says confirmed without evidence is rejected (claiming consent without proof).
 */

export interface ValidRow {
  email: string;
  status: ConsentStatus;
  method: ConsentMethod;
  source: string | null;
  consentedAt: Date | null;
  ip: string | null;
  userAgent: string | null;
  revokedHow: RevokeHow | null;
}

export type RowOutcome = { ok: true; row: ValidRow } | { ok: false; email: string | null; reason: string };

export interface RowRules {
  mapping: ColumnMapping;
  defaultMethod: ConsentMethod;
  now: Date;
  /** Columns of the header (or of the first row); a row with more non-empty fields is rejected. */
  columns: number;
}

const statusAliases: Record<string, { status: ConsentStatus; how?: RevokeHow; claims: boolean }> = {
  confirmed: { status: 'confirmed', claims: true },
  subscribed: { status: 'confirmed', claims: true },
  opted_in: { status: 'confirmed', claims: true },
  opt_in: { status: 'confirmed', claims: true },
  pending: { status: 'pending', claims: false },
  unconfirmed: { status: 'pending', claims: false },
  revoked: { status: 'revoked', how: 'manual', claims: false },
  unsubscribed: { status: 'revoked', how: 'unsubscribe', claims: false },
};
export const acceptedStatuses = Object.keys(statusAliases);

const maxText = 500;
const dateHelp = 'expected ISO 8601 such as 2026-11-28T10:00:00Z, or 2026-11-28 10:00[:00] (UTC when no zone is given)';
const isoZoned = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i;
const dateOnly = /^(\d{4})-(\d{2})-(\d{2})$/;

/** A consented-at cell as a UTC instant; null when it is not one of the accepted forms or not a real date. */
export function parseImportDate(value: string): Date | null {
  const v = value.trim();
  const d = dateOnly.exec(v);
  const m = d ? null : isoZoned.exec(v);
  if (!d && !m) return null;
  const parts = (d ?? m)!;
  const [y, mo, da] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
  const [h, mi, s] = m ? [Number(m[4]), Number(m[5]), Number(m[6] ?? 0)] : [0, 0, 0];
  const ms = m?.[7] ? Number(m[7].slice(0, 3).padEnd(3, '0')) : 0;
  if (mo < 1 || mo > 12 || da < 1 || h > 23 || mi > 59 || s > 59) return null;
  let t = Date.UTC(y, mo - 1, da, h, mi, s, ms);
  const check = new Date(t);
  if (check.getUTCFullYear() !== y || check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== da) return null;
  const zone = m?.[8];
  if (zone && zone.toUpperCase() !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const offset = (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4))) * 60_000;
    if (Number(digits.slice(0, 2)) > 14 || Number(digits.slice(2, 4)) > 59) return null;
    t -= sign * offset;
  }
  return new Date(t);
}

/** A method cell: the method names, case-insensitive, with spaces or dashes for underscores ("Double opt-in"). */
export function parseMethod(value: string): ConsentMethod | null {
  const key = value.trim().toLowerCase().replace(/[\s-]+/g, '_');
  return (consentMethods as readonly string[]).includes(key) ? (key as ConsentMethod) : null;
}

/** Index of each mapped field in the row (fields mapped to no column are absent). */
export function fieldIndexes(mapping: ColumnMapping): Partial<Record<ImportField, number>> {
  const out: Partial<Record<ImportField, number>> = {};
  mapping.forEach((target, i) => {
    if (target !== 'ignore' && out[target] === undefined) out[target] = i;
  });
  return out;
}

/** The trimmed cell at `i` (empty when the column is not mapped or the row is short). */
function cellOf(fields: string[], i: number | undefined): string {
  if (i === undefined) return '';
  const v = fields[i];
  return v === undefined ? '' : v.trim();
}

function hasExtraValues(fields: string[], columns: number): boolean {
  for (let i = columns; i < fields.length; i++) if (fields[i]!.trim() !== '') return true;
  return false;
}

const quoted = (v: string) => JSON.stringify(v.length > 80 ? `${v.slice(0, 80)}…` : v);

/** Validates one row; `fields` are the record's cells as parsed. */
export function validateRow(fields: string[], rules: RowRules, indexes = fieldIndexes(rules.mapping)): RowOutcome {
  const problems: string[] = [];

  if (fields.length > rules.columns && hasExtraValues(fields, rules.columns)) {
    problems.push(`has ${fields.length} fields but the header has ${rules.columns} (a delimiter inside an unquoted value? quote that value)`);
  }

  const rawEmail = cellOf(fields, indexes.email);
  const email = rawEmail ? normaliseEmail(rawEmail) : null;
  if (!rawEmail) problems.push('email is empty');
  else if (!email) problems.push(`email ${quoted(rawEmail)} is not a valid address`);

  const rawStatus = cellOf(fields, indexes.status);
  const status = rawStatus ? statusAliases[rawStatus.toLowerCase().replace(/[\s-]+/g, '_')] : undefined;
  if (rawStatus && !status) problems.push(`status ${quoted(rawStatus)} is not one of confirmed, pending, revoked (or subscribed, unconfirmed, unsubscribed)`);

  const rawMethod = cellOf(fields, indexes.method);
  const fileMethod = rawMethod ? parseMethod(rawMethod) : null;
  if (rawMethod && !fileMethod) problems.push(`method ${quoted(rawMethod)} is not one of ${consentMethods.join(', ')}`);

  const rawDate = cellOf(fields, indexes.consented_at);
  let consentedAt: Date | null = null;
  if (rawDate) {
    consentedAt = parseImportDate(rawDate);
    if (!consentedAt) problems.push(`consented_at ${quoted(rawDate)} is not a date (${dateHelp})`);
    else if (consentedAt.getTime() > rules.now.getTime()) {
      problems.push(`consented_at ${quoted(rawDate)} is in the future`);
      consentedAt = null;
    }
  }

  const ip = cellOf(fields, indexes.ip) || null;
  if (ip && !isIP(ip)) problems.push(`ip ${quoted(ip)} is not an IP address`);
  const source = cellOf(fields, indexes.source) || null;
  if (source && source.length > maxText) problems.push(`source is longer than ${maxText} characters`);
  const userAgent = cellOf(fields, indexes.user_agent) || null;
  if (userAgent && userAgent.length > maxText) problems.push(`user_agent is longer than ${maxText} characters`);

  const method = fileMethod ?? rules.defaultMethod;
  // Evidence from the file: the date, and either the row's own (non-manual) method or a source.
  const evidence = consentedAt !== null && hasEvidence(method, consentedAt) && (fileMethod !== null || source !== null);
  if (status?.claims && !evidence && !(rawDate && !consentedAt)) {
    problems.push('status confirmed needs evidence in the file: a consented_at date plus a method other than manual, or a source (import the row as pending, or add the evidence)');
  }

  if (problems.length) return { ok: false, email, reason: problems.join('; ') };
  const finalStatus: ConsentStatus = status ? status.status : evidence ? 'confirmed' : 'pending';
  return {
    ok: true,
    row: { email: email!, status: finalStatus, method, source, consentedAt, ip, userAgent, revokedHow: finalStatus === 'revoked' ? (status?.how ?? 'manual') : null },
  };
}

const headerNames: Record<ImportField, string[]> = {
  email: ['email', 'emailaddress', 'e_mail', 'mail', 'address', 'recipient', 'subscriber'],
  status: ['status', 'state', 'subscriptionstatus', 'consentstatus'],
  method: ['method', 'consentmethod', 'optinmethod', 'how'],
  source: ['source', 'consentsource', 'signupsource', 'optinsource', 'url', 'form', 'formurl'],
  consented_at: ['consentedat', 'consented', 'consentdate', 'consenttime', 'optindate', 'optintime', 'optedinat', 'signupdate', 'subscribedat', 'subscribed', 'date', 'timestamp', 'createdat'],
  ip: ['ip', 'ipaddress', 'optinip', 'signupip', 'consentip'],
  user_agent: ['useragent', 'ua', 'browser'],
};

/** Guesses the mapping from header names, or (without a header) from the cells of the first row. */
export function guessMapping(firstRow: string[], hasHeader: boolean): ColumnMapping {
  const used = new Set<ImportField>();
  const mapping: ColumnMapping = firstRow.map(() => 'ignore');
  if (hasHeader) {
    firstRow.forEach((name, i) => {
      const key = name.trim().toLowerCase().replace(/[^a-z0-9]+/g, '');
      const field = (Object.keys(headerNames) as ImportField[]).find((f) => !used.has(f) && headerNames[f].some((n) => n.replace(/_/g, '') === key));
      if (field) {
        mapping[i] = field;
        used.add(field);
      }
    });
    if (!used.has('email')) {
      const i = firstRow.findIndex((name, j) => mapping[j] === 'ignore' && /mail/i.test(name));
      if (i >= 0) mapping[i] = 'email';
    }
    return mapping;
  }
  firstRow.forEach((cell, i) => {
    if (!used.has('email') && normaliseEmail(cell)) {
      mapping[i] = 'email';
      used.add('email');
    } else if (!used.has('consented_at') && parseImportDate(cell)) {
      mapping[i] = 'consented_at';
      used.add('consented_at');
    } else if (!used.has('ip') && cell.trim() && isIP(cell.trim())) {
      mapping[i] = 'ip';
      used.add('ip');
    }
  });
  return mapping;
}

/** Whether the first row is a header: none of its cells is an email address. */
export function looksLikeHeader(firstRow: string[]): boolean {
  return !firstRow.some((c) => normaliseEmail(c) !== null);
}

/** Problems with a mapping, or null: email exactly once, every other field at most once. */
export function mappingProblem(mapping: ColumnMapping): string | null {
  const counts = new Map<string, number>();
  for (const t of mapping) if (t !== 'ignore') counts.set(t, (counts.get(t) ?? 0) + 1);
  if (!counts.get('email')) return 'Choose the column that holds the email addresses.';
  const twice = [...counts].filter(([, n]) => n > 1).map(([f]) => f);
  if (twice.length) return `Each field can be chosen for one column only: ${twice.join(', ')} is chosen more than once.`;
  return null;
}
