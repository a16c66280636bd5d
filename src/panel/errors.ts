/**
 * Typed errors of the panel adapters. Every error names the server and the panel function, and says
 * whether trying again later may help (`retryable`): the enforcement outbox and the sync jobs use it
 * to decide between "retry with backoff" and "give up and show the admin".
 *
 * Messages never contain the request's query string (it may carry a password, e.g. Email::add_pop).
 */
export type PanelErrorCode = 'panel_auth' | 'panel_api' | 'panel_timeout' | 'panel_unavailable' | 'panel_tls' | 'panel_protocol';

export interface PanelErrorContext {
  /** Server name (or host) the call went to. */
  server: string;
  /** WHM function, or `uapi_cpanel Module::function` for UAPI calls. */
  fn: string;
}

export abstract class PanelError extends Error {
  abstract readonly code: PanelErrorCode;
  abstract readonly retryable: boolean;
  readonly server: string;
  readonly fn: string;

  constructor(ctx: PanelErrorContext, detail: string, options?: { cause?: unknown }) {
    super(`WHM ${ctx.server}: ${ctx.fn}: ${detail}`, options);
    this.name = new.target.name;
    this.server = ctx.server;
    this.fn = ctx.fn;
  }
}

/** HTTP 401/403: the token is wrong, revoked, expired, not allowed from this IP, or lacks an ACL. */
export class PanelAuthError extends PanelError {
  readonly code = 'panel_auth' as const;
  readonly retryable = false;
  constructor(
    ctx: PanelErrorContext,
    readonly httpStatus: number,
    detail = 'access denied (check the API token, its ACLs and its IP allow-list)',
  ) {
    super(ctx, `HTTP ${httpStatus}: ${detail}`);
  }
}

/**
 * The panel answered and refused: WHM `metadata.result` 0, or UAPI `status` 0 inside `uapi_cpanel`.
 * `reason` is the panel's own text (e.g. "User 'bob' does not exist.").
 */
export class PanelApiError extends PanelError {
  readonly code = 'panel_api' as const;
  readonly retryable = false;
  constructor(
    ctx: PanelErrorContext,
    readonly reason: string,
    readonly errors: string[] = [],
  ) {
    super(ctx, `the panel refused: ${reason}`);
  }
}

/** No complete answer within the per-request timeout. A write may or may not have been applied. */
export class PanelTimeoutError extends PanelError {
  readonly code = 'panel_timeout' as const;
  readonly retryable = true;
  constructor(
    ctx: PanelErrorContext,
    readonly timeoutMs: number,
  ) {
    super(ctx, `no answer within ${timeoutMs} ms`);
  }
}

/** Connection refused/reset, DNS failure, HTTP 5xx: the panel is down or overloaded. */
export class PanelUnavailableError extends PanelError {
  readonly code: PanelErrorCode = 'panel_unavailable';
  readonly retryable: boolean = true;
  constructor(
    ctx: PanelErrorContext,
    detail: string,
    readonly httpStatus?: number,
    options?: { cause?: unknown },
  ) {
    super(ctx, detail, options);
  }
}

/**
 * The TLS handshake failed: untrusted or self-signed certificate, wrong host name, pinned fingerprint
 * mismatch. Retrying does not help until the certificate or the server's `ca`/`fingerprint` setting changes.
 */
export class PanelTlsError extends PanelUnavailableError {
  override readonly code = 'panel_tls' as const;
  override readonly retryable = false;
  constructor(
    ctx: PanelErrorContext,
    /** What went wrong, without the server/function prefix. */
    readonly problem: string,
    readonly tlsCode?: string,
    options?: { cause?: unknown },
  ) {
    super(ctx, `TLS certificate check failed: ${problem}`, undefined, options);
  }
}

/** The answer is not a WHM API 1 answer (not JSON, no `metadata`, legacy API 0 shape, HTTP 404 …). */
export class PanelProtocolError extends PanelError {
  readonly code = 'panel_protocol' as const;
  readonly retryable = false;
  constructor(
    ctx: PanelErrorContext,
    detail: string,
    readonly httpStatus?: number,
  ) {
    super(ctx, detail);
  }
}

export function isPanelError(err: unknown): err is PanelError {
  return err instanceof PanelError;
}

/** True when trying the same call again later may succeed (timeouts, connection failures, HTTP 5xx). */
export function isRetryablePanelError(err: unknown): boolean {
  return err instanceof PanelError && err.retryable;
}
