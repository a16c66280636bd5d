import { describe, expect, it } from 'vitest';
import { classifyRcpt, classifySessionReply, mentionsBlocklist } from './classify';
import { ReplyAssembler, SmtpProtocolError, formatReply, replyText, type SmtpReply } from './smtpReply';

function reply(...lines: string[]): SmtpReply {
  const assembler = new ReplyAssembler();
  for (const line of lines) {
    const done = assembler.push(line);
    if (done) return done;
  }
  throw new Error('incomplete reply');
}

describe('SMTP reply parsing', () => {
  it('assembles multi-line replies and reads the enhanced code of the first line', () => {
    const r = reply('550-5.1.1 The email account that you tried to reach does not exist.', '550 5.1.1 Please try again.');
    expect(r).toEqual({ code: 550, enhanced: '5.1.1', lines: ['5.1.1 The email account that you tried to reach does not exist.', '5.1.1 Please try again.'] });
    expect(replyText(r)).toBe('The email account that you tried to reach does not exist. Please try again.');
    expect(formatReply(r)).toBe('550 5.1.1 The email account that you tried to reach does not exist. Please try again.');
  });

  it('accepts a bare code and ignores an enhanced code of another class', () => {
    expect(reply('250')).toEqual({ code: 250, enhanced: null, lines: [''] });
    expect(reply('550 2.1.5 odd').enhanced).toBeNull();
  });

  it('rejects lines that are not SMTP', () => {
    expect(() => new ReplyAssembler().push('HTTP/1.1 400 Bad Request')).toThrow(SmtpProtocolError);
  });
});

describe('classifyRcpt', () => {
  const cases: Array<[string[], string]> = [
    [['250 2.1.5 Ok'], 'accepted'],
    [['251 User not local; will forward'], 'accepted'],
    [['550 5.1.1 <postmaster@x.test>: Recipient address rejected: User unknown in local recipient table'], 'missing'],
    [['550 No such user here'], 'missing'],
    [['551 User not local; please try <postmaster@y.test>'], 'missing'],
    [['553 5.1.3 Bad recipient address syntax'], 'missing'],
    [['552 5.2.2 Mailbox full'], 'missing'],
    [['550 5.4.1 Recipient address rejected: Access denied. AS(201806281)'], 'missing'],
    // Lotus Domino's unknown user: "listed" is not a blocklist here.
    [['550 5.1.1 User not listed in public Name & Address Book'], 'missing'],
    [['550 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org'], 'policy_block'],
    [['550 Rejected: 192.0.2.1 listed at bl.spamcop.net'], 'policy_block'],
    [['550 5.1.1 blocked by recipient RBL policy'], 'policy_block'],
    [['554 5.7.1 <postmaster@x.test>: Relay access denied'], 'policy_block'],
    [['554 Transaction failed'], 'policy_block'],
    [['550-5.7.26 Unauthenticated email is not accepted', '550 5.7.26 from this domain'], 'policy_block'],
    [['451 4.7.1 Greylisted, please try again later'], 'temporary'],
    [['450 4.2.0 <postmaster@x.test>: Recipient address rejected: Greylisted'], 'temporary'],
    [['452 4.5.3 Too many recipients'], 'temporary'],
    [['450 4.7.1 Client host rejected: blocked using zen.spamhaus.org'], 'temporary'],
    [['503 5.5.1 Error: need MAIL command'], 'unknown'],
    [['501 Syntax error'], 'unknown'],
    [['552 5.3.4 Message size exceeds fixed limit'], 'unknown'],
    [['354 go on'], 'unknown'],
  ];
  it.each(cases)('%j → %s', (lines, expected) => {
    expect(classifyRcpt(reply(...lines))).toBe(expected);
  });

  it('never calls a 4xx missing', () => {
    for (let code = 400; code < 500; code++) {
      expect(classifyRcpt(reply(`${code} 4.1.1 mailbox unknown`))).toBe('temporary');
    }
  });
});

describe('classifySessionReply (refusals before RCPT)', () => {
  it('is temporary for 4xx, policy for blocklists or 5.7.x, else unknown: never missing', () => {
    expect(classifySessionReply(reply('421 4.3.2 Service shutting down'))).toBe('temporary');
    expect(classifySessionReply(reply('554 No SMTP service here'))).toBe('unknown');
    expect(classifySessionReply(reply('554 5.7.1 Your IP is on our blacklist'))).toBe('policy_block');
    expect(classifySessionReply(reply('550 5.7.1 Null sender refused'))).toBe('policy_block');
    expect(classifySessionReply(reply('550 5.1.1 mailbox unknown'))).toBe('unknown');
  });

  it('recognises blocklist wording', () => {
    expect(mentionsBlocklist('JunkMail rejected - listed in dnsbl.sorbs.net')).toBe(true);
    expect(mentionsBlocklist('Your IP has a poor reputation')).toBe(true);
    expect(mentionsBlocklist('User unknown')).toBe(false);
  });
});
