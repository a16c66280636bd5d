import crypto from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { SimFailure, type HandlerContext } from './handlerContext';
import { parseSeed, seedServerNamed, type SeedFileInput, type SeedServer } from './seedSchema';
import { SimState } from './simState';
import { whmHandlers } from './whmHandlers';

/** Fault and speed settings; change them at runtime (`sim.knobs.latencyMs = 20`). */
export interface SimKnobs {
  /** Delay before every answer, in ms. */
  latencyMs: number;
  /** Fraction (0–1) of requests answered with HTTP 500. */
  errorRate: number;
  /** Fraction (0–1) of requests never answered (until the client gives up). */
  timeoutRate: number;
  /**
   * WHM functions answering metadata.result 0 ("listaccts"), or UAPI functions answering
   * data.uapi.status 0 ("Email::list_pops").
   */
  failFunctions: Set<string>;
  /** Deterministic faults: the next N requests answer HTTP 500 (counts down). */
  error500Next: number;
  /** Deterministic faults: the next N requests are never answered (counts down). */
  timeoutNext: number;
  /**
   * Fraction (0–1) of requests that are carried out but whose answer is lost (never sent): the
   * dangerous case for writes, where the client cannot know the call took effect.
   */
  lostAnswerRate: number;
  /** Email::list_forwarders refuses to run without a domain, as the current UAPI spec reads. */
  forwardersRequireDomain: boolean;
}

export interface SimulatedWhmOptions {
  /** A whole seed file (validated here) or one server of it. */
  seed: SeedFileInput | SeedServer;
  /** Which server of a multi-server seed (default: the first). */
  server?: string;
  /** API token clients must send as `Authorization: whm <user>:<token>`. */
  token: string;
  /** WHM user of the token (default "root"; any other user acts as a reseller: it sees only the accounts it owns). */
  user?: string;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (a free port). */
  port?: number;
  /** Serve HTTPS with this key and certificate (PEM) instead of plain HTTP. */
  tls?: { key: string | Buffer; cert: string | Buffer };
  knobs?: Partial<Omit<SimKnobs, 'failFunctions'>> & { failFunctions?: Iterable<string> };
  /** Randomness for errorRate/timeoutRate (tests). */
  random?: () => number;
}

export interface SimStats {
  /** Requests received (any path). */
  requests: number;
  /** Requests being handled right now. */
  inFlight: number;
  /** Highest `inFlight` seen since the last reset. */
  maxInFlight: number;
}

export interface SimulatedWhm {
  /** e.g. http://127.0.0.1:41234 */
  url: string;
  serverName: string;
  state: SimState;
  knobs: SimKnobs;
  stats: SimStats;
  /** Calls per WHM function ("listaccts", "uapi_cpanel") and per UAPI function ("Email::list_pops"). */
  calls: Map<string, number>;
  callCount(name: string): number;
  /** Sum of calls over all WHM functions. */
  totalCalls(): number;
  /** Every call the simulator carried out successfully (its effect applied), in order, with its `user` parameter. */
  applied: Array<{ fn: string; user: string | null }>;
  /** Zeroes calls and stats. */
  resetCounters(): void;
  close(): Promise<void>;
}

const forbiddenBody = JSON.stringify({ cpanelresult: { apiversion: '2', error: 'Access denied', data: { reason: 'Access denied', result: '0' }, type: 'text' } });

function resolveSeed(seed: SimulatedWhmOptions['seed'], name?: string): SeedServer {
  if ('servers' in seed) return seedServerNamed(parseSeed(seed, 'object'), name);
  return seedServerNamed(parseSeed({ version: 1, servers: [seed] }, 'object (one server)'), name);
}

