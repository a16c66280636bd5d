import net from 'node:net';
import type { ProbeOptions } from './types';

/** ProbeOptions with every default applied and checked once, so the rest of the layer never guesses. */
export type ResolvedProbeOptions = Required<Omit<ProbeOptions, 'dnsServers' | 'localAddress'>> & {
  dnsServers: string[] | null;
  localAddress: string | null;
};

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

// Timeouts follow what open-source verifiers settled on (10–30 s), far below RFC 5321's 5 min:
// a probe that gives up early only reports "unknown", never "missing".
// Cache times follow Exim's callout cache (1 d positive, 2 h negative).
export const probeDefaults = {
  port: 25,
  connectTimeoutMs: 10_000,
  commandTimeoutMs: 30_000,
  maxPerSession: 20,
  globalConcurrency: 10,
  catchAllCheck: true,
  positiveTtlMs: 24 * HOUR,
  negativeTtlMs: 2 * HOUR,
  temporaryTtlMs: 0,
  dnsTimeoutMs: 10_000,
  mxCacheTtlMs: 5 * MINUTE,
  mxNegativeCacheTtlMs: MINUTE,
  dnsConcurrency: 20,
  maxHostsTried: 5,
  startTls: false,
} as const;

function positiveInt(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`ProbeOptions.${name} must be a positive integer, got ${value}`);
  return value;
}

function nonNegative(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`ProbeOptions.${name} must be >= 0, got ${value}`);
  return value;
}

export function resolveProbeOptions(options: ProbeOptions): ResolvedProbeOptions {
  const heloName = options.heloName.trim().toLowerCase();
  if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/.test(heloName)) {
    throw new RangeError(`ProbeOptions.heloName must be a fully qualified host name, got "${options.heloName}"`);
  }
  if (options.localAddress !== undefined && net.isIP(options.localAddress) === 0) {
    throw new RangeError(`ProbeOptions.localAddress must be an IP address, got "${options.localAddress}"`);
  }
  const fallbackSender = (options.fallbackSender ?? `postmaster@${heloName}`).trim();
  // It is written into MAIL FROM:<…> verbatim, so no spaces, brackets or line breaks.
  if (!/^[^\s<>@]+@[^\s<>@]+$/.test(fallbackSender)) {
    throw new RangeError(`ProbeOptions.fallbackSender must be a plain address, got "${options.fallbackSender}"`);
  }
  const port = options.port ?? probeDefaults.port;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`ProbeOptions.port is not a port: ${port}`);
  return {
    dnsServers: options.dnsServers && options.dnsServers.length > 0 ? [...options.dnsServers] : null,
    port,
    heloName,
    fallbackSender,
    localAddress: options.localAddress ?? null,
    connectTimeoutMs: positiveInt('connectTimeoutMs', options.connectTimeoutMs ?? probeDefaults.connectTimeoutMs),
    commandTimeoutMs: positiveInt('commandTimeoutMs', options.commandTimeoutMs ?? probeDefaults.commandTimeoutMs),
    maxPerSession: positiveInt('maxPerSession', options.maxPerSession ?? probeDefaults.maxPerSession),
    globalConcurrency: positiveInt('globalConcurrency', options.globalConcurrency ?? probeDefaults.globalConcurrency),
    catchAllCheck: options.catchAllCheck ?? probeDefaults.catchAllCheck,
    positiveTtlMs: nonNegative('positiveTtlMs', options.positiveTtlMs ?? probeDefaults.positiveTtlMs),
    negativeTtlMs: nonNegative('negativeTtlMs', options.negativeTtlMs ?? probeDefaults.negativeTtlMs),
    temporaryTtlMs: nonNegative('temporaryTtlMs', options.temporaryTtlMs ?? probeDefaults.temporaryTtlMs),
    dnsTimeoutMs: positiveInt('dnsTimeoutMs', options.dnsTimeoutMs ?? probeDefaults.dnsTimeoutMs),
    mxCacheTtlMs: nonNegative('mxCacheTtlMs', options.mxCacheTtlMs ?? probeDefaults.mxCacheTtlMs),
    mxNegativeCacheTtlMs: nonNegative('mxNegativeCacheTtlMs', options.mxNegativeCacheTtlMs ?? probeDefaults.mxNegativeCacheTtlMs),
    dnsConcurrency: positiveInt('dnsConcurrency', options.dnsConcurrency ?? probeDefaults.dnsConcurrency),
    maxHostsTried: positiveInt('maxHostsTried', options.maxHostsTried ?? probeDefaults.maxHostsTried),
    startTls: options.startTls ?? probeDefaults.startTls,
  };
}
