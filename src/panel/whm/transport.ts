import http from 'node:http';
import https from 'node:https';
import { PanelTimeoutError, PanelTlsError, PanelUnavailableError, isPanelError, type PanelErrorContext } from '../errors';

export interface RawResponse {
  status: number;
  statusMessage: string;
  contentType: string;
  body: string;
}

export interface SendOptions {
  url: URL;
  method: 'GET' | 'POST';
  /** Form body for POST (application/x-www-form-urlencoded). */
  form?: string;
  headers: Record<string, string>;
  agent: http.Agent;
  timeoutMs: number;
  ctx: PanelErrorContext;
}

/** Answers larger than this are refused (a listaccts of tens of thousands of accounts stays far below). */
const MAX_BODY_BYTES = 256 * 1024 * 1024;

class RequestTimeout extends Error {}

/**
 * One HTTP(S) exchange with a deadline covering connect, TLS, request and the whole response body.
 * Network failures become typed panel errors; HTTP statuses are left to the caller.
 */
export function sendRequest(opts: SendOptions): Promise<RawResponse> {
  const lib = opts.url.protocol === 'https:' ? https : http;
  return new Promise<RawResponse>((resolve, reject) => {
    const headers: Record<string, string | number> = { ...opts.headers };
    if (opts.form !== undefined) {
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
      headers['Content-Length'] = Buffer.byteLength(opts.form);
    }
    const req = lib.request(opts.url, { method: opts.method, headers, agent: opts.agent });
    const timer = setTimeout(() => req.destroy(new RequestTimeout()), opts.timeoutMs);
    const fail = (err: unknown) => {
      clearTimeout(timer);
      reject(mapNetworkError(opts.ctx, err, opts.timeoutMs));
    };
    req.on('error', fail);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY_BYTES) {
          req.destroy(new PanelUnavailableError(opts.ctx, `answer larger than ${MAX_BODY_BYTES} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      res.on('error', fail);
      res.on('end', () => {
        clearTimeout(timer);
        resolve({
          status: res.statusCode ?? 0,
          statusMessage: res.statusMessage ?? '',
          contentType: String(res.headers['content-type'] ?? ''),
          body: Buffer.concat(chunks).toString('utf8'),
        });
      });
    });
    req.end(opts.form);
  });
}

const tlsCodes = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'INVALID_CA',
  'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'EPROTO',
]);

function mapNetworkError(ctx: PanelErrorContext, err: unknown, timeoutMs: number): Error {
  if (err instanceof RequestTimeout) return new PanelTimeoutError(ctx, timeoutMs);
  if (isPanelError(err)) {
    // Raised by the pinning agent before the function was known: re-label it with this call.
    if (err instanceof PanelTlsError && err.fn !== ctx.fn) return new PanelTlsError(ctx, err.problem, err.tlsCode, { cause: err });
    return err;
  }
  const e = err as NodeJS.ErrnoException;
  const code = typeof e?.code === 'string' ? e.code : '';
  const message = e?.message ?? String(err);
  if (tlsCodes.has(code) || code.startsWith('ERR_TLS_') || code.startsWith('ERR_SSL_') || /certificate/i.test(message)) {
    const hint =
      code === 'ERR_SSL_WRONG_VERSION_NUMBER' || code === 'EPROTO'
        ? ' (does this port speak TLS? WHM uses 2087 for https, 2086 for plain http)'
        : ' (set the server\'s "ca" to its certificate PEM, or "fingerprint" to its SHA-256 fingerprint)';
    return new PanelTlsError(ctx, `${code || 'TLS error'}: ${message}${hint}`, code || undefined, { cause: err });
  }
  return new PanelUnavailableError(ctx, `connection failed: ${code ? `${code} ` : ''}${message}`, undefined, { cause: err });
}
