import http from 'node:http';
import https from 'node:https';

/**
 * A small client of the WHMCS API (https://developers.whmcs.com/api/): every call is a form-encoded
 * POST to `<WHMCS_URL>/includes/api.php` with `action`, `identifier`, `secret` and `responsetype=json`;
 * the answer is JSON with `result: "success"`, or `result: "error"` and a `message`.
 *
 * Only what charges need: find a client by email (GetClients), read its currency (GetClientsDetails)
 * and add a billable item (AddBillableItem). AddBillableItem has no idempotency key, so an error says
 * whether the item was certainly not created (`notApplied`) or might have been (a timeout or a lost
 * answer): only the first kind may be retried without looking in WHMCS first.
 */

export const whmcsInvoiceActions = ['nextcron', 'nextinvoice', 'noinvoice'] as const;
/** When WHMCS invoices the item: at the next daily cron, on the client's next invoice, or never (left for staff). */
export type WhmcsInvoiceAction = (typeof whmcsInvoiceActions)[number];

export type WhmcsErrorKind =
  /** The API answered result=error (bad parameters, client not found, …). */
  | 'api'
  /** The credentials were refused (or this host's IP is not allowed to use the API). */
  | 'auth'
  /** No connection could be made: nothing reached WHMCS. */
  | 'unreachable'
  /** Timed out, the connection broke, or the answer was not the API's JSON: WHMCS may have acted. */
  | 'uncertain';

export class WhmcsError extends Error {
  constructor(
    readonly kind: WhmcsErrorKind,
    message: string,
    readonly action: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'WhmcsError';
  }

  /** True when the call certainly changed nothing in WHMCS (so a write may be tried again). */
  get notApplied(): boolean {
    return this.kind !== 'uncertain';
  }
}

export interface WhmcsClientOptions {
  /** The WHMCS root (https://billing.example.com or …/whmcs); `/includes/api.php` is added. */
  url: string;
  identifier: string;
  secret: string;
  /** Deadline of one call (connect, request and the whole answer); default 30 s. */
  timeoutMs?: number;
}

export interface WhmcsClientRecord {
  id: number;
  email: string;
  firstname: string;
  lastname: string;
  companyname: string;
  status: string;
}

export interface NewBillableItem {
  clientId: number;
  description: string;
  /** Decimal string, e.g. "3000.00" (the client's own currency in WHMCS). */
  amount: string;
  invoiceAction: WhmcsInvoiceAction;
}

type Answer = Record<string, unknown>;

/** Connection failures that happen before a request could reach the server. */
const unreachableCodes = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);

class Timeout extends Error {}

export class WhmcsClient {
  readonly endpoint: URL;
  private readonly timeoutMs: number;

  constructor(private readonly opts: WhmcsClientOptions) {
    const url = new URL(opts.url);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new RangeError(`WHMCS URL must start with https://: ${opts.url}`);
    url.search = '';
    url.hash = '';
    url.pathname = `${url.pathname.replace(/\/+$/, '').replace(/\/includes\/api\.php$/, '')}/includes/api.php`;
    this.endpoint = url;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
  }

  /** Clients whose email is exactly `email` (case-insensitive). GetClients' search matches prefixes of several fields, so the answer is filtered. */
  async findClientsByEmail(email: string): Promise<WhmcsClientRecord[]> {
    const wanted = email.trim().toLowerCase();
    const answer = await this.call('GetClients', { search: wanted, limitnum: '100' });
    return clientList(answer)
      .map(toClientRecord)
      .filter((c) => c.email.toLowerCase() === wanted);
  }

  /** The currency code WHMCS bills the client in (GetClientsDetails), or null when the answer does not say. */
  async clientCurrency(clientId: number): Promise<string | null> {
    const answer = await this.call('GetClientsDetails', { clientid: String(clientId) });
    const client = (answer.client && typeof answer.client === 'object' ? answer.client : answer) as Answer;
    const code = client.currency_code ?? answer.currency_code;
    return typeof code === 'string' && code ? code.toUpperCase() : null;
  }

