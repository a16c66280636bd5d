import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A simulated WHMCS answering the three API actions charges use, over real HTTP, the way WHMCS does:
 * `POST /includes/api.php`, form-encoded, credentials as `identifier`/`secret` (or the older
 * `username`/`password` fields), JSON with `result: "success"` or `result: "error"` and a `message`.
 * Billable items are kept in memory. Faults can be injected: latency, a dropped answer after the item
 * was created (the client cannot know whether it was), and HTTP 500 pages.
 */

export interface SimulatedWhmcsClient {
  id: number;
  email: string;
  firstname?: string;
  lastname?: string;
  companyname?: string;
  status?: 'Active' | 'Inactive' | 'Closed';
  currency_code?: string;
}

export interface SimulatedBillableItem {
  id: number;
  clientid: number;
  description: string;
  amount: string;
  unit: string;
  quantity: string;
  invoiceaction: string;
}

export interface SimulatedWhmcsOptions {
  identifier: string;
  secret: string;
  clients?: SimulatedWhmcsClient[];
  /** Delay before every answer (ms). */
  latencyMs?: number;
}

type Answer = Record<string, unknown>;

const invoiceActions = new Set(['noinvoice', 'nextcron', 'nextinvoice', 'duedate', 'recur']);

export class SimulatedWhmcs {
  readonly items: SimulatedBillableItem[] = [];
  /** Every API request received, in order (action name only). */
  readonly actions: string[] = [];
  clients: SimulatedWhmcsClient[];
  latencyMs: number;
  /** The next AddBillableItem creates the item, then drops the connection without answering. */
  dropNextAddAnswer = false;
  /** The next N requests get an HTTP 500 HTML page (nothing is done). */
  failNext = 0;
  private nextItemId = 1;

  private constructor(
    private readonly server: http.Server,
    private readonly opts: SimulatedWhmcsOptions,
  ) {
    this.clients = [...(opts.clients ?? [])];
    this.latencyMs = opts.latencyMs ?? 0;
  }

  static async start(opts: SimulatedWhmcsOptions): Promise<SimulatedWhmcs> {
    let sim: SimulatedWhmcs | undefined;
    const server = http.createServer((req, res) => void sim!.handle(req, res));
    sim = new SimulatedWhmcs(server, opts);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return sim;
  }

  /** The WHMCS root to configure as WHMCS_URL. */
  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (this.latencyMs) await new Promise((r) => setTimeout(r, this.latencyMs));
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path !== '/includes/api.php') return send(res, 404, 'text/html', '<h1>Not Found</h1>');
    if (this.failNext > 0) {
      this.failNext -= 1;
      return send(res, 500, 'text/html', '<h1>Oops! Something went wrong.</h1>');
    }
    const p = new URLSearchParams(req.method === 'POST' ? Buffer.concat(chunks).toString('utf8') : '');
    const action = p.get('action') ?? '';
    this.actions.push(action);
    const identifier = p.get('identifier') ?? p.get('username');
    const secret = p.get('secret') ?? p.get('password');
    if (req.method !== 'POST' || identifier !== this.opts.identifier || secret !== this.opts.secret) {
      return send(res, 403, 'application/json', JSON.stringify({ result: 'error', message: 'Authentication Failed' }));
    }
    const answer = this.dispatch(action, p);
    if (action.toLowerCase() === 'addbillableitem' && answer.result === 'success' && this.dropNextAddAnswer) {
      this.dropNextAddAnswer = false;
      req.socket.destroy();
      return;
    }
    const body = p.get('responsetype') === 'json' ? JSON.stringify(answer) : Object.entries(answer).map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join(';');
    send(res, 200, p.get('responsetype') === 'json' ? 'application/json' : 'text/plain', body);
  }

  /** WHMCS action names are case-insensitive. */
  private dispatch(action: string, p: URLSearchParams): Answer {
    switch (action.toLowerCase()) {
      case 'getclients':
        return this.getClients(p);
      case 'getclientsdetails':
        return this.getClientsDetails(p);
      case 'addbillableitem':
        return this.addBillableItem(p);
      default:
        return { result: 'error', message: 'Command Not Found' };
    }
  }

  private getClients(p: URLSearchParams): Answer {
    const search = (p.get('search') ?? '').toLowerCase();
    const start = Math.max(0, Number(p.get('limitstart') ?? 0) || 0);
    const limit = Math.max(1, Number(p.get('limitnum') ?? 25) || 25);
    const status = p.get('status');
    // "The search term to look for at the start of email, firstname, lastname, fullname or companyname".
    const matches = this.clients.filter((c) => {
      if (status && (c.status ?? 'Active') !== status) return false;
      if (!search) return true;
      const fields = [c.email, c.firstname ?? '', c.lastname ?? '', `${c.firstname ?? ''} ${c.lastname ?? ''}`, c.companyname ?? ''];
      return fields.some((f) => f.toLowerCase().startsWith(search));
    });
    const page = matches.slice(start, start + limit);
    const answer: Answer = { result: 'success', totalresults: matches.length, startnumber: start, numreturned: page.length };
    // As WHMCS builds it in PHP: the key only exists when a row was added.
    if (page.length) {
      answer.clients = {
        client: page.map((c) => ({ id: c.id, firstname: c.firstname ?? '', lastname: c.lastname ?? '', companyname: c.companyname ?? '', email: c.email, datecreated: '2026-01-01', groupid: 0, status: c.status ?? 'Active' })),
      };
    }
    return answer;
  }

  private getClientsDetails(p: URLSearchParams): Answer {
    const id = Number(p.get('clientid') ?? 0);
    const email = (p.get('email') ?? '').toLowerCase();
    if (!id && !email) return { result: 'error', message: 'Client ID or Email Address Required' };
    const c = this.clients.find((x) => (id ? x.id === id : x.email.toLowerCase() === email));
    if (!c) return { result: 'error', message: 'Client Not Found' };
    const client = { id: c.id, userid: c.id, email: c.email, firstname: c.firstname ?? '', lastname: c.lastname ?? '', companyname: c.companyname ?? '', status: c.status ?? 'Active', currency_code: c.currency_code ?? 'USD' };
    return { result: 'success', client, ...client };
  }

  private addBillableItem(p: URLSearchParams): Answer {
    const clientid = Number(p.get('clientid') ?? 0);
    if (!this.clients.some((c) => c.id === clientid)) return { result: 'error', message: 'Client ID Not Found' };
    const description = p.get('description') ?? '';
    if (!description) return { result: 'error', message: 'Description is required' };
    const amount = p.get('amount') ?? '';
    if (!/^-?\d+(\.\d+)?$/.test(amount)) return { result: 'error', message: 'Amount is required' };
    const invoiceaction = p.get('invoiceaction') ?? 'noinvoice';
    if (!invoiceActions.has(invoiceaction)) return { result: 'error', message: 'Invalid Invoice Action' };
    const item: SimulatedBillableItem = { id: this.nextItemId++, clientid, description, amount, unit: p.get('unit') ?? 'hours', quantity: p.get('quantity') ?? '0', invoiceaction };
    this.items.push(item);
    return { result: 'success', billableid: item.id };
  }
}

function send(res: http.ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'Content-Type': `${type}; charset=utf-8`, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}
