import https from 'node:https';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import { PanelTlsError } from '../errors';

/**
 * TLS settings for one WHM server. Verification is always on:
 * - neither option: the system CA store and the host name must match (a real certificate on 2087);
 * - `ca`: trust this PEM (the server's self-signed certificate or a private CA) and check the host name;
 * - `fingerprint`: accept exactly the certificate whose SHA-256 fingerprint this is (pinning; the chain
 *   and the host name are not checked, the pin replaces them). Colon-separated or plain hex, any case.
 * Never a global NODE_TLS_REJECT_UNAUTHORIZED.
 */
export interface WhmTlsOptions {
  ca?: string | Buffer;
  fingerprint?: string;
}

/** "ab:cd:…" or "abcd…" (64 hex digits) → "AB:CD:…", the format of `PeerCertificate.fingerprint256`. */
export function normalizeFingerprint(input: string): string {
  const hex = input.trim().replace(/^sha256[:=]\s*/i, '').replace(/[:\s]/g, '').toUpperCase();
  if (!/^[0-9A-F]{64}$/.test(hex)) {
    throw new RangeError(`A WHM certificate fingerprint must be a SHA-256 fingerprint: 64 hex digits, optionally colon-separated (got ${JSON.stringify(input)})`);
  }
  return hex.match(/../g)!.join(':');
}

/**
 * An https.Agent that completes the TLS handshake without chain verification, then hands the socket to
 * the request only if the server's certificate has the pinned fingerprint. Nothing (not even the
 * Authorization header) is written before the check passes.
 */
class PinnedAgent extends https.Agent {
  constructor(
    private readonly pin: string,
    private readonly serverLabel: string,
    options: https.AgentOptions,
  ) {
    // No session cache: every connection shows its certificate.
    super({ ...options, maxCachedSessions: 0 });
  }

  override createConnection(options: https.RequestOptions, callback?: (err: Error | null, stream: Duplex) => void): Duplex | null | undefined {
    const socket = tls.connect({ ...(options as tls.ConnectionOptions), rejectUnauthorized: false });
    let settled = false;
    const done = (err: Error | null) => {
      if (settled) return;
      settled = true;
      socket.off('error', onError);
      if (err) socket.destroy();
      callback?.(err, socket);
    };
    const onError = (err: Error) => done(err);
    socket.once('error', onError);
    socket.once('secureConnect', () => {
      const seen = socket.getPeerCertificate()?.fingerprint256;
      if (seen && seen.toUpperCase() === this.pin) done(null);
      else {
        done(
          new PanelTlsError(
            { server: this.serverLabel, fn: 'connect' },
            `the server's certificate fingerprint ${seen ?? '(none)'} does not match the pinned SHA-256 fingerprint ${this.pin}`,
            'FINGERPRINT_MISMATCH',
          ),
        );
      }
    });
    return undefined;
  }
}

/**
 * Keep-alive settings shared by the http and https agents: idle sockets are dropped after 4 s (the
 * socket timeout only ever closes *idle* sockets; a request's own deadline is the client's timeoutMs),
 * so a write is not sent on a connection the server has just closed.
 */
export function keepAliveOptions(maxSockets: number) {
  return { keepAlive: true, maxSockets, maxFreeSockets: maxSockets, scheduling: 'lifo' as const, timeout: 4000 };
}

/** The keep-alive agent for one WHM server (https), sized to the client's concurrency. */
export function createHttpsAgent(tlsOptions: WhmTlsOptions, maxSockets: number, serverLabel: string): https.Agent {
  const base: https.AgentOptions = { ...keepAliveOptions(maxSockets) };
  if (tlsOptions.fingerprint) return new PinnedAgent(normalizeFingerprint(tlsOptions.fingerprint), serverLabel, base);
  return new https.Agent({ ...base, rejectUnauthorized: true, ...(tlsOptions.ca ? { ca: tlsOptions.ca } : {}) });
}
