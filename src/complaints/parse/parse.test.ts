import fs from 'node:fs';
import { isIP } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { deepNest, mutate, prng } from './fuzzInputs';
import { parseComplaint, type ParsedComplaint, type ParseResult } from './index';
import { parseContentType, splitMultipart } from './mime';
import { decodeWords, isPublicLooking, normalizeIp, orgDomain, parseDate } from './text';

/**
 * The 14 ARF / feedback-loop samples in ./fixtures (copied from ../shared/fixtures/arf; see SOURCES.md there), variants built from them,
 * and a seeded fuzz run over mutated copies.
 */

const here = path.dirname(fileURLToPath(import.meta.url));
const FIXTURES = path.resolve(here, 'fixtures');
if (!fs.existsSync(FIXTURES) || !fs.statSync(FIXTURES).isDirectory()) {
  throw new Error(`ARF fixtures not found at ${FIXTURES} (expected src/complaints/parse/fixtures)`);
}
const fixtureFiles = fs.readdirSync(FIXTURES).filter((f) => f.endsWith('.eml')).sort();

function fixture(n: number): string {
  const prefix = String(n).padStart(2, '0') + '-';
  const file = fixtureFiles.find((f) => f.startsWith(prefix));
  if (!file) throw new Error(`fixture ${prefix}*.eml missing in ${FIXTURES}`);
  return fs.readFileSync(path.join(FIXTURES, file), 'latin1');
}

async function parse(text: string): Promise<ParseResult> {
  return parseComplaint(Buffer.from(text, 'latin1'));
}

async function report(text: string): Promise<ParsedComplaint> {
  const r = await parse(text);
  if (!r.ok) throw new Error(`expected ok:true, got ok:false: ${r.reason}`);
  return r.report;
}

const d = (iso: string): Date => new Date(iso);
const none = (address: string) => ({ raw: address, address, redaction: 'none' as const });

