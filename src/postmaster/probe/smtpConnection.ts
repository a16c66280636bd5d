import net from 'node:net';
import tls from 'node:tls';
import { StringDecoder } from 'node:string_decoder';
import { ReplyAssembler, SmtpProtocolError, type SmtpReply } from './smtpReply';
import type { Transcript } from './transcript';

/**
 * The wire part of the probe: a TCP (optionally STARTTLS-upgraded) connection that writes command
 * lines and reads complete replies, each read bounded by a timeout, every line into the transcript.
 * Anything that goes wrong on the wire is an SmtpTransportError, which the probe maps to "unknown".
 */
export type TransportFailureKind = 'connect' | 'timeout' | 'closed' | 'tls' | 'protocol';

export class SmtpTransportError extends Error {
  constructor(
    readonly kind: TransportFailureKind,
    message: string,
    readonly errno: string | null = null,
  ) {
    super(message);
    this.name = 'SmtpTransportError';
  }
}

export interface ConnectOptions {
  ip: string;
  port: number;
  localAddress: string | null;
  connectTimeoutMs: number;
  transcript: Transcript;
}

/** A server line without a newline longer than this is not SMTP (RFC 5321 caps reply lines at 512). */
const MAX_PENDING = 16 * 1024;

function errnoOf(err: unknown): string | null {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' ? code : null;
}

function describeSocketError(err: unknown): string {
  const errno = errnoOf(err);
  const text: Record<string, string> = {
    ECONNREFUSED: 'connection refused',
    ECONNRESET: 'connection reset by the server',
    EHOSTUNREACH: 'host unreachable',
    ENETUNREACH: 'network unreachable',
    EADDRNOTAVAIL: 'local address not available',
    EPIPE: 'connection closed by the server',
  };
  const base = (errno && text[errno]) ?? (err instanceof Error ? err.message : String(err));
  return errno ? `${base} (${errno})` : base;
}

export class SmtpConnection {
  private socket: net.Socket;
  private decoder = new StringDecoder('utf8');
  private pending = '';
  private readonly assembler = new ReplyAssembler();
  private readonly replies: SmtpReply[] = [];
  private failure: SmtpTransportError | null = null;
  private waiter: { resolve: (r: SmtpReply) => void; reject: (e: SmtpTransportError) => void } | null = null;
  private readonly onData = (chunk: Buffer) => this.receive(this.decoder.write(chunk));
  private readonly onError = (err: Error) => this.fail(new SmtpTransportError('closed', describeSocketError(err), errnoOf(err)));
  private readonly onClose = () => this.fail(new SmtpTransportError('closed', 'connection closed by the server'));

  private constructor(
    socket: net.Socket,
    private readonly transcript: Transcript,
  ) {
    this.socket = socket;
    this.attach();
  }

