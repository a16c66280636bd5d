import http from 'node:http';
import { PanelApiError, isRetryablePanelError, type PanelErrorContext } from '../errors';
import type { DomainMailRoutes, PanelAccount, PanelAdapter, PanelDomain } from '../panelAdapter';
import { withRetries, type RetryPolicy } from './backoff';
import { arrayOfObjects, readUapiResult, readWhmEnvelope } from './envelope';
import { accountFields, domainsIn, forwarderParams, toDomainMailRoutes, toPanelAccount, toPanelDomain, type RawMailConfig } from './mappers';
import { Semaphore } from './semaphore';
import { createHttpsAgent, keepAliveOptions, normalizeFingerprint, type WhmTlsOptions } from './tlsOptions';
import { sendRequest } from './transport';
import { isReadFunction, type UapiFunctionName, type WhmFunctionName } from './whmFunctions';

export interface WhmClientOptions extends WhmTlsOptions {
  /** Base URL of WHM, e.g. https://cp1.example.net:2087. Plain http:// only when the URL says so (the simulator in tests). */
  url: string;
  /** WHM user the token belongs to (default "root"). */
  user?: string;
  /** WHM API token. */
  token: string;
  /** Name used in error messages (default: the URL's host). */
  serverName?: string;
  /** Per-request deadline in ms, covering connect, TLS and the whole answer (default 30 000). */
  timeoutMs?: number;
  /** Requests in flight at once to this server (default 4). */
  maxConcurrency?: number;
  /** Retries of READ functions only (default 2 retries, 250 ms base, 4 s cap, full jitter). */
  retry?: Partial<RetryPolicy>;
  /** Source of randomness for the backoff jitter (tests). */
  random?: () => number;
}

type Params = Record<string, string>;

interface CallOptions {
  /** UAPI `Module::function` when fn is uapi_cpanel. */
  uapi?: UapiFunctionName;
  /** Send the parameters as a POST form body (used when they carry a password). */
  post?: boolean;
}

const defaultRetry: RetryPolicy = { retries: 2, baseDelayMs: 250, maxDelayMs: 4000 };

/**
 * PanelAdapter over WHM API 1 (`GET /json-api/<fn>?api.version=1&…`, `Authorization: whm USER:TOKEN`).
 * Reads are retried with exponential backoff and full jitter on timeouts, connection failures and
 * HTTP 5xx; writes are sent once (the enforcement outbox owns their retries). At most
 * `maxConcurrency` requests are in flight; usernames are lowercased before they are sent.
 */
export class WhmApiClient implements PanelAdapter {
  readonly serverName: string;
  private readonly baseUrl: URL;
  private readonly authHeader: string;
  private readonly timeoutMs: number;
  private readonly retry: RetryPolicy;
  private readonly random: () => number;
  private readonly semaphore: Semaphore;
  private readonly agent: http.Agent;
  /** Set once the server refuses Email::list_forwarders without a domain (see whmFunctions.ts). */
  private forwardersNeedDomain = false;