describe('fixtures', () => {
  it('has all 14 samples', () => {
    expect(fixtureFiles).toHaveLength(14);
  });

  it('01 RFC draft example: Received-Date, Reported-Uri, Removal-Recipient', async () => {
    const r = await report(fixture(1));
    expect(r).toMatchObject({
      format: 'arf',
      feedbackType: 'abuse',
      isComplaint: true,
      spamtrap: false,
      reporter: { from: 'abusedesk@example.com', userAgent: 'SomeGenerator/1.0', version: '1' },
      arrivalDate: d('2005-03-08T18:00:00Z'),
      sourceIp: '192.0.2.2',
      sourceIpFrom: 'field',
      incidents: 1,
      originalMailFrom: 'somespammer@example.net',
      recipients: [{ raw: '<user@example.com>', address: 'user@example.com', redaction: 'none' }],
      reportedDomains: ['example.net'],
      reportedUris: ['http://example.net/earn_money.html', 'mailto:user@example.com'],
      authFailure: null,
    });
    expect(r.original).toMatchObject({
      present: 'full',
      messageId: '8787KJKJ3K4J3K4J3K4J3.mail@example.net',
      from: 'somespammer@example.net',
      subject: 'Earn money',
      date: d('2004-09-02T17:31:03Z'),
      receivedIps: ['192.0.2.2'],
    });
    expect(r.original.headerText).toContain('Received: from mailserver.example.net');
    expect(r.warnings).toContain('historic Received-Date used as Arrival-Date');
  });

  it('02 malformed (part 3 text/plain, nothing attributable) is rejected with a clear reason', async () => {
    expect(await parse(fixture(2))).toEqual({ ok: false, reason: 'third part is text/plain, not message/rfc822 or text/rfc822-headers' });
  });

  it('03 AOL SComp: mbox From line, redacted recipient, Version 0.1', async () => {
    const r = await report(fixture(3));
    expect(r).toMatchObject({
      format: 'arf',
      feedbackType: 'abuse',
      isComplaint: true,
      reporter: { from: 'scomp@aol.net', userAgent: 'AOL SComp', version: '0.1' },
      reportMessageId: '20160119193302.5D0103C910F@correo.domain2.tld',
      arrivalDate: d('2016-01-19T19:32:40Z'),
      sourceIp: '10.17.18.1',
      sourceIpFrom: 'field',
      originalMailFrom: null,
      recipients: [{ raw: 'redacted@welovetotravel.net', address: null, redaction: 'redacted' }],
      reportedDomains: ['server.domain5.tld'],
    });
    expect(r.original).toMatchObject({
      present: 'full',
      from: 'tecnic2@domain4.tld',
      returnPath: 'tecnic2@domain4.tld',
      messageId: '20160119143236.14076@une.com.co',
      subject: 'Ati primit un cupon! nlm',
      to: ['redacted@welovetotravel.net'],
      receivedIps: ['10.17.18.1', '181.142.199.114'],
    });
    expect(r.warnings).toEqual(
      expect.arrayContaining([
        'mbox "From " first line stripped',
        'Version 0.1 (pre-RFC 5965 draft) accepted',
        'historic Received-Date used as Arrival-Date',
        'the reporter redacted the recipient address (Redacted-Address)',
      ]),
    );
  });

  it('04 Comcast / Return Path: hashed recipient, Arrival-Date', async () => {
    const r = await report(fixture(4));
    expect(r).toMatchObject({
      format: 'arf',
      feedbackType: 'abuse',
      isComplaint: true,
      reporter: { userAgent: 'ReturnPathFBL/1.0', version: '1' },
      arrivalDate: d('2016-01-19T15:14:53Z'),
      sourceIp: '10.17.18.6',
      sourceIpFrom: 'field',
      originalMailFrom: 'sadie_hubbard@server.domain4.tld',
      recipients: [{ raw: '27a4767fd6480dcd6301d3711503069b@comcast.net', address: null, redaction: 'hashed' }],
      reportedDomains: ['comcast.net'],
    });
    expect(r.original).toMatchObject({
      present: 'full',
      from: 'sadie_hubbard@server.domain4.tld',
      messageId: 'fa9121b71ba983a725e126ff52023ee8@server.domain4.tld',
      to: ['27a4767fd6480dcd6301d3711503069b@comcast.net'],
      receivedIps: ['96.114.154.194', '96.114.154.135', '10.17.18.6'],
    });
  });

  it('05 Zoho: minimal report, headers-only original, recipient from the original To', async () => {
    const r = await report(fixture(5));
    expect(r).toMatchObject({
      format: 'arf',
      feedbackType: 'abuse',
      reporter: { userAgent: 'Zoho Mail', version: '0.1' },
      arrivalDate: d('2015-09-07T15:58:04Z'),
      sourceIp: '10.17.18.28',
      sourceIpFrom: 'field',
      originalMailFrom: null,
      recipients: [none('orihuela@domain4.tld')],
      reportedDomains: [],
    });
    expect(r.original).toMatchObject({
      present: 'headers',
      from: 'orihuela@domain4.tld',
      subject: 'NECESITAS TINTA/TONER..AQUI TIENES LA MEJOR ATENCIÓN.',
      messageId: '004701d0e986$181bf800$4853e800$@com',
    });
    expect(r.warnings).toContain("no Original-Rcpt-To; recipients taken from the original's To header");
  });

  it('06 Yahoo CFL: no Source-IP, IP from the original headers, PST Received-Date', async () => {
    const r = await report(fixture(6));
    expect(r).toMatchObject({
      format: 'arf',
      feedbackType: 'abuse',
      reporter: { from: 'feedback@arf.mail.yahoo.com', userAgent: 'Yahoo!-Mail-Feedback/1.0', version: '0.1' },
      arrivalDate: d('2013-04-30T07:45:50Z'),
      sourceIp: '192.0.2.8',
      sourceIpFrom: 'original-headers',
      originalMailFrom: 'shironeko@example.com',
      recipients: [none('this-local-part-does-not-exist-on-yahoo@yahoo.com')],
      reportedDomains: ['example.com'],
    });
    expect(r.original).toMatchObject({ present: 'full', from: 'shironeko@example.com', receivedIps: ['192.0.2.8'], dkimDomains: [] });
  });

  it('07 Yahoo CFL via Amazon SES: VERP Original-Mail-From, IP from the Received chain', async () => {
    const r = await report(fixture(7));
    expect(r).toMatchObject({
      format: 'arf',
      reporter: { from: 'complaints@email-abuse.amazonses.com', userAgent: 'Yahoo!-Mail-Feedback/2.0' },
      arrivalDate: d('2017-04-29T23:34:45Z'),
      sourceIp: '192.0.2.2',
      sourceIpFrom: 'original-headers',
      originalMailFrom: '2222222222222222-22222222-0000-eeee-ffff-222222222222-222222@amazonses.com',
      recipients: [none('kijitora@y.example.com')],
      reportedDomains: ['amazonses.com'],
    });
    // the original's DKIM-Signature has no d= tag
    expect(r.original).toMatchObject({ present: 'full', from: 'kijitora@example.jp', receivedIps: ['192.0.2.2', '192.0.2.1'], dkimDomains: [] });
  });

  it('08 Return Path: seven recipients, two reported domains', async () => {
    const r = await report(fixture(8));
    expect(r).toMatchObject({
      format: 'arf',
      feedbackType: 'abuse',
      arrivalDate: d('2015-04-29T23:34:45Z'),
      sourceIp: '192.0.2.1',
      sourceIpFrom: 'field',
      originalMailFrom: 'neko@example.jp',
      reportedDomains: ['example.com', 'example.org'],
    });
    expect(r.recipients).toEqual(
      ['kijitora@example.com', 'sironeko@example.com', 'mikeneko@example.com', 'sabatora@example.com', 'sirokiji@example.org', 'kuroneko@example.com', 'sabineko@example.com'].map(none),
    );
    expect(r.original).toMatchObject({ present: 'full', from: 'neko@example.jp', messageId: 'ffffffffffffffffffffffff0000000@example.jp' });
  });

  it('09 Rackspace (Return Path v2): Source-Ip spelling, hashed@, REDACTED original', async () => {
    const r = await report(fixture(9));
    expect(r).toMatchObject({
      format: 'arf',
      feedbackType: 'abuse',
      isComplaint: true,
      reporter: { userAgent: 'ReturnPathFBL/2.0', version: '1' },
      arrivalDate: d('2020-10-31T18:02:57Z'),
      sourceIp: '10.0.0.1',
      sourceIpFrom: 'field',
      originalMailFrom: 'alice@example.com',
      recipients: [{ raw: 'hashed@example.com', address: null, redaction: 'hashed' }],
      reportedDomains: ['example.com'],
    });
    expect(r.original).toMatchObject({ present: 'redacted', messageId: null, from: null, headerText: null });
  });

  it('10 abusix spamtrap hit', async () => {
    const r = await report(fixture(10));
    expect(r).toMatchObject({
      format: 'arf',
      feedbackType: 'abuse',
      isComplaint: true,
      spamtrap: true,
      reporter: { userAgent: 'abusix-py/0.1' },
      reportMessageId: '000000-FFFFFF-22-ARF',
      arrivalDate: d('2016-04-29T23:34:45Z'),
      sourceIp: '192.0.2.3',
      sourceIpFrom: 'field',
      originalMailFrom: 'sironeko@example.jp',
      recipients: [none('kijitora@example.com'), none('sabatora@example.net')],
      reportedDomains: [],
    });
    expect(r.original).toMatchObject({ present: 'full', messageId: 'EEEEEEEE-0000-0000-0000-EEEEEEEE2222@example.net' });
  });

  it('11 opt-out: Removal-Recipient, misspelled text/rfc822-header, no date', async () => {
    const r = await report(fixture(11));
    expect(r).toMatchObject({
      format: 'arf',
      feedbackType: 'opt-out',
      isComplaint: false,
      reporter: { userAgent: 'ARF-Agent/1.0', version: '0.1' },
      arrivalDate: null,
      sourceIp: '192.0.2.89',
      sourceIpFrom: 'original-headers',
      recipients: [none('user@example.com')],
    });
    expect(r.original).toMatchObject({ present: 'headers', from: 'shironeko@example.net', messageId: '0000000000000000000000000@example.net' });
    expect(r.warnings).toEqual(
      expect.arrayContaining(['third part labelled text/rfc822-header (misspelling of text/rfc822-headers)', 'no Arrival-Date or Received-Date field']),
    );
  });

  it('12 DMARC auth-failure: classified, not a complaint', async () => {
    const r = await report(fixture(12));
    expect(r).toMatchObject({
      format: 'arf',
      feedbackType: 'auth-failure',
      isComplaint: false,
      authFailure: 'dmarc',
      reporter: { userAgent: 'Lua/1.0', version: '1.0' },
      arrivalDate: d('2015-04-29T23:34:45Z'),
      sourceIp: '192.0.2.222',
      sourceIpFrom: 'field',
      originalMailFrom: 'sironeko@example.org',
      recipients: [none('kijitora@example.com')],
      reportedDomains: ['example.net'],
    });
    expect(r.original).toMatchObject({ present: 'full', receivedIps: ['192.0.2.222'] });
  });

  it('13 legacy Hotmail JMRP', async () => {
    const r = await report(fixture(13));
    expect(r).toMatchObject({
      format: 'jmrp',
      feedbackType: 'abuse',
      isComplaint: true,
      reporter: { from: 'staff@hotmail.com', userAgent: null, version: null },
      arrivalDate: d('2016-04-29T23:34:45Z'),
      sourceIp: '192.0.2.222',
      sourceIpFrom: 'subject',
      recipients: [none('kijitora@example.com')],
    });
    expect(r.original).toMatchObject({
      present: 'full',
      from: 'sironeko@example.com',
      messageId: '0000000000fffffffff0000000000000@example.com',
      receivedIps: ['203.0.113.245'],
    });
  });

  it('14 Apple unsubscribe mail: not a report, not a complaint', async () => {
    const r = await report(fixture(14));
    expect(r).toMatchObject({
      format: 'unsubscribe',
      feedbackType: 'unsubscribe',
      isComplaint: false,
      spamtrap: false,
      reporter: { from: 'example@icloud.com' },
      recipients: [none('example@icloud.com')],
      reportedDomains: ['example.org'],
      reportedUris: ['mailto:opt-out-100731.e75std53hz8rnmy4r@example.org'],
      sourceIp: null,
      sourceIpFrom: null,
    });
    expect(r.original.present).toBe('missing');
  });
});