  static open(options: ConnectOptions): Promise<SmtpConnection> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({
        host: options.ip,
        port: options.port,
        ...(options.localAddress ? { localAddress: options.localAddress } : {}),
      });
      // Attach the reader now: a fast server's greeting may arrive with the connect event.
      const connection = new SmtpConnection(socket, options.transcript);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new SmtpTransportError('connect', `no connection within ${options.connectTimeoutMs} ms`, 'ETIMEDOUT'));
      }, options.connectTimeoutMs);
      const onConnectError = (err: Error) => {
        clearTimeout(timer);
        socket.destroy();
        reject(new SmtpTransportError('connect', describeSocketError(err), errnoOf(err)));
      };
      socket.once('error', onConnectError);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.off('error', onConnectError);
        resolve(connection);
      });
    });
  }

  /** The next complete reply, or an SmtpTransportError after `timeoutMs`. */
  read(timeoutMs: number): Promise<SmtpReply> {
    const queued = this.replies.shift();
    if (queued) return Promise.resolve(queued);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        // The dialogue is out of step after a silent server: nothing more can be trusted on it.
        const err = new SmtpTransportError('timeout', `no reply within ${timeoutMs} ms`, 'ETIMEDOUT');
        this.failure ??= err;
        reject(err);
      }, timeoutMs);
      this.waiter = {
        resolve: (reply) => (clearTimeout(timer), resolve(reply)),
        reject: (err) => (clearTimeout(timer), reject(err)),
      };
    });
  }

  /** Writes one command line and waits for its reply. */
  command(line: string, timeoutMs: number): Promise<SmtpReply> {
    if (this.failure) return Promise.reject(this.failure);
    this.transcript.client(line);
    this.socket.write(`${line}\r\n`);
    return this.read(timeoutMs);
  }

  /**
   * Upgrades after a 220 to STARTTLS. The certificate is not verified: like an MTA's opportunistic
   * TLS, the probe sends no content, and a self-signed certificate must not change the answer.
   */
  async startTls(servername: string | null, timeoutMs: number): Promise<void> {
    if (this.failure) throw this.failure;
    const raw = this.socket;
    this.detach();
    // RFC 3207 §4.2: nothing received before the handshake may be used after it (command injection).
    if (this.replies.length > 0 || this.pending !== '') this.transcript.note('discarded server data sent before the TLS handshake');
    this.replies.length = 0;
    const secure = tls.connect({
      socket: raw,
      rejectUnauthorized: false,
      ...(servername && net.isIP(servername) === 0 ? { servername } : {}),
    });
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new SmtpTransportError('tls', `TLS handshake not done within ${timeoutMs} ms`, 'ETIMEDOUT')), timeoutMs);
        secure.once('secureConnect', () => (clearTimeout(timer), resolve()));
        secure.once('error', (err) => (clearTimeout(timer), reject(new SmtpTransportError('tls', `TLS handshake failed: ${describeSocketError(err)}`, errnoOf(err)))));
        secure.once('close', () => (clearTimeout(timer), reject(new SmtpTransportError('tls', 'connection closed during the TLS handshake'))));
      });
    } catch (err) {
      secure.destroy();
      raw.destroy();
      this.failure = err as SmtpTransportError;
      throw err;
    }
    secure.removeAllListeners('error');
    secure.removeAllListeners('close');
    this.socket = secure;
    this.decoder = new StringDecoder('utf8');
    this.pending = '';
    this.attach();
    this.transcript.note(`TLS established (${secure.getProtocol() ?? 'unknown protocol'}, ${secure.getCipher().name})`);
  }

  close(): void {
    this.detach();
    this.socket.on('error', () => undefined); // a late reset after destroy is not news
    this.socket.destroy();
    this.fail(new SmtpTransportError('closed', 'connection closed by the probe'));
  }

  private attach(): void {
    this.socket.on('data', this.onData);
    this.socket.on('error', this.onError);
    this.socket.on('close', this.onClose);
  }

  private detach(): void {
    this.socket.off('data', this.onData);
    this.socket.off('error', this.onError);
    this.socket.off('close', this.onClose);
  }

  private receive(text: string): void {
    this.pending += text;
    let newline: number;
    while ((newline = this.pending.indexOf('\n')) >= 0) {
      const line = this.pending.slice(0, newline).replace(/\r$/, '');
      this.pending = this.pending.slice(newline + 1);
      this.transcript.server(line);
      let reply: SmtpReply | null;
      try {
        reply = this.assembler.push(line);
      } catch (err) {
        this.fail(new SmtpTransportError('protocol', err instanceof SmtpProtocolError ? err.message : String(err)));
        return;
      }
      if (!reply) continue;
      if (this.waiter) {
        const waiter = this.waiter;
        this.waiter = null;
        waiter.resolve(reply);
      } else {
        this.replies.push(reply);
      }
    }
    if (this.pending.length > MAX_PENDING) this.fail(new SmtpTransportError('protocol', 'reply line too long'));
  }

  private fail(err: SmtpTransportError): void {
    this.failure ??= err;
    if (this.waiter) {
      const waiter = this.waiter;
      this.waiter = null;
      waiter.reject(this.failure);
    }
  }
}
