import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { runSmtpSession, type RecipientOutcome, type SessionSettings } from './smtpSession';
import { startProbeSmtpServer, type ProbeSmtpServer, type ServerBehaviour } from './testing/probeSmtpServers';

const settings: SessionSettings = {
  heloName: 'probe.example.net',
  fallbackSender: 'postmaster@probe.example.net',
  localAddress: null,
  connectTimeoutMs: 1_000,
  commandTimeoutMs: 400,
  startTls: false,
};

const opened: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
});

async function server(behaviour: ServerBehaviour = {}, ip = '127.0.0.1'): Promise<ProbeSmtpServer> {
  const s = await startProbeSmtpServer(ip, 0, behaviour);
  opened.push(s);
  return s;
}

function target(s: { ip: string; port: number }) {
  return { ip: s.ip, port: s.port, host: 'mx.example.test' };
}

function answer(outcome: RecipientOutcome | undefined) {
  if (outcome?.kind !== 'answer') throw new Error(`expected an answer, got ${JSON.stringify(outcome)}`);
  return outcome;
}

function failure(outcome: RecipientOutcome | undefined) {
  if (outcome?.kind !== 'failure') throw new Error(`expected a failure, got ${JSON.stringify(outcome)}`);
  return outcome;
}


describe('runSmtpSession against smtp-server', () => {
  it('asks RCPT for postmaster@ with the null sender and never sends DATA', async () => {
    const s = await server();
    const out = await runSmtpSession(target(s), ['postmaster@a.test'], settings);
    const a = answer(out.outcomes[0]);
    expect(a.result).toBe('accepted');
    expect(a.reply.code).toBe(250);
    expect(s.sessions).toHaveLength(1);
    expect(s.sessions[0]!.commands).toEqual(['EHLO probe.example.net', 'MAIL FROM:<>', 'RCPT TO:<postmaster@a.test>', 'RSET', 'QUIT']);
    const lines = out.transcript.entries.map((e) => `${e.dir} ${e.line}`);
    expect(lines[0]).toMatch(/^note connecting to \[127\.0\.0\.1\]:\d+$/);
    expect(lines).toContain('C RCPT TO:<postmaster@a.test>');
    expect(lines.some((l) => /^S 220 /.test(l))).toBe(true);
    // The EHLO answer is multi-line; every line is evidence.
    expect(lines.filter((l) => /^S 250[- ]/.test(l)).length).toBeGreaterThan(3);
  });

  it('carries several recipients in one session with RSET and MAIL FROM between them', async () => {
    const s = await server();
    const out = await runSmtpSession(target(s), ['postmaster@a.test', 'postmaster@b.test', 'postmaster@c.test'], settings);
    expect(out.outcomes.map((o) => answer(o).result)).toEqual(['accepted', 'accepted', 'accepted']);
    expect(s.sessions).toHaveLength(1);
    expect(s.sessions[0]!.commands).toEqual([
      'EHLO probe.example.net',
      'MAIL FROM:<>',
      'RCPT TO:<postmaster@a.test>',
      'RSET',
      'MAIL FROM:<>',
      'RCPT TO:<postmaster@b.test>',
      'RSET',
      'MAIL FROM:<>',
      'RCPT TO:<postmaster@c.test>',
      'RSET',
      'QUIT',
    ]);
    // Each recipient's evidence hides the other recipients' RCPT lines.
    const forB = out.transcript.forRecipient(1).map((e) => e.line);
    expect(forB).toContain('RCPT TO:<postmaster@b.test>');
    expect(forB.some((l) => l.includes('a.test') || l.includes('c.test'))).toBe(false);
    expect(forB.some((l) => /omitted/.test(l))).toBe(true);
  });

  it('reports 550 5.1.1 as missing, a Spamhaus 5.7.1 as a policy block and 451 greylisting as temporary', async () => {
    const s = await server({
      rcpt: (address) =>
        address.startsWith('postmaster@gone')
          ? { code: 550, message: '5.1.1 <postmaster@gone.test>: Recipient address rejected: User unknown in virtual mailbox table' }
          : address.startsWith('postmaster@listed')
            ? { code: 550, message: '5.7.1 Service unavailable; Client host [127.0.0.1] blocked using zen.spamhaus.org' }
            : { code: 451, message: '4.7.1 Greylisted, please try again later' },
    });
    const out = await runSmtpSession(target(s), ['postmaster@gone.test', 'postmaster@listed.test', 'postmaster@grey.test'], settings);
    const [gone, listed, grey] = out.outcomes.map(answer);
    expect(gone!.result).toBe('missing');
    expect(gone!.reply.enhanced).toBe('5.1.1');
    expect(listed!.result).toBe('policy_block');
    expect(grey!.result).toBe('temporary');
    expect(grey!.reply.code).toBe(451);
  });

  it('retries once with the fallback sender when the null sender is refused', async () => {
    const s = await server({ mailFrom: (address) => (address === '' ? { code: 553, message: '5.7.1 Null sender not accepted here' } : null) });
    const out = await runSmtpSession(target(s), ['postmaster@a.test', 'postmaster@b.test'], settings);
    expect(out.outcomes.map((o) => answer(o).result)).toEqual(['accepted', 'accepted']);
    const commands = s.sessions[0]!.commands;
    expect(commands.slice(0, 3)).toEqual(['EHLO probe.example.net', 'MAIL FROM:<>', 'MAIL FROM:<postmaster@probe.example.net>']);
    // The sender that worked is kept for the next recipient.
    expect(commands).toContain('RCPT TO:<postmaster@b.test>');
    expect(commands.filter((c) => c === 'MAIL FROM:<postmaster@probe.example.net>')).toHaveLength(2);
  });

  it('gives up (policy block, not missing) when the fallback sender is refused as well', async () => {
    const s = await server({ mailFrom: () => ({ code: 550, message: '5.7.1 Your IP is listed at bl.spamcop.net' }) });
    const out = await runSmtpSession(target(s), ['postmaster@a.test'], settings);
    const f = failure(out.outcomes[0]);
    expect(f.failure.stage).toBe('mail');
    expect(f.failure.result).toBe('policy_block');
    expect(s.sessions[0]!.commands).not.toContain('RCPT TO:<postmaster@a.test>');
  });

  it('falls back to HELO when EHLO is refused', async () => {
    const s = await server({ disableEhlo: true });
    const out = await runSmtpSession(target(s), ['postmaster@a.test'], settings);
    expect(answer(out.outcomes[0]).result).toBe('accepted');
    expect(s.sessions[0]!.commands.slice(0, 2)).toEqual(['EHLO probe.example.net', 'HELO probe.example.net']);
  });

  it('treats a server that never greets as unknown after the command timeout', async () => {
    const s = await server({ greeting: 'stall' });
    const started = performance.now();
    const out = await runSmtpSession(target(s), ['postmaster@a.test'], settings);
    const f = failure(out.outcomes[0]);
    expect(f.failure).toMatchObject({ stage: 'greeting', result: 'unknown', reply: null });
    expect(f.failure.message).toMatch(/no reply within 400 ms/);
    expect(performance.now() - started).toBeLessThan(3_000);
  });

  it('treats a RCPT that is never answered as unknown, asked, with the later recipients not asked', async () => {
    const s = await server({ rcpt: (address) => (address.startsWith('postmaster@slow') ? 'stall' : null) });
    const out = await runSmtpSession(target(s), ['postmaster@fast.test', 'postmaster@slow.test', 'postmaster@late.test'], settings);
    expect(answer(out.outcomes[0]).result).toBe('accepted');
    const slow = failure(out.outcomes[1]);
    expect(slow).toMatchObject({ asked: true, afterAnswers: 1 });
    expect(slow.failure).toMatchObject({ stage: 'rcpt', result: 'unknown' });
    expect(failure(out.outcomes[2])).toMatchObject({ asked: false, afterAnswers: 1 });
  });

  it('treats a 554 greeting as unknown, and one naming a blocklist as a policy block', async () => {
    const plain = await server({ greeting: { code: 554, message: 'No SMTP service here' } });
    const out = await runSmtpSession(target(plain), ['postmaster@a.test'], settings);
    expect(failure(out.outcomes[0]).failure).toMatchObject({ stage: 'greeting', result: 'unknown' });
    expect(failure(out.outcomes[0]).failure.reply?.code).toBe(554);

    const listed = await server({ greeting: { code: 554, message: '5.7.1 Client host [127.0.0.1] blocked using b.barracudacentral.org' } });
    const out2 = await runSmtpSession(target(listed), ['postmaster@a.test'], settings);
    expect(failure(out2.outcomes[0]).failure).toMatchObject({ stage: 'greeting', result: 'policy_block' });
  });

  it('treats a refused connection as unknown', async () => {
    const s = await server();
    const port = s.port;
    await s.close();
    opened.splice(opened.indexOf(s), 1);
    const out = await runSmtpSession({ ip: '127.0.0.1', port, host: 'gone.test' }, ['postmaster@a.test'], settings);
    const f = failure(out.outcomes[0]);
    expect(f.failure).toMatchObject({ stage: 'connect', result: 'unknown' });
    expect(f.failure.message).toMatch(/ECONNREFUSED/);
  });

  it('connects from the configured local address', async () => {
    const s = await server({}, '127.0.0.1');
    const out = await runSmtpSession(target(s), ['postmaster@a.test'], { ...settings, localAddress: '127.0.0.7' });
    expect(answer(out.outcomes[0]).result).toBe('accepted');
    expect(s.sessions[0]!.remoteAddress).toBe('127.0.0.7');
    expect(out.transcript.entries[0]!.line).toMatch(/from 127\.0\.0\.7$/);
  });

  it('upgrades with STARTTLS when asked to and offered', async () => {
    const s = await server({ startTls: true });
    const out = await runSmtpSession(target(s), ['postmaster@a.test'], { ...settings, startTls: true });
    expect(answer(out.outcomes[0]).result).toBe('accepted');
    expect(s.sessions[0]!.commands).toEqual(['EHLO probe.example.net', 'STARTTLS', 'EHLO probe.example.net', 'MAIL FROM:<>', 'RCPT TO:<postmaster@a.test>', 'RSET', 'QUIT']);
    expect(out.transcript.entries.some((e) => e.dir === 'note' && /^TLS established/.test(e.line))).toBe(true);
  });

  it('treats a failed TLS handshake as unknown', async () => {
    // A broken server: it says yes to STARTTLS and then answers the TLS hello in plain text.
    const broken = net.createServer((socket) => {
      socket.write('220-broken.test ESMTP\r\n220 multi-line greeting\r\n');
      socket.on('data', (data) => {
        const line = data.toString('latin1');
        if (line.startsWith('EHLO')) socket.write('250-broken.test\r\n250 STARTTLS\r\n');
        else if (line.startsWith('STARTTLS')) socket.write('220 go ahead\r\n');
        else socket.write('500 this is not TLS\r\n');
      });
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => broken.listen(0, '127.0.0.1', resolve));
    opened.push({ close: () => new Promise<void>((resolve) => broken.close(() => resolve())) });
    const port = (broken.address() as net.AddressInfo).port;
    const out = await runSmtpSession({ ip: '127.0.0.1', port, host: 'broken.test' }, ['postmaster@a.test'], { ...settings, startTls: true });
    const f = failure(out.outcomes[0]);
    expect(f.failure).toMatchObject({ stage: 'tls', result: 'unknown' });
    expect(f.failure.message).toMatch(/TLS handshake failed/);
    // The two-line greeting was read as one reply.
    expect(out.transcript.entries.filter((e) => e.dir === 'S' && e.line.startsWith('220')).length).toBe(3);
  });
});
