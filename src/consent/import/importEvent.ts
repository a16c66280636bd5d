import { toDbTime } from '../../db/dialect';
import type { ValidRow } from './rowValidation';

/**
 * The data of a `records_imported` chain event, serialised directly as the canonical JSON that
 * chain.ts hashes (keys in sorted order, values through JSON.stringify), because building objects
 * and sorting their keys for a million rows is measurable. Absent values are left out (read as null):
 *   { fromLine, importId, records: [{ consentTextVersion, consentedAt?, email, ip?, line, method,
 *     revokedHow?, source?, status, userAgent? }, …], toLine }
 * importEvent.test.ts checks that the result equals canonicalJson of the same object.
 */

/** One record's entry (canonical JSON); `consentedAt` is the row's date as stored (toDbTime), when the caller has it. */
export function entryJson(line: number, row: ValidRow, consentTextVersion: number, consentedAt = row.consentedAt ? toDbTime(row.consentedAt) : null): string {
  let j = `{"consentTextVersion":${JSON.stringify(consentTextVersion)}`;
  if (consentedAt) j += `,"consentedAt":"${consentedAt}"`;
  j += `,"email":${JSON.stringify(row.email)}`;
  if (row.ip !== null) j += `,"ip":${JSON.stringify(row.ip)}`;
  j += `,"line":${line},"method":${JSON.stringify(row.method)}`;
  if (row.revokedHow) j += `,"revokedHow":${JSON.stringify(row.revokedHow)}`;
  if (row.source !== null) j += `,"source":${JSON.stringify(row.source)}`;
  j += `,"status":${JSON.stringify(row.status)}`;
  if (row.userAgent !== null) j += `,"userAgent":${JSON.stringify(row.userAgent)}`;
  return `${j}}`;
}

/** The whole event's data (canonical JSON) around entries made by entryJson. */
export function eventDataJson(importId: number, fromLine: number, toLine: number, entries: string[]): string {
  return `{"fromLine":${fromLine},"importId":${importId},"records":[${entries.join(',')}],"toLine":${toLine}}`;
}
