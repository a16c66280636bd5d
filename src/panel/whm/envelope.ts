import { PanelApiError, PanelAuthError, PanelProtocolError, PanelUnavailableError, type PanelErrorContext } from '../errors';
import type { RawResponse } from './transport';

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseJson(ctx: PanelErrorContext, res: RawResponse): unknown {
  try {
    return JSON.parse(res.body);
  } catch {
    const looksHtml = /^\s*</.test(res.body);
    throw new PanelProtocolError(
      ctx,
      `HTTP ${res.status}: the answer is not JSON${looksHtml ? ' but HTML (a login page or proxy page: is the URL the WHM API port, 2087?)' : ''}`,
      res.status,
    );
  }
}

/** cPanel's 403 body is the legacy `{"cpanelresult":{"error":"Access denied",…}}` shape. */
function legacyError(body: unknown): string | undefined {
  if (!isObject(body) || !isObject(body.cpanelresult)) return undefined;
  const r = body.cpanelresult;
  if (typeof r.error === 'string') return r.error;
  if (isObject(r.data) && typeof r.data.reason === 'string') return r.data.reason;
  return undefined;
}

/**
 * Checks HTTP status and the WHM API 1 envelope; returns `data` (`{}` for functions that return
 * only metadata). Success only when `metadata.result` is 1.
 */
export function readWhmEnvelope(ctx: PanelErrorContext, res: RawResponse): Json {
  if (res.status === 401 || res.status === 403) {
    let reason: string | undefined;
    try {
      reason = legacyError(JSON.parse(res.body));
    } catch {
      reason = undefined;
    }
    throw new PanelAuthError(ctx, res.status, `${reason ?? (res.statusMessage || 'access denied')} (check the API token, its ACLs and its IP allow-list)`);
  }
  if (res.status >= 500) throw new PanelUnavailableError(ctx, `HTTP ${res.status} ${res.statusMessage}`.trim(), res.status);
  if (res.status !== 200) throw new PanelProtocolError(ctx, `HTTP ${res.status} ${res.statusMessage} (is the URL the WHM API, https://host:2087?)`.trim(), res.status);

  const body = parseJson(ctx, res);
  if (!isObject(body)) throw new PanelProtocolError(ctx, 'the answer is not a JSON object', res.status);
  const meta = body.metadata;
  if (!isObject(meta)) {
    const legacy = legacyError(body);
    if (legacy !== undefined) throw new PanelApiError(ctx, legacy);
    throw new PanelProtocolError(ctx, 'the answer has no "metadata": not a WHM API 1 answer (legacy API 0 format? api.version=1 missing?)', res.status);
  }
  const reason = typeof meta.reason === 'string' && meta.reason ? meta.reason : 'no reason given';
  if (Number(meta.result) !== 1) throw new PanelApiError(ctx, reason);
  return isObject(body.data) ? body.data : {};
}

/**
 * The UAPI result inside a `uapi_cpanel` answer (`data.uapi`: {status, errors, messages, warnings,
 * metadata, data}); returns its `data`. Success only when `status` is 1.
 */
export function readUapiResult(ctx: PanelErrorContext, whmData: Json): unknown {
  const inner = whmData.uapi;
  if (!isObject(inner)) throw new PanelProtocolError(ctx, 'the uapi_cpanel answer has no "data.uapi" object');
  if (Number(inner.status) !== 1) {
    const errors = Array.isArray(inner.errors) ? inner.errors.map(String) : [];
    throw new PanelApiError(ctx, errors.length ? errors.join('; ') : 'UAPI status 0 without an error message', errors);
  }
  return inner.data;
}

/** `data[key]` as an array of objects; absent (e.g. listaccts matching nothing) is an empty list. */
export function arrayOfObjects(ctx: PanelErrorContext, value: unknown, what: string): Json[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new PanelProtocolError(ctx, `${what} is not an array`);
  return value.filter(isObject);
}