// ---------------------------------------------------------------------------------------------------------------

const CPANEL_ORIGINAL = [
  'Return-Path: <info@bluefin.example>',
  'Received: from mx1.recipient.example (mx1.recipient.example [198.51.100.20])',
  '\tby store3.recipient.example with LMTP; Tue, 3 Mar 2026 10:15:03 +0000',
  'Received: from cp1.example.net (cp1.example.net [203.0.113.10])',
  '\tby mx1.recipient.example (Postfix) with ESMTPS id 4F1C2;',
  '\tTue, 3 Mar 2026 10:15:02 +0000 (UTC)',
  'Received: from [198.51.100.77] (port=51234 helo=[192.168.1.10])',
  '\tby cp1.example.net with esmtpsa (TLS1.3) tls TLS_AES_256_GCM_SHA384 (Exim 4.98)',
  '\t(envelope-from <info@bluefin.example>)',
  '\tid 1vXyZ-0001Ab-2c',
  '\tfor alice@recipient.example; Tue, 03 Mar 2026 10:15:01 +0000',
  'DKIM-Signature: v=1; a=rsa-sha256; q=dns/txt; c=relaxed/relaxed; d=bluefin.example;',
  '\ts=default; h=Subject:To:From:Date:Message-ID;',
  '\tbh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=dGVzdA==',
  'DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=CP1.Example.NET; s=x;',
  '\th=From; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=dGVzdA==',
  'X-AntiAbuse: This header was added to track abuse, please include it with any abuse report',
  'X-AntiAbuse: Primary Hostname - cp1.example.net',
  'X-AntiAbuse: Original Domain - recipient.example',
  'X-AntiAbuse: Originator/Caller UID/GID - [47 12] / [47 12]',
  'X-AntiAbuse: Sender Address Domain - bluefin.example',
  'X-Get-Message-Sender-Via: cp1.example.net: authenticated_id: info@bluefin.example',
  'X-Authenticated-Sender: cp1.example.net: info@bluefin.example',
  'From: Bluefin Deals <info@bluefin.example>',
  'To: alice@recipient.example',
  'Subject: =?UTF-8?Q?Gro=C3=9Fe_Rabatte?= =?UTF-8?Q?_heute?=',
  'Date: Tue, 3 Mar 2026 10:15:00 +0000',
  'Message-ID: <deal-42@bluefin.example>',
  'MIME-Version: 1.0',
  'Content-Type: text/plain; charset=UTF-8',
  '',
  'Huge discounts today only!',
  '',
].join('\n');