function sameSecret(a: string, b: string): boolean {
  const x = crypto.createHash('sha256').update(a).digest();
  const y = crypto.createHash('sha256').update(b).digest();
  return crypto.timingSafeEqual(x, y);
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res: http.ServerResponse, status: number, body: unknown, statusMessage?: string): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, statusMessage ?? http.STATUS_CODES[status] ?? '', { 'Content-Type': 'application/json; charset="utf-8"', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function sendText(res: http.ServerResponse, status: number, contentType: string, text: string, statusMessage?: string): void {
  res.writeHead(status, statusMessage ?? http.STATUS_CODES[status] ?? '', { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * Starts a simulated WHM server: a real HTTP(S) server answering WHM API 1 (`/json-api/<fn>`) with
 * the same JSON shapes as cPanel & WHM, from an in-memory state loaded from a seed.
 */
export async function startSimulatedWhm(opts: SimulatedWhmOptions): Promise<SimulatedWhm> {
  const seedServer = resolveSeed(opts.seed, opts.server);
  const state = new SimState(seedServer);
  const user = (opts.user ?? 'root').toLowerCase();
  const random = opts.random ?? Math.random;
  const knobs: SimKnobs = {
    latencyMs: 0,
    errorRate: 0,
    timeoutRate: 0,
    error500Next: 0,
    timeoutNext: 0,
    lostAnswerRate: 0,
    forwardersRequireDomain: false,
    ...opts.knobs,
    failFunctions: new Set(opts.knobs?.failFunctions ?? []),
  };
  const stats: SimStats = { requests: 0, inFlight: 0, maxInFlight: 0 };
  const calls = new Map<string, number>();
  const applied: SimulatedWhm['applied'] = [];
  const count = (name: string) => calls.set(name, (calls.get(name) ?? 0) + 1);
  let baseUrl = '';

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://sim.invalid');
    if (/^\/cpsess\d+\/login\/?$/.test(url.pathname)) {
      const who = (url.searchParams.get('session') ?? '').split(':')[0] ?? '';
      sendText(res, 200, 'text/html; charset=utf-8', `<!doctype html><title>cPanel (simulated)</title><p>Simulated cPanel session for <strong>${escapeHtml(who)}</strong> on ${escapeHtml(state.name)}.</p>`);
      return;
    }
    const m = /^\/json-api\/([^/]+)\/?$/.exec(url.pathname);
    if (!m) {
      if (url.pathname === '/') sendText(res, 200, 'text/plain; charset=utf-8', `Simulated WHM for ${state.name}. WHM API 1: GET /json-api/<function>?api.version=1 with "Authorization: whm ${user}:<token>".\n`);
      else sendText(res, 404, 'text/plain; charset=utf-8', 'Not Found\n');
      return;
    }
    const fn = decodeURIComponent(m[1]!);
    const params = new URLSearchParams(url.search);
    if (req.method === 'POST') for (const [k, v] of new URLSearchParams(await readBody(req))) params.append(k, v);
    count(fn);
    if (fn === 'uapi_cpanel' && params.get('cpanel.module') && params.get('cpanel.function')) count(`${params.get('cpanel.module')}::${params.get('cpanel.function')}`);

    if (knobs.latencyMs > 0) await new Promise((r) => setTimeout(r, knobs.latencyMs));
    if (knobs.timeoutNext > 0 || (knobs.timeoutRate > 0 && random() < knobs.timeoutRate)) {
      if (knobs.timeoutNext > 0) knobs.timeoutNext--;
      return; // never answered; the socket closes when the client gives up or the simulator stops
    }
    if (knobs.error500Next > 0 || (knobs.errorRate > 0 && random() < knobs.errorRate)) {
      if (knobs.error500Next > 0) knobs.error500Next--;
      sendText(res, 500, 'text/html; charset=utf-8', '<html><head><title>500 Internal Server Error</title></head><body><h1>Internal Server Error</h1><p>The server encountered an internal error (simulated).</p></body></html>');
      return;
    }

    const auth = /^whm\s+([^:\s]+):(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    if (!auth || auth[1]!.toLowerCase() !== user || !sameSecret(auth[2]!, opts.token)) {
      sendText(res, 403, 'text/plain; charset="utf-8"', forbiddenBody, 'Forbidden Access denied');
      return;
    }

    const version = params.get('api.version');
    const legacy = version === null;
    const answer = (result: 0 | 1, reason: string, data?: Record<string, unknown>, output?: string) => {
      if (legacy) {
        // WHM API 0 style: no metadata envelope (clients must send api.version=1).
        sendJson(res, 200, data && result === 1 ? { ...data, status: result, statusmsg: reason } : { result: [{ status: result, statusmsg: reason }] });
        return;
      }
      const body: Record<string, unknown> = {};
      if (data !== undefined) body.data = data;
      body.metadata = { command: fn, reason, result, version: 1, ...(output !== undefined ? { output: { raw: output } } : {}) };
      sendJson(res, 200, body);
    };
    if (!legacy && version !== '1') return answer(0, `Unsupported API version “${version}”.`);
    const handler = whmHandlers[fn];
    if (!handler) return answer(0, `Unknown app (“${fn}”) requested for this version (1) of the API.`);
    if (knobs.failFunctions.has(fn)) return answer(0, `Simulated failure of ${fn}.`);
    const ctx: HandlerContext = {
      state,
      caller: user,
      params,
      now: Math.floor(Date.now() / 1000),
      baseUrl,
      failUapi: (name) => knobs.failFunctions.has(name),
      forwardersRequireDomain: knobs.forwardersRequireDomain,
    };
    try {
      const out = handler(ctx);
      applied.push({ fn, user: params.get('user') });
      if (knobs.lostAnswerRate > 0 && random() < knobs.lostAnswerRate) return; // applied, but the answer never arrives
      answer(1, out.reason ?? 'OK', out.data, out.output);
    } catch (err) {
      if (err instanceof SimFailure) answer(0, err.message);
      else throw err;
    }
  };

  const listener = (req: http.IncomingMessage, res: http.ServerResponse) => {
    stats.requests++;
    stats.inFlight++;
    stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
    res.once('close', () => stats.inFlight--);
    handle(req, res).catch((err: unknown) => {
      process.stderr.write(`simulated WHM: ${(err as Error).stack ?? String(err)}\n`);
      if (!res.headersSent) sendText(res, 500, 'text/plain; charset=utf-8', 'Internal Server Error\n');
    });
  };

  const server = opts.tls ? https.createServer({ key: opts.tls.key, cert: opts.tls.cert }, listener) : http.createServer(listener);
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  baseUrl = `${opts.tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`;

  return {
    url: baseUrl,
    serverName: state.name,
    state,
    knobs,
    stats,
    calls,
    callCount: (name) => calls.get(name) ?? 0,
    totalCalls: () => [...calls].filter(([k]) => !k.includes('::')).reduce((n, [, v]) => n + v, 0),
    applied,
    resetCounters: () => {
      calls.clear();
      applied.length = 0;
      stats.requests = 0;
      stats.maxInFlight = stats.inFlight;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