  constructor(opts: WhmClientOptions) {
    let url: URL;
    try {
      url = new URL(opts.url);
    } catch {
      throw new RangeError(`WHM URL is not a URL: ${JSON.stringify(opts.url)}`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new RangeError(`WHM URL must start with https:// (or http:// for a local simulator): ${opts.url}`);
    if (url.protocol === 'http:' && (opts.ca || opts.fingerprint)) throw new RangeError(`"ca"/"fingerprint" need an https:// WHM URL: ${opts.url}`);
    if (opts.ca && opts.fingerprint) throw new RangeError('Give either "ca" or "fingerprint" for a WHM server, not both');
    if (opts.fingerprint) normalizeFingerprint(opts.fingerprint); // fail fast on a malformed pin
    if (!opts.token) throw new RangeError('A WHM API token is required');
    url.search = '';
    url.hash = '';
    this.baseUrl = url;
    this.serverName = opts.serverName ?? url.host;
    const user = (opts.user ?? 'root').toLowerCase();
    this.authHeader = `whm ${user}:${opts.token}`;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.retry = { ...defaultRetry, ...opts.retry };
    this.random = opts.random ?? Math.random;
    const concurrency = opts.maxConcurrency ?? 4;
    this.semaphore = new Semaphore(concurrency);
    this.agent =
      url.protocol === 'https:'
        ? createHttpsAgent({ ca: opts.ca, fingerprint: opts.fingerprint }, concurrency, this.serverName)
        : new http.Agent(keepAliveOptions(concurrency));
  }

  /** Closes idle keep-alive connections. */
  close(): void {
    this.agent.destroy();
  }

  // ---- reads ---------------------------------------------------------------------------------

  async listAccounts(): Promise<PanelAccount[]> {
    const ctx = this.ctx('listaccts');
    const data = await this.call('listaccts', { want: accountFields.join(',') });
    return arrayOfObjects(ctx, data.acct, 'data.acct').map(toPanelAccount);
  }

  async listDomains(): Promise<PanelDomain[]> {
    const ctx = this.ctx('get_domain_info');
    const data = await this.call('get_domain_info', {});
    return arrayOfObjects(ctx, data.domains, 'data.domains')
      .map(toPanelDomain)
      .filter((d): d is PanelDomain => d !== null);
  }

  async listResellers(): Promise<string[]> {
    const data = await this.call('listresellers', {});
    const list = Array.isArray(data.reseller) ? data.reseller : [];
    return [...new Set(list.map((r) => String(r).trim().toLowerCase()).filter(Boolean))].sort();
  }

  async accountSummary(username: string): Promise<PanelAccount> {
    const user = normalizeUser(username);
    const ctx = this.ctx('accountsummary');
    const data = await this.call('accountsummary', { user });
    const row = arrayOfObjects(ctx, data.acct, 'data.acct')[0];
    if (!row) throw new PanelApiError(ctx, `no account data returned for "${user}"`);
    return toPanelAccount(row);
  }

  /**
   * Five uapi_cpanel calls per account, whatever its domain count (each lists every domain of the
   * account at once). Only if the server insists on a domain for Email::list_forwarders does it fall
   * back to one list_forwarders call per domain.
   */
  async mailRoutes(username: string): Promise<DomainMailRoutes[]> {
    const user = normalizeUser(username);
    const forwardersAll = this.forwardersNeedDomain ? Promise.resolve(null) : this.uapiList(user, 'Email::list_forwarders', {}).catch((err) => this.forwardersFallbackSignal(err));
    const [pops, domainForwarders, defaults, mxs, forwardersOrNull] = await Promise.all([
      this.uapiList(user, 'Email::list_pops', { skip_main: '1' }),
      this.uapiList(user, 'Email::list_domain_forwarders', {}),
      this.uapiList(user, 'Email::list_default_address', { user }),
      this.uapiList(user, 'Email::list_mxs', {}),
      forwardersAll,
    ]);
    let forwarders = forwardersOrNull;
    if (forwarders === null) {
      const perDomain = await Promise.all(domainsIn({ defaults, mxs }).map((domain) => this.uapiList(user, 'Email::list_forwarders', { domain })));
      forwarders = perDomain.flat();
    }
    const raw: RawMailConfig = { pops, forwarders, domainForwarders, defaults, mxs };
    return toDomainMailRoutes(raw);
  }

  // ---- writes --------------------------------------------------------------------------------

  async createMailbox(username: string, address: string, password: string): Promise<void> {
    const { local, domain } = splitAddress(address);
    await this.uapi(normalizeUser(username), 'Email::add_pop', { email: local, domain, password }, { post: true });
  }

  async createForwarder(username: string, address: string, target: string): Promise<void> {
    const { local, domain } = splitAddress(address);
    await this.uapi(normalizeUser(username), 'Email::add_forwarder', { domain, email: `${local}@${domain}`, ...forwarderParams(target) });
  }

  async suspendAccount(username: string, reason: string, opts?: { disallowResellerUnsuspend?: boolean }): Promise<void> {
    await this.call('suspendacct', { user: normalizeUser(username), reason, disallowun: opts?.disallowResellerUnsuspend ? '1' : '0' });
  }

  async unsuspendAccount(username: string): Promise<void> {
    await this.call('unsuspendacct', { user: normalizeUser(username) });
  }

  async suspendOutgoingEmail(username: string): Promise<void> {
    await this.call('suspend_outgoing_email', { user: normalizeUser(username) });
  }

  async unsuspendOutgoingEmail(username: string): Promise<void> {
    await this.call('unsuspend_outgoing_email', { user: normalizeUser(username) });
  }

  async holdOutgoingEmail(username: string): Promise<void> {
    await this.call('hold_outgoing_email', { user: normalizeUser(username) });
  }

  async releaseOutgoingEmail(username: string): Promise<void> {
    await this.call('release_outgoing_email', { user: normalizeUser(username) });
  }

  async terminateAccount(username: string, opts?: { keepDns?: boolean }): Promise<void> {
    await this.call('removeacct', { user: normalizeUser(username), keepdns: opts?.keepDns ? '1' : '0' });
  }

  async suspendReseller(username: string, reason: string): Promise<void> {
    await this.call('suspendreseller', { user: normalizeUser(username), reason });
  }

  async unsuspendReseller(username: string): Promise<void> {
    await this.call('unsuspendreseller', { user: normalizeUser(username) });
  }

  async createLoginUrl(username: string): Promise<string> {
    const ctx = this.ctx('create_user_session');
    const data = await this.call('create_user_session', { user: normalizeUser(username), service: 'cpaneld' });
    if (typeof data.url !== 'string' || !data.url) throw new PanelApiError(ctx, 'no login URL (data.url) in the answer');
    return data.url;
  }

  // ---- plumbing ------------------------------------------------------------------------------

  private ctx(fn: string, uapi?: string): PanelErrorContext {
    return { server: this.serverName, fn: uapi ? `uapi_cpanel ${uapi}` : fn };
  }

  private async uapi(user: string, fn: UapiFunctionName, params: Params, opts: Omit<CallOptions, 'uapi'> = {}): Promise<unknown> {
    const [module, func] = fn.split('::') as [string, string];
    const data = await this.call('uapi_cpanel', { 'cpanel.user': user, 'cpanel.module': module, 'cpanel.function': func, ...params }, { ...opts, uapi: fn });
    return readUapiResult(this.ctx('uapi_cpanel', fn), data);
  }

  private async uapiList(user: string, fn: UapiFunctionName, params: Params): Promise<Array<Record<string, unknown>>> {
    const data = await this.uapi(user, fn, params);
    return arrayOfObjects(this.ctx('uapi_cpanel', fn), data, 'data.uapi.data');
  }

  /** null = "ask per domain"; anything else is rethrown. */
  private forwardersFallbackSignal(err: unknown): null {
    if (err instanceof PanelApiError && err.fn.endsWith('Email::list_forwarders') && /domain/i.test(err.reason) && /(required|missing|must)/i.test(err.reason)) {
      this.forwardersNeedDomain = true;
      return null;
    }
    throw err;
  }

  /** One WHM API 1 function: retried only if it reads; returns the envelope's `data`. */
  private async call(fn: WhmFunctionName, params: Params, opts: CallOptions = {}): Promise<Record<string, unknown>> {
    const ctx = this.ctx(fn, opts.uapi);
    const policy: RetryPolicy = isReadFunction(fn, opts.uapi) ? this.retry : { ...this.retry, retries: 0 };
    return withRetries(policy, () => this.semaphore.run(() => this.once(ctx, fn, params, opts)), isRetryablePanelError, this.random);
  }

  private async once(ctx: PanelErrorContext, fn: string, params: Params, opts: CallOptions): Promise<Record<string, unknown>> {
    const url = new URL(this.baseUrl.href);
    url.pathname = `${url.pathname.replace(/\/+$/, '')}/json-api/${encodeURIComponent(fn)}`;
    const query = new URLSearchParams({ 'api.version': '1' });
    const form = new URLSearchParams(params);
    if (!opts.post) for (const [k, v] of form) query.append(k, v);
    url.search = query.toString();
    const res = await sendRequest({
      url,
      method: opts.post ? 'POST' : 'GET',
      form: opts.post ? form.toString() : undefined,
      headers: { Authorization: this.authHeader, Accept: 'application/json' },
      agent: this.agent,
      timeoutMs: this.timeoutMs,
      ctx,
    });
    return readWhmEnvelope(ctx, res);
  }
}

function normalizeUser(username: string): string {
  const user = username.trim().toLowerCase();
  if (!user) throw new RangeError('A panel username is required');
  return user;
}

function splitAddress(address: string): { local: string; domain: string } {
  const a = address.trim().toLowerCase();
  const at = a.lastIndexOf('@');
  if (at <= 0 || at === a.length - 1) throw new RangeError(`Not an email address: ${JSON.stringify(address)}`);
  return { local: a.slice(0, at), domain: a.slice(at + 1) };
}