function forwardWithAttachment(from: string): string {
  return [
    `From: Alice <${from}>`,
    'To: abuse@host.example',
    'Subject: Fwd: Große Rabatte heute',
    'Date: Tue, 3 Mar 2026 11:00:00 +0000',
    'Message-ID: <fwd-1@recipient.example>',
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="fwd-boundary"',
    '',
    '--fwd-boundary',
    'Content-Type: text/plain; charset=UTF-8',
    '',
    'Please make them stop, I never signed up.',
    '',
    '--fwd-boundary',
    'Content-Type: message/rfc822',
    'Content-Disposition: attachment; filename="spam.eml"',
    '',
    CPANEL_ORIGINAL,
    '--fwd-boundary--',
    '',
  ].join('\n');
}

const ANTI_ABUSE = {
  senderDomain: 'bluefin.example',
  authenticatedUser: 'info@bluefin.example',
  authenticatedSender: 'info@bluefin.example',
  caller: '[47 12] / [47 12]',
};

function toCrlf(s: string): string {
  return s.replace(/\r?\n/g, '\r\n');
}

describe('variants', () => {
  it('CRLF line endings give the same result for every fixture', async () => {
    for (let n = 1; n <= 14; n++) {
      const lf = await parse(fixture(n));
      const crlf = await parse(toCrlf(fixture(n)));
      expect(crlf, `fixture ${n}`).toEqual(lf);
    }
  });

  it('field names in other cases (feedback report and top-level headers)', async () => {
    const text = fixture(8)
      .replace('Content-Type: multipart/report', 'CONTENT-TYPE: multipart/report')
      .replace('Feedback-Type: abuse', 'FEEDBACK-TYPE: abuse')
      .replace('Source-IP:', 'source-ip:')
      .replace('Arrival-Date:', 'ARRIVAL-date:')
      .replace('Original-Mail-From:', 'original-mail-from:')
      .replaceAll('Original-Rcpt-To:', 'ORIGINAL-RCPT-TO:')
      .replaceAll('Reported-Domain:', 'reported-DOMAIN:')
      .replace('Content-Type: message/feedback-report', 'content-type: MESSAGE/Feedback-Report');
    const r = await report(text);
    const base = await report(fixture(8));
    expect(r).toEqual(base);
  });

  it('both Arrival-Date and Received-Date: Arrival-Date wins, with a warning', async () => {
    const text = fixture(8).replace('Arrival-Date: Thu, 29 Apr 2015 23:34:45 +0000', 'Arrival-Date: Thu, 29 Apr 2015 23:34:45 +0000\nReceived-Date: Wed, 28 Apr 2015 10:00:00 +0000');
    const r = await report(text);
    expect(r.arrivalDate).toEqual(d('2015-04-29T23:34:45Z'));
    expect(r.warnings).toContain('both Arrival-Date and Received-Date present (malformed per RFC 5965); Arrival-Date used');
  });

  it('multiple DKIM signatures and cPanel X-AntiAbuse headers in an ARF original', async () => {
    const text = fixture(6).replace(
      /Content-Type: message\/rfc822\n\n[\s\S]*?\n\n--_----------=F000000000000000000000--/,
      `Content-Type: message/rfc822\n\n${CPANEL_ORIGINAL}\n--_----------=F000000000000000000000--`,
    );
    const r = await report(text);
    expect(r.original.dkimDomains).toEqual(['bluefin.example', 'cp1.example.net']);
    expect(r.original.antiAbuse).toEqual(ANTI_ABUSE);
    expect(r.original).toMatchObject({
      present: 'full',
      from: 'info@bluefin.example',
      returnPath: 'info@bluefin.example',
      subject: 'Große Rabatte heute',
      messageId: 'deal-42@bluefin.example',
      date: d('2026-03-03T10:15:00Z'),
      to: ['alice@recipient.example'],
      receivedIps: ['198.51.100.20', '203.0.113.10', '198.51.100.77', '192.168.1.10'],
    });
    // no Source-IP in the Yahoo report: the first hop that is not internal to recipient.example
    expect(r).toMatchObject({ sourceIp: '203.0.113.10', sourceIpFrom: 'original-headers' });
  });

  it('forwarded abuse mail with a message/rfc822 attachment', async () => {
    const r = await report(forwardWithAttachment('alice@recipient.example'));
    expect(r).toMatchObject({
      format: 'forwarded',
      feedbackType: 'abuse',
      isComplaint: true,
      spamtrap: false,
      reporter: { from: 'alice@recipient.example', userAgent: null },
      reportMessageId: 'fwd-1@recipient.example',
      recipients: [none('alice@recipient.example')],
      sourceIp: '203.0.113.10',
      sourceIpFrom: 'original-headers',
      arrivalDate: d('2026-03-03T10:15:03Z'),
    });
    expect(r.original).toMatchObject({
      present: 'full',
      from: 'info@bluefin.example',
      subject: 'Große Rabatte heute',
      dkimDomains: ['bluefin.example', 'cp1.example.net'],
      antiAbuse: ANTI_ABUSE,
    });
  });

  it('forwarded from another mailbox: the attached message To names the complainant', async () => {
    const r = await report(forwardWithAttachment('alice.private@gmail.example'));
    expect(r.reporter.from).toBe('alice.private@gmail.example');
    expect(r.recipients).toEqual([none('alice@recipient.example')]);
    expect(r.warnings.some((w) => w.startsWith("complainant taken from the forwarded message's To"))).toBe(true);
  });

  it('forwarded inline (Gmail "Forwarded message" block)', async () => {
    const text = [
      'From: Bob <bob@customer.example>',
      'To: abuse@host.example',
      'Subject: Fwd: Cheap pills',
      'Date: Tue, 3 Mar 2026 09:00:00 +0000',
      'Message-ID: <fwd-2@customer.example>',
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=UTF-8',
      '',
      'Please look at this.',
      '',
      '---------- Forwarded message ---------',
      'From: Pharmacy <sales@pills.example>',
      'Date: Mon, 2 Mar 2026 08:00:00 +0100',
      'Subject: Cheap pills',
      'To: <bob@customer.example>',
      '',
      'Buy now!!!',
      '',
    ].join('\n');
    const r = await report(text);
    expect(r).toMatchObject({
      format: 'forwarded',
      feedbackType: 'abuse',
      isComplaint: true,
      recipients: [none('bob@customer.example')],
      sourceIp: null,
      sourceIpFrom: null,
      arrivalDate: null,
    });
    expect(r.original).toMatchObject({
      present: 'full',
      from: 'sales@pills.example',
      subject: 'Cheap pills',
      date: d('2026-03-02T07:00:00Z'),
      to: ['bob@customer.example'],
    });
  });

  it('forwarded inline in an HTML-only, base64 body ("Begin forwarded message:")', async () => {
    const html =
      '<div>Spam again</div><div><br><blockquote type="cite"><div>Begin forwarded message:</div><br>' +
      '<div><b>From: </b>Loans &lt;offers@loans.example&gt;</div><div><b>Subject: </b>Instant approval</div>' +
      '<div><b>Date: </b>3 March 2026 at 07:00:00 GMT</div><div><b>To: </b>carol@customer.example</div><br>' +
      '<div>Apply now</div></blockquote></div>';
    const text = [
      'From: carol@customer.example',
      'To: abuse@host.example',
      'Subject: Fwd: Instant approval',
      'Content-Type: text/html; charset=utf-8',
      'Content-Transfer-Encoding: base64',
      '',
      Buffer.from(html).toString('base64').replace(/.{76}/g, '$&\n'),
      '',
    ].join('\n');
    const r = await report(text);
    expect(r.format).toBe('forwarded');
    expect(r.original).toMatchObject({ from: 'offers@loans.example', subject: 'Instant approval', to: ['carol@customer.example'] });
    expect(r.recipients).toEqual([none('carol@customer.example')]);
  });

  it('an ARF report forwarded as an attachment is parsed as ARF', async () => {
    const text = [
      'From: postmaster@customer.example',
      'To: abuse@host.example',
      'Subject: Fwd: Abuse Report',
      'Content-Type: multipart/mixed; boundary="outer"',
      '',
      '--outer',
      'Content-Type: text/plain',
      '',
      'FYI',
      '--outer',
      'Content-Type: message/rfc822',
      '',
      fixture(8),
      '--outer--',
      '',
    ].join('\n');
    const r = await report(text);
    expect(r).toMatchObject({ format: 'arf', sourceIp: '192.0.2.1', reporter: { from: 'feedbackloop@feedback.example.com' } });
    expect(r.warnings).toContain('ARF report found inside a forwarded message (attached by postmaster@customer.example)');
  });

  it('fixture 02 is accepted (with warnings) once the report names the sender', async () => {
    const r = await report(fixture(2).replace('Feedback-Type: abuse', 'Feedback-Type: abuse\nSource-IP: 192.0.2.55'));
    expect(r).toMatchObject({ format: 'arf', sourceIp: '192.0.2.55', sourceIpFrom: 'field', original: { present: 'missing' } });
    expect(r.warnings).toEqual(
      expect.arrayContaining([
        'no User-Agent field',
        'no Version field',
        'third part is text/plain, not message/rfc822 or text/rfc822-headers; accepted because the report still names the sender',
      ]),
    );
  });

  it('a text/plain third part that holds a header block is read as the original', async () => {
    const r = await report(fixture(2).replace('This is the original message.', 'From: spammer@bad.example\nSubject: hi\nMessage-ID: <x1@bad.example>\n\nbody'));
    expect(r.original).toMatchObject({ present: 'full', from: 'spammer@bad.example', messageId: 'x1@bad.example' });
  });

  it('Feedback-Type values: fraud/virus complain, not-spam does not, unknown is other', async () => {
    const as = async (ft: string) => report(fixture(8).replace('Feedback-Type: abuse', `Feedback-Type: ${ft}`));
    expect((await as('fraud')).isComplaint).toBe(true);
    expect((await as('Virus')).feedbackType).toBe('virus');
    expect(await as('not-spam')).toMatchObject({ feedbackType: 'not-spam', isComplaint: false });
    const other = await as('weird-thing');
    expect(other).toMatchObject({ feedbackType: 'other', isComplaint: false });
    expect(other.warnings).toContain('unknown Feedback-Type "weird-thing" treated as other');
  });

  it('Incidents, Reporting-MTA, reordered and quoted Content-Type parameters', async () => {
    const text = fixture(1)
      .replace('Content-Type: multipart/report; report-type=feedback-report;\n     boundary="part1_13d.2e68ed54_boundary"', 'Content-Type: multipart/report; boundary*0="part1_13d."; boundary*1="2e68ed54_boundary";\n (comment) Report-Type="Feedback-Report"')
      .replace('\nVersion: 1\n', '\nVersion: 1\nIncidents: 3\nReporting-MTA: dns; mail.example.com\n');
    const r = await report(text);
    expect(r).toMatchObject({ format: 'arf', incidents: 3, reporter: { reportingMta: 'mail.example.com' } });
  });

  it('a delivery-status report (bounce) is not a complaint', async () => {
    const text = [
      'From: MAILER-DAEMON@host.example',
      'To: abuse@host.example',
      'Subject: Undelivered Mail Returned to Sender',
      'Content-Type: multipart/report; report-type=delivery-status; boundary="b"',
      '',
      '--b',
      'Content-Type: text/plain',
      '',
      'Delivery failed.',
      '--b',
      'Content-Type: message/delivery-status',
      '',
      'Reporting-MTA: dns; host.example',
      '--b',
      'Content-Type: message/rfc822',
      '',
      'From: a@b.example',
      'Subject: x',
      '',
      'y',
      '--b--',
      '',
    ].join('\n');
    const r = await report(text);
    expect(r).toMatchObject({ format: 'unknown', feedbackType: 'other', isComplaint: false });
  });

  it('a free-text complaint without the offending message is unknown', async () => {
    const r = await report('From: angry@customer.example\nTo: abuse@host.example\nSubject: stop spamming me\n\nYou keep sending me junk.\n');
    expect(r).toMatchObject({ format: 'unknown', feedbackType: 'other', isComplaint: false, reporter: { from: 'angry@customer.example' } });
  });
});

