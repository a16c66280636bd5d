/** One CSV cell: quoted when needed, and never starting with a formula character (spreadsheets would run it). */
export function csvCell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** One CSV line (CRLF-terminated, RFC 4180) of safe cells; null and undefined become empty cells. */
export function csvLine(values: ReadonlyArray<string | number | null | undefined>): string {
  return `${values.map((v) => (v == null ? '' : csvCell(String(v)))).join(',')}\r\n`;
}
