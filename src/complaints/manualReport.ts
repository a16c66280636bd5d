import crypto from 'node:crypto';
import { z } from 'zod';

/** The manual entry form: a complaint that arrived by phone, a web form or a letter. */
export const manualComplaintForm = z.object({
  feedbackType: z.enum(['abuse', 'fraud', 'virus'], { message: 'expects abuse, fraud or virus' }),
  reporter: z.string().trim().min(3, 'is required: who complained (a name or address)').max(200),
  recipient: z.string().trim().max(254).optional().transform((v) => v || undefined).pipe(z.email({ message: 'is not an email address' }).optional()),
  sendingDomain: z.string().trim().toLowerCase().max(191).regex(/^([a-z0-9-]+\.)+[a-z0-9-]+$/, 'expects a domain such as example.com').optional().or(z.literal('').transform(() => undefined)),
  sourceIp: z.union([z.ipv4(), z.ipv6()], { message: 'expects an IPv4 or IPv6 address' }).optional().or(z.literal('').transform(() => undefined)),
  arrivedAt: z.coerce.date({ message: 'expects a date and time' }),
  subject: z.string().trim().max(255).optional(),
  originalHeaders: z.string().max(64 * 1024, 'is too long (64 KiB at most)').optional(),
  notes: z.string().trim().min(3, 'is required: what happened and how you know').max(10_000),
});
export type ManualComplaint = z.infer<typeof manualComplaintForm>;

const headerSafe = (s: string) => s.replace(/[\r\n]+/g, ' ');

/**
 * Turns a manual entry into a standard ARF message (RFC 5965), so it takes the same path as every other
 * complaint: stored raw first, parsed, attributed, deduplicated and judged by the same code.
 */
export function buildManualReport(form: ManualComplaint, enteredBy: string, now: Date): Buffer {
  const boundary = `manual-${crypto.randomBytes(8).toString('hex')}`;
  const original = form.originalHeaders?.trim()
    ? form.originalHeaders.replace(/\r?\n/g, '\r\n').trim()
    : [
        form.sendingDomain ? `From: <unknown@${form.sendingDomain}>` : null,
        form.recipient ? `To: <${form.recipient}>` : null,
        form.subject ? `Subject: ${headerSafe(form.subject)}` : null,
        `Date: ${form.arrivedAt.toUTCString()}`,
      ]
        .filter(Boolean)
        .join('\r\n');
  const fields = [
    `Feedback-Type: ${form.feedbackType}`,
    'User-Agent: antispam-plugin-manual-entry/1.0',
    'Version: 1',
    `Arrival-Date: ${form.arrivedAt.toUTCString()}`,
    form.sourceIp ? `Source-IP: ${form.sourceIp}` : null,
    form.recipient ? `Original-Rcpt-To: <${form.recipient}>` : null,
    form.sendingDomain ? `Reported-Domain: ${form.sendingDomain}` : null,
  ].filter(Boolean);
  const lines = [
    `From: ${headerSafe(enteredBy)} (manual entry) <manual-entry@antispam.invalid>`,
    `Subject: Manual complaint entry: ${headerSafe(form.subject ?? form.reporter)}`.slice(0, 300),
    `Date: ${now.toUTCString()}`,
    `Message-ID: <manual.${now.getTime()}.${crypto.randomBytes(6).toString('hex')}@antispam.invalid>`,
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=feedback-report; boundary="${boundary}"`,
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
    '',
    `Entered by ${enteredBy}. Reporter: ${form.reporter}`,
    '',
    form.notes,
    '',
    `--${boundary}`,
    'Content-Type: message/feedback-report',
    '',
    ...fields,
    '',
    `--${boundary}`,
    'Content-Type: text/rfc822-headers',
    '',
    original,
    '',
    `--${boundary}--`,
    '',
  ];
  return Buffer.from(lines.join('\r\n'), 'utf8');
}