describe('rejections', () => {
  it.each([
    ['empty input', '', 'empty input'],
    ['whitespace', ' \n\n \n', 'empty input (whitespace only)'],
    ['binary', '\x00\x01\x02PK\x03\x04\x00\x00binary', 'not an email message: binary data (NUL bytes) in the header block'],
    ['prose', 'Hello there, this is not a mail.\n\nBye', 'not an email message: the first line is not a header field'],
    ['no separation', 'From: a@b.example\nSubject: x\nTo: c@d.example', 'not an email message: no empty line separates the header block from the body'],
    ['no mail headers', 'Foo: bar\n\nbody', 'not an email message: no From, To, Subject, Date, Message-ID, Received or Content-Type header'],
  ])('%s', async (_name, text, reason) => {
    expect(await parse(text)).toEqual({ ok: false, reason });
  });

  it('multipart/report without a message/feedback-report part', async () => {
    const text = fixture(1).replace('Content-Type: message/feedback-report', 'Content-Type: application/octet-stream');
    expect(await parse(text)).toEqual({ ok: false, reason: 'multipart/report without a message/feedback-report part' });
  });

  it('feedback report without Feedback-Type', async () => {
    expect(await parse(fixture(8).replace('Feedback-Type: abuse\n', ''))).toEqual({
      ok: false,
      reason: 'message/feedback-report part has no Feedback-Type field',
    });
  });

  it('non-Buffer input and internal exceptions become ok:false', async () => {
    expect(await parseComplaint(undefined as unknown as Buffer)).toEqual({ ok: false, reason: 'input is not a Buffer' });
    const evil = Buffer.from(fixture(1));
    evil.toString = () => {
      throw new Error('boom');
    };
    expect(await parseComplaint(evil)).toEqual({ ok: false, reason: 'parser error: Error: boom' });
  });
});

