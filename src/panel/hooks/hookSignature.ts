import crypto from 'node:crypto';
import fs from 'node:fs';

/** How far a hook's timestamp may be from our clock: stops a captured request being replayed later. */
export const hookMaxSkewSeconds = 300;

/**
 * Checks `X-Antispam-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>` as the
 * plugin's hook script signs it (plugin/lib/AntispamPlugin.pm). Returns the problem, or null when valid.
 */
export function hookSignatureProblem(input: { secretFile: string; timestamp: string | undefined; signature: string | undefined; body: Buffer; now: Date }): string | null {
  if (!input.timestamp || !/^\d{1,12}$/.test(input.timestamp)) return 'missing or malformed X-Antispam-Timestamp';
  if (Math.abs(input.now.getTime() / 1000 - Number(input.timestamp)) > hookMaxSkewSeconds) return 'timestamp too far from the server clock';
  const match = /^sha256=([0-9a-f]{64})$/i.exec(input.signature ?? '');
  if (!match) return 'missing or malformed X-Antispam-Signature';
  const secret = fs.readFileSync(input.secretFile, 'utf8').trimEnd();
  const expected = crypto.createHmac('sha256', secret).update(`${input.timestamp}.`).update(input.body).digest();
  const given = Buffer.from(match[1]!, 'hex');
  return crypto.timingSafeEqual(expected, given) ? null : 'signature does not match';
}