  /** Adds one billable item (unit: quantity 1); returns WHMCS's billable item id. */
  async addBillableItem(item: NewBillableItem): Promise<string> {
    const answer = await this.call('AddBillableItem', {
      clientid: String(item.clientId),
      description: item.description,
      amount: item.amount,
      unit: 'quantity',
      quantity: '1',
      invoiceaction: item.invoiceAction,
    });
    const id = answer.billableid;
    if (typeof id !== 'number' && typeof id !== 'string') throw new WhmcsError('uncertain', 'WHMCS answered success without a billable item id', 'AddBillableItem');
    return String(id);
  }

  /** One API call; any answer other than result=success is a WhmcsError. */
  async call(action: string, params: Record<string, string>): Promise<Answer> {
    const form = new URLSearchParams({ ...params, action, identifier: this.opts.identifier, secret: this.opts.secret, responsetype: 'json' }).toString();
    let res: { status: number; body: string };
    try {
      res = await this.post(form);
    } catch (err) {
      throw networkError(action, err, this.timeoutMs, this.endpoint);
    }
    let answer: unknown;
    try {
      answer = JSON.parse(res.body);
    } catch {
      throw new WhmcsError('uncertain', `WHMCS answered HTTP ${res.status} without the API's JSON (${res.body.slice(0, 120).replace(/\s+/g, ' ').trim() || 'empty body'})`, action);
    }
    const a = (answer && typeof answer === 'object' ? answer : {}) as Answer;
    if (a.result === 'success') return a;
    if (a.result === 'error') {
      const message = typeof a.message === 'string' && a.message ? a.message : 'no message';
      const auth = res.status === 401 || res.status === 403 || /authenticat|invalid ip|access denied/i.test(message);
      throw new WhmcsError(auth ? 'auth' : 'api', auth ? `WHMCS refused the API credentials: ${message} (check WHMCS_IDENTIFIER, WHMCS_SECRET and WHMCS's API IP access list)` : `WHMCS ${action}: ${message}`, action);
    }
    throw new WhmcsError('uncertain', `WHMCS answered HTTP ${res.status} without a result`, action);
  }

  /** A fresh connection per call (no keep-alive), so a broken connection always means this request. */
  private post(form: string): Promise<{ status: number; body: string }> {
    const lib = this.endpoint.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = lib.request(this.endpoint, {
        method: 'POST',
        agent: false,
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': Buffer.byteLength(form), Accept: 'application/json' },
      });
      const timer = setTimeout(() => req.destroy(new Timeout()), this.timeoutMs);
      const fail = (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      };
      req.on('error', fail);
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', fail);
        res.on('aborted', () => fail(Object.assign(new Error('the answer was cut off'), { code: 'ECONNRESET' })));
        res.on('end', () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
        });
      });
      req.end(form);
    });
  }
}

function networkError(action: string, err: unknown, timeoutMs: number, endpoint: URL): WhmcsError {
  if (err instanceof Timeout) return new WhmcsError('uncertain', `WHMCS did not answer ${action} within ${timeoutMs} ms (${endpoint.host})`, action, { cause: err });
  const e = err as NodeJS.ErrnoException;
  const code = typeof e?.code === 'string' ? e.code : '';
  if (unreachableCodes.has(code) || code.startsWith('ERR_TLS_') || code.startsWith('ERR_SSL_') || /certificate/i.test(e?.message ?? '')) {
    return new WhmcsError('unreachable', `cannot reach WHMCS at ${endpoint.host}: ${code || e?.message || String(err)}`, action, { cause: err });
  }
  return new WhmcsError('uncertain', `the connection to WHMCS broke during ${action}: ${code ? `${code} ` : ''}${e?.message ?? String(err)}`, action, { cause: err });
}

/** GetClients lists clients as `clients.client[]`; with no match the key is missing or empty, and one match may come as an object. */
function clientList(answer: Answer): Answer[] {
  const clients = answer.clients as unknown;
  const inner = clients && typeof clients === 'object' && !Array.isArray(clients) ? (clients as Answer).client : clients;
  if (Array.isArray(inner)) return inner.filter((c): c is Answer => !!c && typeof c === 'object');
  return inner && typeof inner === 'object' ? [inner as Answer] : [];
}

function toClientRecord(c: Answer): WhmcsClientRecord {
  const s = (v: unknown) => (v == null ? '' : String(v));
  return { id: Number(c.id), email: s(c.email), firstname: s(c.firstname), lastname: s(c.lastname), companyname: s(c.companyname), status: s(c.status) };
}