describe('helpers', () => {
  it.each([
    ['Thu, 8 Mar 2005 14:00:00 EDT', '2005-03-08T18:00:00Z'],
    ['Tue, 19 Jan 2016 14:32:40 -0500 (EST)', '2016-01-19T19:32:40Z'],
    ['Thu, 29 Apr 2013 23:45:50 PST', '2013-04-30T07:45:50Z'],
    ['Thu, 9 Apr 2006 23:34:45 JST', '2006-04-09T14:34:45Z'],
    ['29 Apr 2016 23:34:45.0000 (UTC) FILETIME=[FFFFFFFF:00000000]', '2016-04-29T23:34:45Z'],
    ['Tue Jan 19 19:32:49 2016', '2016-01-19T19:32:49Z'],
    ['Monday, March 8, 2021 10:05 PM', '2021-03-08T22:05:00Z'],
    ['3 March 2026 at 07:00:00 GMT', '2026-03-03T07:00:00Z'],
    ['2016-01-19T15:14:53+01:00', '2016-01-19T14:14:53Z'],
    ['Thu, 8 Mar 05 14:00:00 +0000', '2005-03-08T14:00:00Z'],
  ])('parseDate(%j)', (input, iso) => {
    expect(parseDate(input)?.date.toISOString()).toBe(new Date(iso).toISOString());
  });

  it('parseDate rejects impossible dates and flags a missing zone', () => {
    expect(parseDate('Mon, 30 Feb 2015 10:00:00 +0000')).toBeNull();
    expect(parseDate('yesterday')).toBeNull();
    expect(parseDate('Tue, 19 Jan 2016 14:32:34')).toEqual({ date: new Date('2016-01-19T14:32:34Z'), assumedUtc: true });
  });

  it('IPs: normalisation and public-looking ranges', () => {
    expect(normalizeIp('[192.0.2.222:222]')).toBe('192.0.2.222');
    expect(normalizeIp('IPv6:2001:DB8::1')).toBe('2001:db8::1');
    expect(normalizeIp('::ffff:198.51.100.7')).toBe('198.51.100.7');
    expect(normalizeIp('AA.BB.CC.6')).toBeNull();
    expect(['10.1.2.3', '127.0.0.1', '172.20.0.1', '192.168.1.1', '100.64.0.1', 'fe80::1', 'fd00::1'].map(isPublicLooking)).toEqual(Array(7).fill(false));
    expect(['203.0.113.10', '8.8.8.8', '2001:db8::1', '2a00:1450::1'].map(isPublicLooking)).toEqual(Array(4).fill(true));
    expect([orgDomain('mx1.mail.example.co.uk'), orgDomain('resimta-po-07v.sys.comcast.net')]).toEqual(['example.co.uk', 'comcast.net']);
  });

  it('Content-Type parameters: order, quoting, comments, RFC 2231', () => {
    const ct = parseContentType('Multipart/Report; boundary="a\\\"b;c" (note); REPORT-TYPE = feedback-report; title*=utf-8\'en\'%C3%A9t%C3%A9');
    expect(ct.type).toBe('multipart/report');
    expect(Object.fromEntries(ct.params)).toEqual({ boundary: 'a"b;c', 'report-type': 'feedback-report', title: 'été' });
    expect(parseContentType('text/plain; name*0="a"; name*1="b.eml"').params.get('name')).toBe('ab.eml');
    expect(parseContentType('garbage').type).toBe('');
  });

  it('RFC 2047 words: adjacent words joined, unknown charsets tolerated', () => {
    expect(decodeWords('=?UTF-8?B?w6k=?= =?UTF-8?Q?t=C3=A9?= x')).toBe('été x');
    expect(decodeWords('=?x-nope?Q?abc?=')).toBe('abc');
    expect(decodeWords('=?utf-8?q?unterminated')).toBe('=?utf-8?q?unterminated');
  });

  it('multipart boundaries must be followed by "--", blanks or a line end', () => {
    const split = splitMultipart('pre\n--abc\nA\n--abcd\nstill A\n--abc  \nB\n--abc--\nepilogue', 'abc');
    expect(split).toEqual({ parts: ['A\n--abcd\nstill A', 'B'], found: true, closed: true, truncated: false });
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Fuzz

const FORMATS = new Set(['arf', 'jmrp', 'forwarded', 'unsubscribe', 'unknown']);
const FEEDBACK = new Set(['abuse', 'fraud', 'virus', 'other', 'not-spam', 'auth-failure', 'opt-out', 'unsubscribe']);

/** Problems with a result, or null. */
function check(r: unknown): string | null {
  if (!r || typeof r !== 'object') return 'not an object';
  const res = r as ParseResult;
  if (res.ok === false) {
    if (typeof res.reason !== 'string' || res.reason.trim() === '') return 'empty reason';
    if (res.reason.startsWith('parser error')) return `internal error: ${res.reason}`;
    return null;
  }
  if (res.ok !== true) return 'ok is not boolean';
  const p = res.report;
  if (!FORMATS.has(p.format) || !FEEDBACK.has(p.feedbackType)) return `bad format/feedbackType ${p.format}/${p.feedbackType}`;
  if (p.isComplaint !== ['abuse', 'fraud', 'virus'].includes(p.feedbackType)) return 'isComplaint inconsistent';
  if (p.arrivalDate !== null && Number.isNaN(p.arrivalDate.getTime())) return 'invalid arrivalDate';
  if (p.original.date !== null && Number.isNaN(p.original.date.getTime())) return 'invalid original.date';
  if (p.sourceIp !== null && isIP(p.sourceIp) === 0) return `invalid sourceIp ${p.sourceIp}`;
  if ((p.sourceIp === null) !== (p.sourceIpFrom === null)) return 'sourceIp/sourceIpFrom inconsistent';
  if (!Number.isSafeInteger(p.incidents) || p.incidents < 1) return 'bad incidents';
  if (p.original.headerText !== null && p.original.headerText.length > 64 * 1024) return 'headerText over 64 KiB';
  if (!Array.isArray(p.warnings) || p.warnings.some((w) => typeof w !== 'string')) return 'bad warnings';
  for (const rec of p.recipients) if (rec.redaction !== 'none' && rec.address !== null) return 'redacted recipient with an address';
  JSON.stringify(p);
  return null;
}

describe('fuzz', () => {
  const SEED = Number(process.env.FUZZ_SEED ?? 20260303) >>> 0;
  const CASES = 10_000;

  it(`10,000 mutated messages never throw and always resolve to a well-formed result (seed ${SEED})`, async () => {
    const bases = [...Array.from({ length: 14 }, (_, i) => fixture(i + 1)), forwardWithAttachment('alice@recipient.example')];
    const failures: string[] = [];
    const counts = { ok: 0, fail: 0 };
    const reasons = new Map<string, number>();
    const reasonExample = new Map<string, number>();
    let parseMs = 0;
    let slowest = { ms: 0, index: -1, size: 0 };
    const started = performance.now();
    // FUZZ_INDEX=n replays one case and writes its input next to the system temp dir for inspection
    const only = process.env.FUZZ_INDEX !== undefined ? Number(process.env.FUZZ_INDEX) : null;
    const slow: Array<[number, number, string]> = [];
    for (let i = only ?? 0; i < (only !== null ? only + 1 : CASES); i++) {
      // one PRNG per case, so any index can be replayed alone
      const rnd = prng((SEED ^ Math.imul(i + 1, 0x9e3779b1)) >>> 0);
      let input: string;
      const special = rnd();
      if (special < 0.005) input = '';
      else if (special < 0.01) input = deepNest(200, bases[Math.floor(rnd() * bases.length)]!);
      else input = mutate(bases[Math.floor(rnd() * bases.length)]!, rnd);
      const buf = Buffer.from(input, 'latin1');
      const t0 = performance.now();
      let problem: string | null;
      try {
        const r = await parseComplaint(buf);
        problem = check(r);
        if (r.ok) counts.ok++;
        else {
          counts.fail++;
          const key = r.reason.replace(/"[^"]*"/g, '"…"').replace(/\d+/g, 'N');
          reasons.set(key, (reasons.get(key) ?? 0) + 1);
          if (!reasonExample.has(key)) reasonExample.set(key, i);
        }
      } catch (err) {
        problem = `threw: ${String(err)}`;
      }
      const ms = performance.now() - t0;
      parseMs += ms;
      if (process.env.FUZZ_VERBOSE) slow.push([ms, i, input.slice(0, 40)]);
      if (only !== null) {
        const file = path.join(os.tmpdir(), `arf-fuzz-${SEED}-${i}.eml`);
        fs.writeFileSync(file, buf);
        console.log(`fuzz case ${i} written to ${file}:`, JSON.stringify(await parseComplaint(buf)).slice(0, 4000));
      }
      if (ms > slowest.ms) slowest = { ms, index: i, size: buf.length };
      if (problem && failures.length < 20) failures.push(`seed ${SEED} index ${i}: ${problem}`);
    }
    const total = performance.now() - started;
    console.log(
      `fuzz: ${CASES} cases in ${(total / 1000).toFixed(1)} s, ${(parseMs / 1000).toFixed(1)} s of it parsing (seed ${SEED}); ` +
        `ok:true ${counts.ok}, ok:false ${counts.fail}; ` +
        `slowest ${slowest.ms.toFixed(1)} ms (index ${slowest.index}, ${slowest.size} bytes)`,
    );
    if (process.env.FUZZ_VERBOSE) {
      for (const [reason, n] of [...reasons].sort((a, b) => b[1] - a[1])) console.log(`  ${String(n).padStart(5)}  ${reason}  (e.g. index ${reasonExample.get(reason)})`);
      for (const [ms, i, head] of slow.sort((a, b) => b[0] - a[0]).slice(0, 10)) console.log(`  ${ms.toFixed(1)} ms  index ${i}  ${JSON.stringify(head)}`);
    }
    expect(failures, failures.join('\n')).toEqual([]);
  }, 180_000);
});
