import type { AddressOutcome } from './addressProbe';
import type { Route } from './targets';
import { toDialogue } from './transcript';
import type { MxAnswer, ProbeResult } from './types';

/** Builds the contract's ProbeResult from what the DNS and SMTP steps found. */

const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$/;

/** Lowercase, no trailing dot; null when it is not a host name (IDNs must arrive as punycode). */
export function normaliseDomain(input: string): string | null {
  const domain = input.trim().toLowerCase().replace(/\.$/, '');
  return DOMAIN.test(domain) ? domain : null;
}

export function postmasterOf(domain: string): string {
  return `postmaster@${domain}`;
}

function base(domain: string, mx: MxAnswer, checkedAt: Date): Omit<ProbeResult, 'result' | 'message' | 'dialogue' | 'stage'> {
  return { domain, address: postmasterOf(domain), mx, code: null, enhancedCode: null, mxHost: null, catchAll: null, fromCache: false, checkedAt };
}

function single(line: string): ProbeResult['dialogue'] {
  return [{ at: 0, dir: 'note', line }];
}

export function invalidDomainResult(input: string, checkedAt: Date): ProbeResult {
  const domain = input.trim().toLowerCase().replace(/\.$/, '');
  const message = `"${input}" is not a domain name`;
  return { ...base(domain, { kind: 'dns_error', hosts: [], error: message }, checkedAt), result: 'unknown', message, dialogue: single(message), stage: 'dns' };
}

/** DNS alone decided: no mail goes to the domain (no_mail), or DNS failed (unknown, never missing). */
export function dnsOnlyResult(domain: string, mx: MxAnswer, checkedAt: Date): ProbeResult {
  const messages: Record<MxAnswer['kind'], string> = {
    null_mx: 'null MX (RFC 7505): the domain accepts no mail',
    no_domain: mx.error ?? 'the domain does not exist',
    a_fallback: mx.error ?? 'no MX and no address records',
    mx: mx.error ?? 'no MX host to probe',
    dns_error: `DNS failed: ${mx.error ?? 'unknown error'}`,
  };
  const message = messages[mx.kind];
  const result = mx.kind === 'dns_error' || mx.kind === 'mx' ? 'unknown' : 'no_mail';
  return { ...base(domain, mx, checkedAt), result, message, dialogue: single(message), stage: 'dns' };
}

export function probedResult(domain: string, route: Route, outcome: AddressOutcome, checkedAt: Date): ProbeResult {
  const entries = outcome.entries;
  const origin = entries[0]?.t ?? 0;
  const dialogue = toDialogue(entries, origin);
  // Hosts without a usable address are evidence too ("mx2 has no A record").
  const notes = route.unusable.map((line) => ({ at: 0, dir: 'note' as const, line }));
  const message = outcome.stage === 'dns' && route.unusable.length > 0 ? `${outcome.message}: ${route.unusable.join('; ')}` : outcome.message;
  return {
    ...base(domain, route.mx, checkedAt),
    result: outcome.result,
    code: outcome.code,
    enhancedCode: outcome.enhancedCode,
    message,
    mxHost: outcome.mxHost,
    catchAll: outcome.catchAll,
    dialogue: [...notes, ...dialogue],
    stage: outcome.stage,
  };
}
