import crypto from 'node:crypto';

export interface ArfReportInput {
  feedbackType?: string;
  userAgent?: string;
  /** The report mail's own sender. */
  reporter?: string;
  reportId?: string;
  arrival?: string;
  sourceIp?: string;
  mailFrom?: string;
  recipients?: string[];
  reportedDomain?: string;
  /** Message-ID of the reported (original) message. */
  messageId?: string;
  subject?: string;
  /** Adds a DKIM-Signature header with this d= to the original. */
  dkimDomain?: string;
  /** More headers of the original (X-AntiAbuse, From, …). */
  originalHeaders?: string[];
}

/** A standard ARF report (RFC 5965, CRLF line ends) with the original as text/rfc822-headers: the shape feedback loops send. */
export function arfReport(input: ArfReportInput): Buffer {
  const b = `arf-${crypto.randomBytes(4).toString('hex')}`;
  const fields = [
    `Feedback-Type: ${input.feedbackType ?? 'abuse'}`,
    `User-Agent: ${input.userAgent ?? 'TestFBL/1.0'}`,
    'Version: 1',
    `Arrival-Date: ${input.arrival ?? 'Thu, 01 Oct 2026 10:00:00 +0000'}`,
    input.sourceIp ? `Source-IP: ${input.sourceIp}` : null,
    input.mailFrom ? `Original-Mail-From: <${input.mailFrom}>` : null,
    ...(input.recipients ?? []).map((r) => `Original-Rcpt-To: ${r.includes('<') ? r : `<${r}>`}`),
    input.reportedDomain ? `Reported-Domain: ${input.reportedDomain}` : null,
  ].filter(Boolean);
  const original = [
    `Message-ID: <${input.messageId ?? `spam-${crypto.randomBytes(6).toString('hex')}@sender.example`}>`,
    `Subject: ${input.subject ?? 'Buy now'}`,
    'Date: Thu, 01 Oct 2026 09:59:00 +0000',
    ...(input.dkimDomain ? [`DKIM-Signature: v=1; a=rsa-sha256; d=${input.dkimDomain}; s=default; h=from:to:subject; bh=abc=; b=def=`] : []),
    ...(input.originalHeaders ?? []),
  ];
  return Buffer.from(
    [
      `From: ${input.reporter ?? 'fbl@isp.example'}`,
      'To: abuse@hosting.example',
      'Subject: FBL report',
      `Message-ID: <${input.reportId ?? `report-${crypto.randomBytes(6).toString('hex')}@isp.example`}>`,
      'MIME-Version: 1.0',
      `Content-Type: multipart/report; report-type=feedback-report; boundary="${b}"`,
      '',
      `--${b}`,
      'Content-Type: text/plain',
      '',
      'This is an email abuse report.',
      `--${b}`,
      'Content-Type: message/feedback-report',
      '',
      ...fields,
      '',
      `--${b}`,
      'Content-Type: text/rfc822-headers',
      '',
      ...original,
      '',
      `--${b}--`,
      '',
    ].join('\r\n'),
  );
}
