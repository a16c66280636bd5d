import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';

/**
 * Real SMTP servers (the smtp-server package) for the probe tests, one per loopback address.
 * Linux routes all of 127.0.0.0/8 to lo, so MX host names resolving (through the test DNS server)
 * to 127.0.0.11, 127.0.0.12, … reach distinct servers that all listen on the one port the probe's
 * `port` option names. Each server records every command per session and how many sessions it
 * had open at once, so tests can prove what the probe sent and how politely.
 */
export interface Reply {
  code: number;
  message: string;
}

export interface ServerBehaviour {
  /** Refuse each session at connect with this reply, or never send a greeting. */
  greeting?: Reply | 'stall';
  /** Answer "500 command not recognized" to EHLO, so the client must use HELO. */
  disableEhlo?: boolean;
  /** Offer STARTTLS (smtp-server's built-in test certificate). */
  startTls?: boolean;
  /** Answer to MAIL FROM ('' is the null sender); null accepts. */
  mailFrom?: (address: string) => Reply | null;
  /**
   * Answer to RCPT TO (`nth` counts the RCPTs of the session from 1); null accepts; 'stall' never
   * answers. Default: accept postmaster@ only. A 421 makes smtp-server hang up after sending it.
   */
  rcpt?: (address: string, nth: number) => Reply | null | 'stall';
  /** Wait before each RCPT answer, so overlapping sessions would be caught in the act. */
  rcptDelayMs?: number;
}

export interface SessionLog {
  id: string;
  remoteAddress: string;
  commands: string[];
}

export interface ProbeSmtpServer {
  ip: string;
  port: number;
  sessions: SessionLog[];
  /** Sessions open now, and the most ever open at once. */
  active: number;
  maxActive: number;
  allCommands(): string[];
  close(): Promise<void>;
}

export const acceptPostmasterOnly = (address: string): Reply | null =>
  address.toLowerCase().startsWith('postmaster@') ? null : { code: 550, message: '5.1.1 <' + address + '>: Recipient address rejected: User unknown' };

function smtpError(reply: Reply): Error {
  return Object.assign(new Error(reply.message), { responseCode: reply.code });
}

/** Counts sessions across several servers (the global limit test). */
export class ConcurrencyMeter {
  active = 0;
  maxActive = 0;
  enter(): void {
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
  }
  leave(): void {
    this.active--;
  }
}

export async function startProbeSmtpServer(ip: string, port: number, behaviour: ServerBehaviour = {}, meter?: ConcurrencyMeter): Promise<ProbeSmtpServer> {
  const sessions = new Map<string, SessionLog>();
  const open = new Set<string>();
  const rcptCounts = new Map<string, number>();
  const state: Pick<ProbeSmtpServer, 'active' | 'maxActive'> = { active: 0, maxActive: 0 };
  // A session ends at QUIT or at close, whichever comes first: the close event of a finished
  // session can reach the server after the client's next connect, which is not an overlap.
  const end = (id: string) => {
    if (!open.delete(id)) return;
    state.active--;
    meter?.leave();
  };
  const logCommand = (entry: { tnx?: string; cid?: string }, _message: string, line?: unknown) => {
    if (entry.tnx !== 'command' || !entry.cid) return;
    const text = String(line ?? '');
    sessions.get(entry.cid)?.commands.push(text);
    if (/^QUIT\b/i.test(text)) end(entry.cid);
  };
  const quiet = () => undefined;
  const server = new SMTPServer({
    authOptional: true,
    disableReverseLookup: true,
    disabledCommands: ['AUTH', ...(behaviour.startTls ? [] : ['STARTTLS']), ...(behaviour.disableEhlo ? ['EHLO'] : [])],
    hideENHANCEDSTATUSCODES: true,
    logger: { trace: quiet, debug: logCommand, info: quiet, warn: quiet, error: quiet, fatal: quiet } as never,
    onConnect(session: SMTPServerSession, callback: (err?: Error) => void) {
      sessions.set(session.id, { id: session.id, remoteAddress: session.remoteAddress, commands: [] });
      open.add(session.id);
      state.active++;
      state.maxActive = Math.max(state.maxActive, state.active);
      meter?.enter();
      if (behaviour.greeting === 'stall') return;
      if (behaviour.greeting) return callback(smtpError(behaviour.greeting));
      callback();
    },
    onClose(session: SMTPServerSession) {
      end(session.id);
    },
    onMailFrom(address, _session, callback) {
      const reply = behaviour.mailFrom?.(address.address) ?? null;
      callback(reply ? smtpError(reply) : undefined);
    },
    onRcptTo(address, session, callback) {
      const nth = (rcptCounts.get(session.id) ?? 0) + 1;
      rcptCounts.set(session.id, nth);
      const answer = (behaviour.rcpt ?? acceptPostmasterOnly)(address.address, nth);
      if (answer === 'stall') return;
      setTimeout(() => callback(answer ? smtpError(answer) : undefined), behaviour.rcptDelayMs ?? 0);
    },
    onData(stream, _session, callback) {
      stream.resume();
      stream.on('end', () => callback(new Error('this server takes no mail')));
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(port, ip, () => {
      server.server.off('error', reject);
      resolve();
    });
  });
  const actualPort = (server.server.address() as AddressInfo).port;
  return {
    ip,
    port: actualPort,
    get sessions() {
      return [...sessions.values()];
    },
    get active() {
      return state.active;
    },
    get maxActive() {
      return state.maxActive;
    },
    allCommands: () => [...sessions.values()].flatMap((s) => s.commands),
    close: () =>
      new Promise<void>((resolve) => {
        // Stalled test sessions have no client any more; do not wait smtp-server's 30 s grace period.
        for (const connection of (server as unknown as { connections: Set<{ close(): void }> }).connections) connection.close();
        server.close(() => resolve());
      }),
  };
}

export interface SmtpFleet {
  port: number;
  servers: Map<string, ProbeSmtpServer>;
  meter: ConcurrencyMeter;
  close(): Promise<void>;
}

/** One server per loopback address, all on one port (retrying if another test holds it somewhere). */
export async function startSmtpFleet(specs: Record<string, ServerBehaviour>): Promise<SmtpFleet> {
  const ips = Object.keys(specs);
  if (ips.length === 0) throw new Error('startSmtpFleet needs at least one server');
  for (let attempt = 0; ; attempt++) {
    const meter = new ConcurrencyMeter();
    const servers = new Map<string, ProbeSmtpServer>();
    try {
      const first = await startProbeSmtpServer(ips[0]!, 0, specs[ips[0]!], meter);
      servers.set(first.ip, first);
      for (const ip of ips.slice(1)) servers.set(ip, await startProbeSmtpServer(ip, first.port, specs[ip], meter));
      return {
        port: first.port,
        servers,
        meter,
        close: async () => {
          await Promise.all([...servers.values()].map((s) => s.close()));
        },
      };
    } catch (err) {
      await Promise.all([...servers.values()].map((s) => s.close()));
      if ((err as { code?: string }).code !== 'EADDRINUSE' || attempt >= 5) throw err;
    }
  }
}
